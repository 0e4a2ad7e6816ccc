import { ApplicationFailure, Context } from '@temporalio/activity';
import { DatasetError } from '../core/datasets';

/**
 * Bad input and bad data cannot be fixed by a retry: turn them into non-retryable failures. An
 * artifact store error (services/artifact-store.ts) says itself whether a retry can help: an
 * unreachable endpoint can come back; a missing bucket or bad credentials cannot.
 */
/** Attempts of an activity that met a NaN/Inf loss before the run fails (each from the last checkpoint). */
export const NUMERICAL_FAULT_ATTEMPTS = 3;

function activityAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // called outside an activity (tests of the services)
  }
}

export function asNonRetryable(err: unknown): unknown {
  if (err instanceof Error && err.name === 'NumericalFault') {
    const attempt = activityAttempt();
    return attempt < NUMERICAL_FAULT_ATTEMPTS
      ? ApplicationFailure.retryable(
          `${err.message}; attempt ${attempt} of ${NUMERICAL_FAULT_ATTEMPTS}, retrying from the last checkpoint`,
          'NumericalFault',
        )
      : ApplicationFailure.nonRetryable(
          `${err.message}; ${attempt} attempts from the last checkpoint all diverged (lower the learning rates, check the data)`,
          'NumericalFault',
        );
  }
  if (err instanceof DatasetError) return ApplicationFailure.nonRetryable(err.message, 'DatasetError');
  if (err instanceof Error && err.name === 'PipelineInputError' && !(err instanceof ApplicationFailure))
    return ApplicationFailure.nonRetryable(err.message, 'PipelineInputError');
  if (err instanceof Error && err.name === 'ArchError')
    return ApplicationFailure.nonRetryable(err.message, 'ArchError');
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
