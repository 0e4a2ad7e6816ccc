// The tensor work of the activities, by name, with JSON arguments and results: what a tensor host
// process (runtime/tensor-host.ts) runs for a worker whose own thread must stay free for
// heartbeats, cancellation and queries — and what the worker runs itself when it has no host.
import { pixelStats } from './dataset-stats';
import { evaluateModels, type EvaluateModelsInput } from './evaluate';
import * as retrain from './retrain';
import * as phases from './search';
import type { Hooks } from './search/context';
import type { DatasetRef } from '../pipeline/plan';
import type { SearchParams } from '../pipeline/search-params';
import { proxyScores, type SupernetRef } from './study/proxy';

type Refs = phases.SearchRefs;

export const TENSOR_OPS = {
  searchInit: (_h: Hooks, p: SearchParams) => phases.initSearch(p),
  trainShared: (h: Hooks, p: SearchParams, s: Refs) => phases.trainShared(p, s, h),
  trainController: (h: Hooks, p: SearchParams, s: Refs, runId?: string) =>
    phases.trainController(p, s, h, runId),
  grow: (h: Hooks, p: SearchParams, s: Refs, runId?: string) => phases.grow(p, s, h, runId),
  resetShared: async (_h: Hooks, p: SearchParams, s: Refs) => ({ supernet: await phases.resetShared(p, s) }),
  derive: async (h: Hooks, p: SearchParams, s: Refs, m: number, k: number, runId?: string) => {
    const d = await phases.derive(p, s, { m, k }, h);
    // The last stage's samples, as grow writes them for the earlier ones.
    if (runId && d.topK[0]) await phases.stageGrid(p, s, d.topK[0].arch, runId);
    return d;
  },
  /** The `autogan.derive` step: a draw of its own (tag), optionally with more scoring images. */
  deriveStep: (h: Hooks, p: SearchParams, s: Refs, o: { m: number; k: number; images?: number }) =>
    phases.derive(p, s, { ...o, tag: 'derive-step' }, h),
  retrainInit: (_h: Hooks, p: retrain.RetrainParams) => retrain.retrainInit(p),
  retrainChunk: (h: Hooks, p: retrain.RetrainParams, checkpoint: string) =>
    retrain.retrainChunk(p, checkpoint, h),
  /** A study's proxy check: architectures scored on final supernets. */
  proxyScores: (h: Hooks, supernets: SupernetRef[], archs: number[][], draws: number) =>
    proxyScores(supernets, archs, draws, h),
  /** The `autogan.evaluate` step: IS and FID of each retrained model. */
  evaluateModels: (h: Hooks, o: EvaluateModelsInput) => evaluateModels(o, h),
  /** The `dataset.stats` step: pixel statistics of a range of images. */
  pixelStats: (h: Hooks, dataset: DatasetRef, shard: { start: number; end: number }, batchSize: number) =>
    pixelStats(dataset, shard, batchSize, h),
  /** Where this process runs TensorFlow: its pid and device settings (diagnostics and tests). */
  placement: async (_h: Hooks) => ({
    pid: process.pid,
    visibleDevices: process.env.CUDA_VISIBLE_DEVICES ?? null,
    allowGrowth: process.env.TF_FORCE_GPU_ALLOW_GROWTH ?? null,
  }),
} as const;

export type TensorOp = keyof typeof TENSOR_OPS;
export type OpArgs<K extends TensorOp> =
  Parameters<(typeof TENSOR_OPS)[K]> extends [Hooks, ...infer A] ? A : never;
export type OpResult<K extends TensorOp> = Awaited<ReturnType<(typeof TENSOR_OPS)[K]>>;

/** Runs an op here, in this process. */
export function runTensorOp<K extends TensorOp>(op: K, hooks: Hooks, args: OpArgs<K>): Promise<OpResult<K>> {
  const fn = TENSOR_OPS[op] as unknown as (h: Hooks, ...a: unknown[]) => Promise<OpResult<K>>;
  return fn(hooks, ...(args as unknown[]));
}
