// Workers as real processes (`autogan worker`), for tests that kill, stop or terminate them.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const CLI = path.join(__dirname, '..', '..', '..', 'bin', 'autogan.js');

/** `autogan worker --kind <kind> --queue <queue>` against `address`, heartbeating every 100 ms. */
export function workerProcess(address: string, queue: string, kind: 'gpu' | 'control' = 'gpu'): ChildProcess {
  const child = spawn(
    process.execPath,
    [CLI, 'worker', '--kind', kind, '--queue', queue, '--address', address],
    {
      env: { ...process.env, AUTOGAN_HEARTBEAT_MS: '100' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child.stderr!.on('data', () => undefined);
  return child;
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}
