// The `autogan-retrain` workflow: trains one derived architecture from scratch in checkpointed
// chunks (each an activity on the gpu queue, resumable from its last heartbeat), evaluating IS/FID
// and saving sample grids along the way. Children of a pipeline's forEach spread over GPU workers.
import { defineQuery, proxyActivities, setHandler, type ActivityOptions } from '@temporalio/workflow';
import type * as activities from '../activities/retrain';
import type { RetrainParams } from '../core/search/retrain';
import type { StepInput } from '../pipeline/plan';
import { retrainParamsOf } from '../pipeline/retrain-params';
import { NON_RETRYABLE } from './pipeline';

export interface RetrainProgress {
  label: string;
  arch: number[];
  step: number;
  totalSteps: number;
  curve: Array<{ step: number; is: number; fid: number | null }>;
}

export const retrainProgressQuery = defineQuery<RetrainProgress>('progress');

export async function autoganRetrain(input: StepInput | RetrainParams) {
  const p = ('stepId' in input ? retrainParamsOf(input) : input) as RetrainParams;
  const opts: ActivityOptions = {
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
  const acts = proxyActivities<typeof activities>(opts);
  const progress: RetrainProgress = {
    label: p.label,
    arch: p.arch,
    step: 0,
    totalSteps: p.iterations * p.train.nCritic,
    curve: [],
  };
  setHandler(retrainProgressQuery, () => progress);
  let { checkpoint } = await acts.retrainInit(p);
  let last: Awaited<ReturnType<typeof acts.retrainChunk>> | undefined;
  while (progress.step < progress.totalSteps) {
    last = await acts.retrainChunk(p, checkpoint);
    checkpoint = last.checkpoint;
    progress.step = last.step;
    if (last.evaluation)
      progress.curve.push({ step: last.evaluation.step, is: last.evaluation.is, fid: last.evaluation.fid });
  }
  return {
    label: p.label,
    arch: p.arch,
    checkpoint,
    steps: progress.step,
    curve: progress.curve,
    final: last?.evaluation ?? null,
  };
}
