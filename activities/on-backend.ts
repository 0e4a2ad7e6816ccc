// Runs an activity's work on the backend its input asks for; errors become non-retryable when
// they are bad input (see errors.ts).
import { useBackend } from '../core/backend';
import type { SearchParams } from '../pipeline/search-params';
import { NumericalFault } from '../services/numerical-fault';
import { asNonRetryable } from './errors';
import { tensorHostMode } from './tensor-call';
import { checkWorkerPath } from './worker-paths';

export interface OnBackendOptions {
  /**
   * Paths from the input that must exist on this worker, by the name a message gives them.
   * @default {}
   */
  paths?: Record<string, string | undefined>;
  /**
   * Where a NaN/Inf loss would be (phase, iteration, model), for its message.
   * @default undefined (the message names no place)
   */
  where?: string;
  /**
   * The work goes through `tensorCall`: with tensor hosts (the default) the host selects the
   * backend, and this process never initializes one (on a GPU worker that would hold device memory
   * twice).
   * @default false
   */
  inTensorHost?: boolean;
}

/** Runs `fn` after checking its paths, on the input's backend. */
export async function onBackend<T>(
  backend: SearchParams['backend'],
  fn: () => Promise<T> | T,
  opts: OnBackendOptions = {},
): Promise<T> {
  for (const [what, p] of Object.entries(opts.paths ?? {})) if (p !== undefined) checkWorkerPath(p, what);
  if (!opts.inTensorHost || tensorHostMode() === 'inline') await useBackend(backend);
  try {
    return await fn();
  } catch (err) {
    throw asNonRetryable(err instanceof NumericalFault && opts.where ? err.at(opts.where) : err);
  }
}
