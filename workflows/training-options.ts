import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE } from './pipeline';

/**
 * Options of the long training activities: on the gpu queue, a short heartbeat timeout so a dead
 * worker's step moves elsewhere quickly, a long start-to-close for a full step at paper scale,
 * retries with backoff, bad input not retried.
 */
export function trainingActivityOptions(p: {
  taskQueues: { gpu: string };
  activityTimeout: string;
  heartbeatTimeout: string;
}): ActivityOptions {
  return {
    taskQueue: p.taskQueues.gpu,
    startToCloseTimeout: p.activityTimeout as ActivityOptions['startToCloseTimeout'],
    heartbeatTimeout: p.heartbeatTimeout as ActivityOptions['heartbeatTimeout'],
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts: 20,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  };
}
