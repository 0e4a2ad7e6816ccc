// Runs an activity's work on the backend its input asks for; errors become non-retryable when
// they are bad input (see errors.ts).
import { useBackend } from '../core/backend';
import type { SearchParams } from '../pipeline/search-params';
import { NumericalFault } from '../services/numerical-fault';
import { asNonRetryable } from './errors';
import { tensorHostMode } from './tensor-call';
import { checkWorkerPath } from './worker-paths';

/**
 * Runs `fn` after checking its paths, on the input's backend; with `inHost`, for work that goes
 * through `tensorCall`: with tensor hosts (the default) the host selects the backend, and this
 * process never initializes one (on a GPU worker that would hold device memory twice).
 */
export async function onBackend<T>(
  backend: SearchParams['backend'],
  fn: () => Promise<T> | T,
  paths: Record<string, string | undefined> = {},
  /** Where a NaN/Inf loss would be, for its message. */
  where?: string,
  inHost = false,
): Promise<T> {
  for (const [what, p] of Object.entries(paths)) if (p !== undefined) checkWorkerPath(p, what);
  if (!inHost || tensorHostMode() === 'inline') await useBackend(backend);
  try {
    return await fn();
  } catch (err) {
    throw asNonRetryable(err instanceof NumericalFault && where ? err.at(where) : err);
  }
}
