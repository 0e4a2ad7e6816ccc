// Parameters of retraining a derived architecture (the `with:` of `autogan.retrain`). Pure.
import type { StepInput } from './plan';
import type { NetworkRef } from './search-params';

export const DEFAULT_RETRAIN = {
  gan: {
    latentDim: 128,
    gfDim: 256,
    dfDim: 128,
    bottomWidth: 4,
    channels: 3,
    dSpectralNorm: true,
    skipOut: 'with-skip-ins' as const,
  },
  train: {
    gLr: 2e-4,
    dLr: 2e-4,
    beta1: 0,
    beta2: 0.9,
    nCritic: 5,
    genBatchSize: 128,
    disBatchSize: 64,
    snIterations: 'per-forward' as const,
    adamOffPath: 'zero-grad' as const,
  },
  iterations: 50000,
  stepsPerActivity: 1000,
  evalEvery: 0,
  evalImages: 5000,
  evalBatchSize: 100,
  network: 'digits' as NetworkRef,
  lrDecay: true,
  emaDecay: 0.999,
  emaWarmup: true,
  emaBnStats: 'recompute' as const,
  checkpointEvery: 200,
  heartbeatTimeout: '2m',
  activityTimeout: '24h',
};

/** RetrainParams (services/retrain.ts) from a pipeline step input; defaults filled. */
export function retrainParamsOf(input: StepInput) {
  const w = input.with as Record<string, unknown> & {
    arch: number[];
    label?: string;
    gan?: object;
    train?: object;
  };
  return {
    ...DEFAULT_RETRAIN,
    ...w,
    gan: { ...DEFAULT_RETRAIN.gan, ...(w.gan ?? {}) },
    train: { ...DEFAULT_RETRAIN.train, ...(w.train ?? {}) },
    label: w.label ?? `top${(input.index ?? 0) + 1}`,
    runId: input.runId,
    dataset: input.spec.dataset,
    artifacts: input.spec.artifacts.path,
    seed: input.spec.seed,
    backend: input.spec.backend,
    taskQueues: input.spec.taskQueues,
  };
}
