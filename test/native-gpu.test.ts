// The GPU build (`npm run setup:native -- --gpu`): tfjs-node-gpu from the CUDA 12 tensorflow wheel.
// Where it is installed these tests load it for real: on a host without an NVIDIA driver it must
// load, say that TensorFlow sees no GPU, run on the CPU and agree with tfjs-node; on a GPU host it
// must report the device. Skipped (with the command to run) where the GPU build is absent.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nvidiaDriverPresent } from '../core/backend';
import { projectRoot } from '../core/paths';
import { describeGpu, verifyNative } from '../tools/native-backend';
import { GPU } from '../tools/native-wheels';

interface Probe {
  backend: { package: string; device: string; skipped: string[] };
  log: string[];
  losses: number[];
  numTensors: number;
}

function probe(backendPref: string): Probe {
  const script = path.join(projectRoot(), 'dist', 'test', 'helpers', 'backend-probe.js');
  const r = spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    env: { ...process.env, AUTOGAN_BACKEND: backendPref },
  });
  assert.equal(r.status, 0, `backend-probe (${backendPref}) failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Probe;
}

describe('GPU build of the native backend (tfjs-node-gpu)', function () {
  this.timeout(300_000);
  const gpuDir = path.join(projectRoot(), 'node_modules', '@tensorflow', 'tfjs-node-gpu');
  const driver = nvidiaDriverPresent();

  before(function () {
    if (!fs.existsSync(path.join(gpuDir, 'lib'))) {
      console.warn('      (tfjs-node-gpu is not installed: run `npm run setup:native -- --gpu`)');
      this.skip();
    }
  });

  it('has the CUDA runtime libraries unpacked beside deps/lib, with the wheels they came from', () => {
    for (const lib of ['cudnn', 'cublas', 'cuda_runtime', 'cufft', 'cusparse', 'cusolver', 'nvjitlink']) {
      const dir = path.join(gpuDir, 'deps', 'nvidia', lib, 'lib');
      const sos = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.so\.\d+/.test(f)) : [];
      assert.ok(sos.length > 0, `no shared library in ${dir}`);
    }
    const stamp = fs.readFileSync(path.join(gpuDir, 'deps', 'nvidia', '.source'), 'utf8');
    assert.equal(stamp.split('\n').length, GPU.cuda.length, 'one recorded wheel hash per CUDA wheel');
  });

  it('resolves every CUDA library TensorFlow opens through its RUNPATH, and their dependencies but the driver', () => {
    // Both TensorFlow libraries dlopen CUDA libraries (libtensorflow_cc.so.2 for cuSOLVER), each
    // through its own RUNPATH ($ORIGIN/../nvidia/<name>/lib, $ORIGIN being deps/lib).
    const libDir = path.join(gpuDir, 'deps', 'lib');
    const dirs = new Set<string>();
    for (const lib of ['libtensorflow_framework.so.2', 'libtensorflow_cc.so.2']) {
      const file = path.join(libDir, lib);
      const dyn = spawnSync('readelf', ['-d', file], { encoding: 'utf8', maxBuffer: 16 << 20 });
      const runpath = dyn.stdout.match(/RUNPATH\)\s+Library runpath: \[([^\]]*)\]/)?.[1];
      assert.ok(runpath, `no RUNPATH in ${file}`);
      for (const d of runpath.split(':')) dirs.add(path.resolve(d.replace('$ORIGIN', libDir)));
    }
    // The libraries TensorFlow's stream executor dlopens by soname when it initialises a GPU.
    const sonames = [
      'libcudart.so.12',
      'libcublas.so.12',
      'libcublasLt.so.12',
      'libcudnn.so.9',
      'libcufft.so.11',
      'libcusparse.so.12',
      'libcusolver.so.11',
      'libnccl.so.2',
      'libcupti.so.12',
    ];
    for (const so of sonames) {
      const found = [...dirs].map((d) => path.join(d, so)).find((f) => fs.existsSync(f));
      assert.ok(found, `${so} is in none of the TensorFlow libraries' RUNPATH directories`);
      const ldd = spawnSync('ldd', [found], { encoding: 'utf8' });
      const missing = ldd.stdout
        .split('\n')
        .filter((l) => l.includes('not found') && !l.includes('libcuda.so.1'));
      assert.deepEqual(missing, [], `${so}: unresolved dependencies`);
    }
  });

  it('passes the same op checks as tfjs-node and says whether TensorFlow sees a GPU', () => {
    const report = verifyNative(GPU.npmPackage);
    assert.equal(report.package, GPU.npmPackage);
    for (const c of report.checks)
      assert.ok(c.ok, `${c.op}: max |native - js| = ${c.maxAbsDiff} > ${c.tolerance}`);
    assert.ok(report.checks.length >= 7);
    assert.ok(report.gpu, 'the GPU flavour reports on the GPU');
    const line = describeGpu(report) ?? '';
    if (driver) {
      assert.equal(report.gpu.visible, true, line);
      assert.ok(report.gpu.devices.length > 0, `TensorFlow created no GPU device: ${line}`);
    } else {
      assert.equal(report.gpu.visible, false);
      assert.match(line, /^no GPU visible .*runs on the CPU$/);
      assert.ok(report.gpu.note, 'the reason TensorFlow gave is quoted');
    }
  });

  it('is chosen by AUTOGAN_BACKEND=tensorflow-gpu, records where it runs, and trains like tfjs-node', () => {
    const gpu = probe('tensorflow-gpu');
    assert.equal(gpu.backend.package, GPU.npmPackage);
    assert.equal(gpu.backend.device, driver ? 'gpu' : 'cpu');
    if (!driver)
      assert.ok(
        gpu.log.some((l) => /sees no GPU: it runs on the CPU/.test(l)),
        gpu.log.join('\n'),
      );
    assert.ok(gpu.losses.length >= 6 && gpu.losses.every(Number.isFinite), `losses ${gpu.losses}`);
    const cpu = probe('tensorflow');
    assert.equal(cpu.backend.package, '@tensorflow/tfjs-node');
    assert.equal(cpu.losses.length, gpu.losses.length);
    // Same TensorFlow release, same seeds: on the CPU the kernels are the same; on a GPU (TF32 and
    // cuDNN algorithms) the first steps still agree to a few parts in a thousand.
    const tol = driver ? 1e-2 : 1e-5;
    cpu.losses.forEach((l, i) =>
      assert.ok(
        Math.abs(l - gpu.losses[i]) <= tol * Math.max(1, Math.abs(l)),
        `loss ${i}: tfjs-node ${l} vs tfjs-node-gpu ${gpu.losses[i]}`,
      ),
    );
    assert.equal(gpu.numTensors, cpu.numTensors);
  });

  it("'auto' does not load it on a host without an NVIDIA driver, and says why", function () {
    if (driver) this.skip();
    const auto = probe('auto');
    assert.equal(auto.backend.package, '@tensorflow/tfjs-node');
    assert.ok(
      auto.backend.skipped.some((s) => s.includes('no NVIDIA driver')),
      auto.backend.skipped.join('; '),
    );
  });
});
