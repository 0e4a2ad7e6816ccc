// `npm run setup:native` / `autogan setup native`: makes @tensorflow/tfjs-node work where its
// installer cannot download libtensorflow but a Python package index is reachable.
//   1. fetch a pinned tensorflow-cpu wheel with pip, verify its sha256, cache it;
//   2. turn it into the libtensorflow tarball layout tfjs-node's installer expects;
//   3. serve the tarball on 127.0.0.1 and install tfjs-node with TFJS_NODE_CDN_STORAGE pointing there
//      (the binding then builds from source with node-gyp against the local Node headers);
//   4. check that the native backend loads and agrees with pure JS on the ops the GAN uses.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot, stateDir } from '../core/paths';

/**
 * The wheel we take libtensorflow from. tensorflow-cpu 2.21.0 is the newest on the index; its
 * libtensorflow_cc.so.2 exports every TF_/TFE_ function the tfjs-node 4.22 binding calls (checked by
 * building the binding against its headers and by the verification below). One fixed file (CPython
 * 3.11 tag, any local Python) so one hash pins it.
 */
export const WHEEL = {
  package: 'tensorflow-cpu',
  version: '2.21.0',
  pythonVersion: '3.11',
  platform: 'manylinux_2_27_x86_64',
  file: 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
  sha256: '2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c',
};
export const TFJS_NODE_VERSION = '4.22.0';
/** The libtensorflow version tfjs-node 4.22's installer asks for (file names only). */
export const LIBTENSORFLOW_NAME_VERSION = '2.9.1';
const TARBALL = `libtensorflow-cpu-linux-x86_64-${LIBTENSORFLOW_NAME_VERSION}.tar.gz`;

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
  throw new NativeSetupError('pip', 'no python3 with pip on PATH (needed to fetch the TensorFlow wheel)');
}

