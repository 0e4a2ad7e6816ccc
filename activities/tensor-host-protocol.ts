// The messages between a worker (activities/tensor-call.ts) and its tensor hosts
// (activities/tensor-host.ts), over the fork's IPC channel. Both sides run the same release, so the
// protocol carries no version.
import type { Hooks } from '../services/search/context';
import type { TensorOp } from '../services/tensor-ops';

/** Worker to host: run an op; at a step boundary, go on (`continue`) or stop there. */
export type HostRequest =
  | {
      type: 'call';
      op: TensorOp;
      args: unknown[];
      backend: 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'cpu';
      resumeFrom?: Hooks['resumeFrom'];
    }
  | { type: 'continue' }
  | { type: 'stop'; workerShutdown?: boolean };

/** Host to worker: started, its backend, progress, a step boundary reached, the op's outcome. */
export type HostMessage =
  | { type: 'ready' }
  | { type: 'backend'; package: string }
  | { type: 'progress'; p: Parameters<Hooks['progress']>[0] }
  | { type: 'step-boundary' }
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
