// A tensor host: the child process a worker runs its tensor steps in, so the worker's own thread
// stays free for heartbeats, cancellation, queries and workflow tasks while a step computes. One
// call at a time. At every step boundary the host asks its worker whether to go on
// (`step-boundary`, answered `continue` or `stop`): a
// worker that is stopped (SIGSTOP) or gone stops the training at that boundary, and a cancelled
// attempt unwinds there, as it does when the step runs in the worker itself.
import { useBackend } from '../core/backend';
import type { Hooks } from '../services/search/context';
import { runTensorOp } from '../services/tensor-ops';
import { serializeError, type HostMessage, type HostRequest } from './tensor-host-protocol';

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

let waiting: ((m: Extract<HostRequest, { type: 'continue' | 'stop' }>) => void) | undefined;

async function call(req: Extract<HostRequest, { type: 'call' }>): Promise<void> {
  const hooks: Hooks = {
    ...(req.resumeFrom ? { resumeFrom: req.resumeFrom } : {}),
    progress: (p) => send({ type: 'progress', p }),
    atStepBoundary: () =>
      new Promise<void>((resolve, reject) => {
        waiting = (m) => (m.type === 'continue' ? resolve() : reject(new HostStopped(!!m.workerShutdown)));
        send({ type: 'step-boundary' });
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
    console.error('activities/tensor-host: run by a worker (child_process.fork), not by hand');
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
  // The worker is gone (killed, crashed) or ends this idle host: nothing may train on without it.
  process.on('disconnect', () => process.exit(0));
  // A host shares its worker's process group, so a terminal's Ctrl-C (SIGINT to the group) or a
  // SIGTERM to the group reaches it too. It ignores them: the worker, which gets the same signal,
  // cancels its activities, and the host stops at the next step boundary with that step
  // checkpointed; a worker that dies instead closes the channel, which ends the host (above).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => undefined);
  send({ type: 'ready' });
}
