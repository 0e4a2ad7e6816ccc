// Runs an activity's work on the backend its input asks for; errors become non-retryable when
// they are bad input (see errors.ts).
import { useBackend } from '../core/backend';
import type { SearchParams } from '../pipeline/search-params';
import { asNonRetryable } from './errors';

export async function onBackend<T>(backend: SearchParams['backend'], fn: () => Promise<T> | T): Promise<T> {
  await useBackend(backend);
  try {
    return await fn();
  } catch (err) {
    throw asNonRetryable(err);
  }
}