function fetchWheel(log: Log): string {
  const dir = cache('wheel');
  const file = path.join(dir, WHEEL.file);
  if (fs.existsSync(file) && sha256(file) === WHEEL.sha256) return file;
  fs.mkdirSync(dir, { recursive: true });
  log(
    `[setup native] fetching ${WHEEL.package}==${WHEEL.version} (about 270 MB) from the Python package index…`,
  );
  const py = python();
  const r = spawnSync(
    py,
    [
      '-m',
      'pip',
      'download',
      '--no-deps',
      '--only-binary=:all:',
      '--python-version',
      WHEEL.pythonVersion,
      '--platform',
      WHEEL.platform,
      '--implementation',
      'cp',
      '--dest',
      dir,
      `${WHEEL.package}==${WHEEL.version}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (r.status !== 0) {
    throw new NativeSetupError(
      'index',
      `pip download failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
  if (!fs.existsSync(file)) throw new NativeSetupError('index', `pip finished but ${file} is not there`);
  const got = sha256(file);
  if (got !== WHEEL.sha256) {
    fs.renameSync(file, `${file}.rejected`);
    throw new NativeSetupError(
      'hash',
      `${WHEEL.file} has sha256 ${got}, expected ${WHEEL.sha256} (kept as .rejected)`,
    );
  }
  return file;
}

function buildTarball(wheel: string, log: Log): string {
  const out = cache('cdn', 'tensorflow', 'libtensorflow', TARBALL);
  const stamp = `${out}.source`;
  if (fs.existsSync(out) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === WHEEL.sha256)
    return out;
  const stage = cache(`stage-${process.pid}`);
  fs.rmSync(stage, { recursive: true, force: true });
  log(`[setup native] extracting libtensorflow from the wheel…`);
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
  fs.writeFileSync(stamp, WHEEL.sha256);
  return out;
}

/** Serves exactly one file at the path the installer requests; everything else is 404. */
async function serve(
  file: string,
  log: Log,
): Promise<{ base: string; close: () => Promise<void>; hits: () => number }> {
  const wanted = `/tensorflow/libtensorflow/${TARBALL}`;
  let hits = 0;
  const server = http.createServer((req, res) => {
    if (req.url !== wanted) {
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

/** node-gyp must not download Node headers: point it at the ones installed with this Node. */
function nodeDir(): string | undefined {
  const prefix = path.dirname(path.dirname(fs.realpathSync(process.execPath)));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) ? prefix : undefined;
}

async function npmInstall(mirror: string, log: Log): Promise<void> {
  const logFile = cache('install.log');
  const env: NodeJS.ProcessEnv = { ...process.env, TFJS_NODE_CDN_STORAGE: mirror };
  const nd = nodeDir();
  if (nd) env.npm_config_nodedir = nd;
  log(
    `[setup native] installing @tensorflow/tfjs-node@${TFJS_NODE_VERSION} and building its binding (a few minutes; log: ${logFile})…`,
  );
  const out = fs.openSync(logFile, 'w');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      'npm',
      [
        'install',
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--foreground-scripts',
        `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`,
      ],
      { cwd: projectRoot(), env, stdio: ['ignore', out, out] },
    );
    child.on('exit', resolve);
    child.on('error', () => resolve(-1));
  });
  fs.closeSync(out);
  if (code !== 0) {
    const tail = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => /error|Error|ERR!/.test(l))
      .slice(0, 6);
    throw new NativeSetupError(
      'build',
      `npm install exited with ${code}:\n  ${tail.join('\n  ')}\n  (full log: ${logFile})`,
    );
  }
}

export interface VerifyReport {
  backend: string;
  checks: Array<{ op: string; maxAbsDiff: number; tolerance: number; ok: boolean }>;
  ok: boolean;
}

/** Runs the op-by-op comparison in a fresh process (a native library is loaded once per process). */
export function verifyNative(): VerifyReport {
  const script = path.join(projectRoot(), 'dist', 'tools', 'verify-native.js');
  const r = spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    env: { ...process.env, AUTOGAN_BACKEND: '' },
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as VerifyReport;
  } catch {
    throw new NativeSetupError(
      'verify',
      `the native backend does not load: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
}

function installed(): boolean {
  return fs.existsSync(path.join(projectRoot(), 'node_modules', '@tensorflow', 'tfjs-node', 'lib'));
}

export async function setupNative(opts: { force?: boolean; log?: Log } = {}): Promise<VerifyReport> {
  const log = opts.log ?? ((l: string) => console.error(l));
  if (!opts.force && installed()) {
    const report = verifyNative();
    if (report.ok) {
      log('[setup native] @tensorflow/tfjs-node is installed and agrees with pure JS; nothing to do');
      return report;
    }
    log('[setup native] the installed @tensorflow/tfjs-node fails verification; reinstalling');
  }
  if (os.platform() !== 'linux' || os.arch() !== 'x64') {
    throw new NativeSetupError(
      'platform',
      `this command builds for linux x64 only (this is ${os.platform()} ${os.arch()}); use \`npm install @tensorflow/tfjs-node\``,
    );
  }
  const wheel = fetchWheel(log);
  const tarball = buildTarball(wheel, log);
  const mirror = await serve(tarball, log);
  try {
    await npmInstall(mirror.base, log);
  } finally {
    await mirror.close();
  }
  if (mirror.hits() === 0)
    log('[setup native] note: the installer did not download libtensorflow (it reused deps/)');
  const report = verifyNative();
  if (!report.ok) {
    const bad = report.checks.filter((c) => !c.ok).map((c) => `${c.op} (max diff ${c.maxAbsDiff})`);
    throw new NativeSetupError('verify', `native results differ from pure JS: ${bad.join(', ')}`);
  }
  log(`[setup native] done: ${report.checks.length} ops agree with pure JS`);
  return report;
}

if (require.main === module) {
  const tolerant = process.argv.includes('--if-possible');
  setupNative({ force: process.argv.includes('--force') })
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
