// Runs `temporal server start-dev` with SQLite persistence, so workflows survive a server restart.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { stateDir } from '../core/paths';
import { resolveTemporalBinary } from './temporal-binary';

export interface DevServerOptions {
  ip?: string;
  port?: number;
  uiPort?: number;
  /** Disable the Web UI. */
  headless?: boolean;
  /** SQLite file; default .autogan/server/temporal.db. */
  dbFile?: string;
  namespace?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Forward the server's output to this process's stderr. */
  inheritOutput?: boolean;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  dbFile: string;
  namespace: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function defaultDbFile(): string {
  return stateDir('server', 'temporal.db');
}

/** Resolves with a port nobody is listening on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const binary = await resolveTemporalBinary({ log });
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? 7233;
  const uiPort = opts.uiPort ?? port + 1000;
  const namespace = opts.namespace ?? 'default';
  const dbFile = path.resolve(opts.dbFile ?? defaultDbFile());
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });
  if (await canConnect(ip, port)) {
    throw new Error(`port ${ip}:${port} is already in use: is a Temporal server already running there?`);
  }
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--db-filename', dbFile];
  args.push('--namespace', namespace, '--log-level', opts.logLevel ?? 'warn');
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  const child = spawn(binary, args, {
    stdio: ['ignore', opts.inheritOutput ? 'inherit' : 'pipe', opts.inheritOutput ? 'inherit' : 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output = (output + d).slice(-4000)));
  child.stderr?.on('data', (d) => (output = (output + d).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`temporal server exited with code ${child.exitCode}:\n${output}`);
    if (await canConnect(ip, port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal server did not listen on ${ip}:${port} within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address: `${ip}:${port}`,
    ...(opts.headless ? {} : { uiUrl: `http://${ip}:${uiPort}` }),
    dbFile,
    namespace,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
