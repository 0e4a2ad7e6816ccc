// Workers as real processes (`autogan worker`), for tests that kill, stop or terminate them.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';

export const CLI = path.join(__dirname, '..', '..', '..', 'bin', 'autogan.js');

/**
 * `autogan worker --kind <kind> --queue <queue>` against `address`, heartbeating every 100 ms.
 * `ownGroup`: the worker leads a process group of its own, as a terminal's foreground job does, so
 * a test can signal the whole group (`process.kill(-pid, …)`) like a Ctrl-C.
 */
export function workerProcess(
  address: string,
  queue: string,
  kind: 'gpu' | 'control' = 'gpu',
  ownGroup = false,
): ChildProcess {
  const child = spawn(
    process.execPath,
    [CLI, 'worker', '--kind', kind, '--queue', queue, '--address', address],
    {
      env: { ...process.env, AUTOGAN_HEARTBEAT_MS: '100' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: ownGroup,
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

/** A training activity's heartbeat details. */
export type Heartbeat = { step?: number; total?: number; ref?: string } | undefined;

/** Polls the run until an activity of `type` is running and `ready(heartbeat)` holds. */
export async function waitForActivity(
  client: Client,
  workflowId: string,
  type: string,
  ready: (hb: Heartbeat) => boolean,
): Promise<Heartbeat> {
  for (;;) {
    const desc = await client.workflow.getHandle(workflowId).describe();
    if (desc.status.name !== 'RUNNING')
      throw new Error(`${workflowId} ended (${desc.status.name}) before ${type} ran`);
    for (const a of desc.raw.pendingActivities ?? []) {
      if (a.activityType?.name !== type || !a.lastStartedTime) continue;
      const data = a.heartbeatDetails?.payloads?.[0]?.data;
      const hb = data ? (JSON.parse(Buffer.from(data).toString('utf8')) as Heartbeat) : undefined;
      if (ready(hb)) return hb;
    }
    await new Promise((r) => setTimeout(r, 40));
  }
}
