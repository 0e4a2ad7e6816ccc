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
  /** Forward the server's output to this process's stdout and stderr (its tail is kept either way). */
  inheritOutput?: boolean;
  log?: (line: string) => void;
}

/** How the `temporal` child ended, with the last of its output. */
export interface ServerExit {
  pid: number | undefined;
  binary: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines it printed (stdout and stderr together), at most OUTPUT_TAIL characters. */
  output: string;
  /** True when stop() ended it; false when it died on its own or was killed by someone else. */
  stopped: boolean;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  dbFile: string;
  namespace: string;
  process: ChildProcess;
  /** Settles when the child is gone, for whatever reason (never rejects). */
  exited: Promise<ServerExit>;
  stop(): Promise<void>;
}

/** Characters of the child's output kept for the report of its death. */
const OUTPUT_TAIL = 4000;

/** `the Temporal dev server (temporal, pid 123) was killed by SIGKILL; its last output: …` */
export function describeServerExit(e: ServerExit): string {
  const how =
    e.signal !== null
      ? `was killed by ${e.signal}`
      : `exited with code ${e.code}${e.code === 0 ? ' (nobody asked it to stop)' : ''}`;
  const lines = e.output.trimEnd().split('\n').slice(-20);
  const tail = e.output.trim()
    ? `; its last output:\n${lines.map((l) => `  | ${l}`).join('\n')}`
    : '; it printed nothing (its log level is warn)';
  return `the Temporal dev server (${e.binary}, pid ${e.pid ?? '?'}) ${how}${tail}`;
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
  // Piped, not inherited, even when forwarded: the last lines are what a report of its death shows.
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (to: NodeJS.WriteStream) => (d: Buffer) => {
    output = (output + d.toString('utf8')).slice(-OUTPUT_TAIL);
    if (opts.inheritOutput) to.write(d);
  };
  child.stdout.on('data', keep(process.stdout));
  child.stderr.on('data', keep(process.stderr));
  let stopped = false;
  const exited = new Promise<ServerExit>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) =>
      resolve({ pid: child.pid, binary, code, signal, output, stopped });
    child.once('error', (err) => {
      output += `\n${err.message}`;
      done(null, null);
    });
    // 'close' comes after the output pipes are drained, so the tail holds its last words.
    child.once('close', done);
  });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const e = await exited;
      throw new Error(`temporal server did not start: ${describeServerExit(e)}`);
    }
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
    exited,
    async stop() {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
