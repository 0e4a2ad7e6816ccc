import { ApplicationFailure } from '@temporalio/activity';
import { DatasetError } from '../core/datasets';

/**
 * Bad input and bad data cannot be fixed by a retry: turn them into non-retryable failures. An
 * artifact store error (services/artifact-store.ts) says itself whether a retry can help: an
 * unreachable endpoint can come back; a missing bucket or bad credentials cannot.
 */
export function asNonRetryable(err: unknown): unknown {
  if (err instanceof DatasetError) return ApplicationFailure.nonRetryable(err.message, 'DatasetError');
  if (err instanceof Error && err.name === 'CheckpointError')
    return ApplicationFailure.nonRetryable(err.message, 'CheckpointError');
  if (err instanceof Error && err.name === 'ArtifactStoreError')
    return (err as Error & { retryable?: boolean }).retryable
      ? ApplicationFailure.retryable(err.message, 'ArtifactStoreUnavailable')
      : ApplicationFailure.nonRetryable(err.message, 'ArtifactStoreError');
  return err;
}

export function badInput(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'PipelineInputError');
}
