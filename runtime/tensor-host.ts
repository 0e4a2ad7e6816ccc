// A tensor host: the child process a worker runs its tensor steps in, so the worker's own thread
// stays free for heartbeats, cancellation, queries and workflow tasks while a step computes. One
// call at a time. At every step boundary the host asks its worker whether to go on (`tick`): a
// worker that is stopped (SIGSTOP) or gone stops the training at that boundary, and a cancelled
// attempt unwinds there, as it does when the step runs in the worker itself.
import { useBackend } from '../core/backend';
import type { Hooks } from '../services/search/context';
import { runTensorOp, type TensorOp } from '../services/tensor-ops';

export type HostRequest =
  | {
      type: 'call';
      op: TensorOp;
      args: unknown[];
      backend: 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'cpu';
      resumeFrom?: Hooks['resumeFrom'];
    }
  | { type: 'go' }
  | { type: 'stop'; workerShutdown?: boolean };

export type HostMessage =
  | { type: 'ready' }
  | { type: 'backend'; package: string }
  | { type: 'progress'; p: Parameters<Hooks['progress']>[0] }
  | { type: 'tick' }
  | { type: 'result'; value: unknown }
  | { type: 'error'; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  props: Record<string, unknown>;
}

export function serializeError(err: unknown): SerializedError {
  const e = err instanceof Error ? err : new Error(String(err));
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    try {
      props[k] = JSON.parse(JSON.stringify(v));
    } catch {
      // not data: left out
    }
  }
  return { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}), props };
}

/** Stops the op at a step boundary when the worker says so. */
class HostStopped extends Error {
  constructor(readonly workerShutdown: boolean) {
    super('stopped by the worker at a step boundary');
    this.name = 'HostStopped';
  }
}

function send(m: HostMessage): void {
  process.send!(m);
}

let waiting: ((m: Extract<HostRequest, { type: 'go' | 'stop' }>) => void) | undefined;

async function call(req: Extract<HostRequest, { type: 'call' }>): Promise<void> {
  const hooks: Hooks = {
    ...(req.resumeFrom ? { resumeFrom: req.resumeFrom } : {}),
    progress: (p) => send({ type: 'progress', p }),
    breathe: () =>
      new Promise<void>((resolve, reject) => {
        waiting = (m) => (m.type === 'go' ? resolve() : reject(new HostStopped(!!m.workerShutdown)));
        send({ type: 'tick' });
      }),
  };
  try {
    const info = await useBackend(req.backend);
    send({ type: 'backend', package: info.package });
    const value = await runTensorOp(req.op, hooks, req.args as never);
    send({ type: 'result', value });
  } catch (err) {
    send({ type: 'error', error: serializeError(err) });
  }
}

if (require.main === module) {
  if (!process.send) {
    console.error('runtime/tensor-host: run by a worker (child_process.fork), not by hand');
    process.exit(2);
  }
  process.on('message', (m: HostRequest) => {
    if (m.type === 'call') void call(m);
    else {
      const w = waiting;
      waiting = undefined;
      w?.(m);
    }
  });
  // The worker is gone (killed, crashed): nothing may train on without it.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}
