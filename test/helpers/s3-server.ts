// A real S3-compatible server for tests: moto's server mode (Python package index: `moto[server]`),
// started on a free local port. Found at AUTOGAN_S3_TEST_SERVER (a moto_server binary), else in the
// project cache (.autogan/moto-venv), else installed there with pip on first use (about a minute).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { stateDir } from '../../core/paths';

export const MOTO_REQUIREMENT = 'moto[server]==5.2.5';
export const S3_SERVER_ENV = 'AUTOGAN_S3_TEST_SERVER';

export interface S3TestServer {
  endpoint: string;
  /** Stops the server process (by its pid) and waits for it to exit. */
  stop(): Promise<void>;
}

/** The moto_server binary, installing it into the project cache if need be; or why there is none. */
export function motoServerBinary(
  log: (line: string) => void = () => undefined,
): { bin: string } | { skip: string } {
  const given = process.env[S3_SERVER_ENV];
  if (given)
    return fs.existsSync(given) ? { bin: given } : { skip: `${S3_SERVER_ENV}=${given} does not exist` };
  const venv = stateDir('moto-venv');
  const bin = path.join(venv, 'bin', 'moto_server');
  const done = path.join(venv, '.installed');
  if (fs.existsSync(done) && fs.existsSync(bin)) return { bin };
  log(`[s3 test server] installing ${MOTO_REQUIREMENT} into ${venv} (once; about a minute)…`);
  fs.rmSync(venv, { recursive: true, force: true });
  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000 });
  let pip: ReturnType<typeof run>;
  if (run('python3', ['-m', 'venv', venv]).status === 0)
    pip = run(path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', MOTO_REQUIREMENT]);
  else {
    // No venv module (e.g. Debian without python3-venv): install into a folder, launch through a script.
    const site = path.join(venv, 'site');
    pip = run('python3', ['-m', 'pip', 'install', '--quiet', '--target', site, MOTO_REQUIREMENT]);
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    if (pip.status === 0)
      fs.writeFileSync(bin, `#!/bin/sh\nPYTHONPATH='${site}' exec python3 -m moto.server "$@"\n`, {
        mode: 0o755,
      });
  }
  if (pip.status !== 0 || !fs.existsSync(bin)) {
    const why = (pip.stderr || pip.error?.message || '').trim().split('\n').slice(-3).join(' | ');
    return {
      skip: `pip install '${MOTO_REQUIREMENT}' failed (${why}); set ${S3_SERVER_ENV} to a moto_server`,
    };
  }
  fs.writeFileSync(done, `${MOTO_REQUIREMENT}\n`);
  return { bin };
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts moto_server on 127.0.0.1 and waits until it answers. `checkCredentials`: the server
 * refuses access keys it does not know (moto's INITIAL_NO_AUTH_ACTION_COUNT=0), as S3 does.
 */
export async function startS3Server(
  log: (line: string) => void = () => undefined,
  o: { checkCredentials?: boolean } = {},
): Promise<S3TestServer | { skip: string }> {
  const found = motoServerBinary(log);
  if ('skip' in found) return found;
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(found.bin, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...(o.checkCredentials ? { INITIAL_NO_AUTH_ACTION_COUNT: '0' } : {}) },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return { skip: `moto_server exited (${child.exitCode}): ${stderr.trim()}` };
    try {
      await fetch(`${endpoint}/`); // any HTTP answer (a strict server answers 403)
      return { endpoint, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  return { skip: `moto_server did not answer at ${endpoint} within 60 s: ${stderr.trim()}` };
}
