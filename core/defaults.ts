// The reference's defaults, written once as plain data with no imports: the ML core builds its
// option objects from them, and the pipeline parameters (which deterministic workflow code
// imports, so they cannot reach tfjs) reuse them. The step schemas repeat them for `autogan plan`;
// test/defaults.test.ts proves the two agree.

/** Model sizes of the reference search script (exps/autogan_search.sh). */
export const GAN_DEFAULTS = {
  latentDim: 128,
  gfDim: 128,
  dfDim: 64,
  bottomWidth: 4,
  cells: 3,
  channels: 3,
  dSpectralNorm: true,
  skipOut: 'with-skip-ins',
} as const;

/** Widths of derived-architecture training (exps/autogan_cifar10_a.sh). */
export const DERIVED_WIDTHS = { gfDim: 256, dfDim: 128 } as const;

/** GAN training settings shared by the search and retraining. */
export const TRAIN_DEFAULTS = {
  gLr: 2e-4,
  dLr: 2e-4,
  beta1: 0,
  beta2: 0.9,
  nCritic: 5,
  genBatchSize: 128,
  disBatchSize: 64,
  snIterations: 'per-forward',
  adamOffPath: 'zero-grad',
} as const;

/**
 * Checkpoints inside a training activity (not the reference's: it saved once per epoch): at most one
 * every this many seconds of compute, on top of the step interval. At paper scale a checkpoint
 * (weights and Adam state) is ≈ 39 MB; one every 3 minutes bounds both the disk churn and the
 * work a crash loses. Tests and tiny demos set 0 (every `checkpointEvery` steps).
 */
export const CHECKPOINT_DEFAULTS = { minSeconds: 180 } as const;

/** Dynamic reset: the paper's "resetting variance threshold 1e-3" over a 500-loss window. */
export const RESET_DEFAULTS = { window: 500, threshold: 1e-3, measure: 'variance' } as const;

/** The controller and its REINFORCE training (reference cfg.py). */
export const CONTROLLER_DEFAULTS = {
  hiddenSize: 100,
  lr: 3.5e-4,
  beta1: 0,
  beta2: 0.9,
  entropyCoeff: 1e-3,
  baselineDecay: 0.9,
  reinforce: 'reference',
  baselineScope: 'call',
} as const;
