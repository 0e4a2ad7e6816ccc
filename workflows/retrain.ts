// The `autogan-retrain` workflow: trains one derived architecture from scratch in checkpointed
// chunks (each an activity on the gpu queue, resumable from its last heartbeat), evaluating IS/FID
// and saving sample grids along the way. Children of a pipeline's forEach spread over GPU workers.
import { ApplicationFailure, defineQuery, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as activities from '../activities/retrain';
import type { RetrainParams } from '../services/retrain';
import type { StepInput } from '../pipeline/plan';
import { DIRECT_INPUT_PATCH, directInputProblems } from '../pipeline/direct-input';
import { retrainParamsOf } from '../pipeline/retrain-params';
import { trainingActivityOptions } from './training-options';

export interface RetrainProgress {
  label: string;
  arch: number[];
  step: number;
  totalSteps: number;
  curve: Array<{ step: number; is: number; fid: number | null }>;
  /** Checkpoints retries had to skip (corrupt or missing) and where they resumed. */
  recoveries: string[];
}

export const retrainProgressQuery = defineQuery<RetrainProgress>('progress');

export async function autoganRetrain(input: StepInput | RetrainParams) {
  // Patched: a run recorded before these checks replays without them.
  const direct = !('stepId' in input) && patched(DIRECT_INPUT_PATCH);
  const problems = direct ? directInputProblems(input as unknown as Record<string, unknown>) : [];
  if (problems.length)
    throw ApplicationFailure.nonRetryable(
      `invalid autogan-retrain input: ${problems.join('; ')}`,
      'BadInput',
    );
  const p = ('stepId' in input ? retrainParamsOf(input) : input) as RetrainParams;
  const acts = proxyActivities<typeof activities>(trainingActivityOptions(p));
  const progress: RetrainProgress = {
    label: p.label,
    arch: p.arch,
    step: 0,
    totalSteps: p.iterations * p.train.nCritic,
    curve: [],
    recoveries: [],
  };
  setHandler(retrainProgressQuery, () => progress);
  let { checkpoint } = await acts.retrainInit(p);
  let last: Awaited<ReturnType<typeof acts.retrainChunk>> | undefined;
  while (progress.step < progress.totalSteps) {
    last = await acts.retrainChunk(p, checkpoint);
    checkpoint = last.checkpoint;
    progress.step = last.step;
    if (last.recovered) progress.recoveries.push(`chunk ending at step ${last.step}: ${last.recovered}`);
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
    ...(progress.recoveries.length ? { recoveries: progress.recoveries } : {}),
  };
}
