// Our trainer for a bench:compare case, as every benchmark of a case builds it: the case's networks
// (spectral-norm D), one D step per G step, seed 1, and one fixed real batch in [-1, 1].
import * as tf from '@tensorflow/tfjs';
import { imageSizeAt, type GanConfig } from '../core/gan/config';
import { DEFAULT_TRAIN, GanTrainer } from '../core/gan/trainer';
import type { CompareCase } from './compare-cases';

export function caseTrainer(c: CompareCase): { gan: GanConfig; trainer: GanTrainer; real: tf.Tensor4D } {
  const gan: GanConfig = {
    latentDim: c.latentDim,
    gfDim: c.gfDim,
    dfDim: c.dfDim,
    bottomWidth: c.bottomWidth,
    cells: c.cells,
    channels: c.channels,
    dSpectralNorm: true,
  };
  const train = { ...DEFAULT_TRAIN, nCritic: 1, genBatchSize: c.gBatch, disBatchSize: c.dBatch };
  // The supernet trains every choice's weights; a derived case only the path its vector selects.
  const trainer = GanTrainer.create(gan, train, {
    seed: 1,
    stage: c.stage,
    ...(c.supernet ? {} : { arch: c.arch }),
  });
  const size = imageSizeAt(gan, c.stage);
  const real = tf.randomUniform([c.dBatch, size, size, c.channels], -1, 1) as tf.Tensor4D;
  return { gan, trainer, real };
}
