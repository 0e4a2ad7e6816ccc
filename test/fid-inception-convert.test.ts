// `autogan convert fid-inception` and `--network fid-inception:<dir>`: a random state dict with the
// published file's keys and shapes round-trips through the converter into the project's weight
// format and back into the same network; checksum, name and shape errors; the CLI and pipelines.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { main } from '../cli/main';
import { pythonCommand } from '../core/checkpoint/torch-state';
import { loadTfjsNetwork } from '../core/metrics/features';
import {
  WEIGHTS_FILE,
  convertFidInception,
  loadFidInception,
  readFidInceptionWeights,
  stateDictSpec,
  syntheticStateDict,
  type StateDict,
} from '../core/metrics/fid-inception';
import { writeNpz } from '../core/metrics/npz';
import { validateStepWith } from '../pipeline/load';
import { assertClose, networkImages, outputs, reference } from './helpers/fid-inception';

/** The state dict as a torch-keyed .npz (what tools/pth_to_npz.py makes of a .pth). */
function writeStateNpz(
  file: string,
  state: StateDict,
  extra: Record<string, { data: Float64Array; shape: number[] }> = {},
) {
  const arrays: Record<string, { data: Float64Array; shape: number[] }> = {};
  for (const [k, v] of state) arrays[k] = { data: Float64Array.from(v.data), shape: v.shape };
  writeNpz(file, { ...arrays, ...extra });
}

