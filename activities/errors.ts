import { ApplicationFailure } from '@temporalio/activity';
import { DatasetError } from '../core/datasets';

/** Bad input and bad data cannot be fixed by a retry: turn them into non-retryable failures. */
export function asNonRetryable(err: unknown): unknown {
  if (err instanceof DatasetError) return ApplicationFailure.nonRetryable(err.message, 'DatasetError');
  if (err instanceof Error && err.name === 'CheckpointError')
    return ApplicationFailure.nonRetryable(err.message, 'CheckpointError');
  return err;
}

export function badInput(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'PipelineInputError');
}
