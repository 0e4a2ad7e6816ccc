// Parameters of retraining a derived architecture (the `with:` of `autogan.retrain`). Pure.
import { CHECKPOINT_DEFAULTS, DERIVED_WIDTHS, GAN_DEFAULTS, TRAIN_DEFAULTS } from '../core/defaults';
import { specParams, type StepInput } from './plan';
import type { NetworkRef } from './search-params';

// A derived generator's cell count comes from its architecture, not from the sizes.
const { cells: _cells, ...derivedSizes } = { ...GAN_DEFAULTS, ...DERIVED_WIDTHS };

export const DEFAULT_RETRAIN = {
  gan: derivedSizes,
  train: { ...TRAIN_DEFAULTS },
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
  checkpointMinSeconds: CHECKPOINT_DEFAULTS.minSeconds as number,
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
    ...specParams(input.spec),
  };
}