/** Runs the CLI in this process; returns its exit code and what it printed on stdout. */
async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    const code = await main(['node', 'autogan', ...args]);
    return { code, out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

describe('autogan convert fid-inception', function () {
  this.timeout(600_000);
  let dir: string;
  let weightsDir: string;
  let npz: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fid-inception-'));
    npz = path.join(dir, 'random-state.npz');
    // BatchNorm step counters appear in state dicts saved by newer torch: they must be ignored.
    writeStateNpz(npz, syntheticStateDict(), {
      'Conv2d_1a_3x3.bn.num_batches_tracked': { data: Float64Array.of(0), shape: [] },
    });
    weightsDir = path.join(dir, 'weights');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const statsFile = () => path.join(dir, 'digits.npz');

  it('refuses weights whose sha256 is not the published one, and writes nothing', async () => {
    await assert.rejects(
      convertFidInception(npz, { out: weightsDir }),
      /does not start with 6726825d.*--skip-checksum/s,
    );
    assert.ok(!fs.existsSync(path.join(weightsDir, WEIGHTS_FILE)));
  });

  it('round-trips a random state dict with the published keys and shapes (--skip-checksum)', async () => {
    const r = await convertFidInception(npz, { out: weightsDir, skipChecksum: true });
    assert.equal(r.checksum, 'skipped');
    assert.equal(r.tensors, stateDictSpec().length);
    assert.deepEqual(r.ignored, ['Conv2d_1a_3x3.bn.num_batches_tracked']);
    const back = readFidInceptionWeights(weightsDir);
    assert.equal(back.provenance.sha256, r.sha256);
    assert.equal(back.provenance.checksum, 'skipped');
    const original = syntheticStateDict();
    assert.equal(back.state.size, original.size);
    for (const [name, t] of original) {
      const got = back.state.get(name)!;
      assert.deepEqual(got.shape, t.shape, name);
      assert.ok(
        Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(
          Buffer.from(t.data.buffer),
        ),
        `${name} differs`,
      );
    }
    // …and the converted weights give the reference outputs.
    const net = await loadFidInception(weightsDir);
    try {
      const x = tf.tidy(() => networkImages(reference()).slice(0, 1));
      const out = net.forward(x);
      x.dispose();
      assertClose(
        out.pool3.dataSync(),
        outputs().get('pool3')!.data.subarray(0, 2048),
        'pool_3 from converted weights',
      );
      tf.dispose([out.pool3, out.logits]);
    } finally {
      net.dispose();
    }
  });

  it('names missing, unknown and mis-shaped keys, and leaves existing weights alone', async () => {
    const before = fs.readFileSync(path.join(weightsDir, WEIGHTS_FILE));
    const bad = path.join(dir, 'bad.npz');
    writeNpz(bad, {
      'Conv2d_1a_3x3.conv.weight': { data: new Float64Array(32 * 3 * 5 * 5), shape: [32, 3, 5, 5] },
      'AuxLogits.fc.weight': { data: new Float64Array(4), shape: [2, 2] },
    });
    await assert.rejects(convertFidInception(bad, { out: weightsDir, skipChecksum: true }), (err: Error) => {
      assert.match(err.message, /471 missing: Conv2d_1a_3x3\.bn\.weight; .*; and 451 more/);
      assert.match(err.message, /1 unknown: AuxLogits\.fc\.weight/);
      assert.match(err.message, /Conv2d_1a_3x3\.conv\.weight: has \[32, 3, 5, 5\], expected \[32, 3, 3, 3\]/);
      return true;
    });
    assert.ok(fs.readFileSync(path.join(weightsDir, WEIGHTS_FILE)).equals(before));
  });

  it('reads a .pth through Python/torch when AUTOGAN_PYTHON has torch', async function () {
    const probe = spawnSync(pythonCommand(), ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (probe.status !== 0) this.skip();
    const pth = path.join(dir, 'random.pth');
    const py = [
      'import sys, numpy as np, torch',
      'd = np.load(sys.argv[1])',
      'sd = {k: torch.from_numpy(d[k].astype(np.float32)) for k in d.files if not k.endswith("num_batches_tracked")}',
      'sd["Mixed_5b.branch1x1.bn.num_batches_tracked"] = torch.tensor(7)',
      'torch.save(sd, sys.argv[2])',
    ].join('\n');
    const made = spawnSync(pythonCommand(), ['-c', py, npz, pth], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const out = path.join(dir, 'from-pth');
    const r = await convertFidInception(pth, { out, skipChecksum: true });
    assert.equal(r.tensors, stateDictSpec().length);
    const a = readFidInceptionWeights(out).state.get('fc.weight')!.data;
    assert.ok(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
        Buffer.from(syntheticStateDict().get('fc.weight')!.data.buffer),
      ),
    );
  });

  it('the CLI converts, and metrics is|stats accept --network fid-inception:<dir>', async () => {
    const out = path.join(dir, 'cli-weights');
    const conv = await cli('convert', 'fid-inception', npz, '--out', out, '--skip-checksum');
    assert.equal(conv.code, 0);
    assert.equal(JSON.parse(conv.out).network, `fid-inception:${out}`);
    const refused = await cli('convert', 'fid-inception', npz, '--out', path.join(dir, 'nope'));
    assert.equal(refused.code, 1);

    const net = `fid-inception:${out}`;
    const is = await cli('metrics', 'is', 'mnist', '--images', '20', '--batch-size', '8', '--network', net);
    assert.equal(is.code, 0);
    const isOut = JSON.parse(is.out);
    assert.equal(isOut.network, net);
    assert.ok(isOut.is.mean >= 1 && isOut.is.mean <= 10, JSON.stringify(isOut));
    const st = await cli(
      'metrics',
      'stats',
      'mnist',
      '--images',
      '10',
      '--out',
      statsFile(),
      '--network',
      net,
    );
    assert.equal(st.code, 0);
    assert.equal(JSON.parse(st.out).dim, 2048);
  });

  it('metrics fid accepts --network fid-inception:<dir> (AUTOGAN_SLOW_TESTS=1)', async function () {
    // A 2048-d FID spends 4–5 minutes in core/metrics/fid.ts's eigendecompositions on a 2-core CPU,
    // whatever the network: opt in.
    if (process.env.AUTOGAN_SLOW_TESTS !== '1') this.skip();
    const net = `fid-inception:${path.join(dir, 'cli-weights')}`;
    const fid = await cli('metrics', 'fid', 'mnist', statsFile(), '--images', '10', '--network', net);
    assert.equal(fid.code, 0);
    // The same ten images against their own statistics: zero up to the matrix square root's rounding.
    assert.ok(Math.abs(JSON.parse(fid.out).fid) < 1e-3, fid.out);
  });

  it('pipelines accept network: fid-inception:<dir> (expanded to its options object)', async () => {
    const w: Record<string, unknown> = {
      models: [{ arch: [0, 1, 0, 1], label: 'a', checkpoint: 'x' }],
      network: `fid-inception:${weightsDir}`,
    };
    assert.deepEqual(validateStepWith('autogan.evaluate', w), []);
    assert.deepEqual(w.network, {
      source: weightsDir,
      format: 'fid-inception',
      inputSize: 299,
      inputChannels: 3,
      inputRange: '[-1,1]',
      featuresNode: 'pool_3',
      probsNode: 'logits',
      softmax: true,
    });
    const search: Record<string, unknown> = { network: `fid-inception:${weightsDir}` };
    const errors = validateStepWith('autogan.search', search);
    assert.deepEqual(
      errors.filter((e) => e.instancePath.startsWith('/network')),
      [],
    );
    const net = await loadTfjsNetwork(w.network as Parameters<typeof loadTfjsNetwork>[0]);
    try {
      assert.equal(net.featureDim, 2048);
      assert.equal(net.classes, 1008);
    } finally {
      net.dispose();
    }
  });
});
