import type { GanConfig } from '../../core/gan/config';
import { DEFAULT_TRAIN, type TrainConfig } from '../../core/gan/trainer';

/** A GAN small enough for unit tests on pure JS: 3 cells from a 2×2 map, 16×16 single-channel output. */
export const TINY_GAN: GanConfig = {
  latentDim: 8,
  gfDim: 4,
  dfDim: 4,
  bottomWidth: 2,
  cells: 3,
  channels: 1,
  dSpectralNorm: true,
};

export const TINY_TRAIN: TrainConfig = { ...DEFAULT_TRAIN, nCritic: 2, genBatchSize: 4, disBatchSize: 4 };
