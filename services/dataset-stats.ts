// The `dataset.stats` step's tensor work: pixel mean, std, min and max of a range of images. It
// runs in a tensor host like training does, so a GPU worker's own process holds no device memory.
import * as tf from '@tensorflow/tfjs';
import { currentBackend } from '../core/backend';
import { openDataset } from '../core/datasets';
import type { DatasetRef } from '../pipeline/plan';
import type { Hooks } from './search/context';

export interface PixelStats {
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** The tensor package that computed them. */
  backend: string;
}

export class ShardRangeError extends Error {
  override name = 'PipelineInputError';
}

export async function pixelStats(
  dataset: DatasetRef,
  shard: { start: number; end: number },
  batchSize: number,
  hooks: Hooks,
): Promise<PixelStats> {
  const ds = openDataset(dataset);
  const { start, end } = shard;
  if (end <= start || end > ds.count)
    throw new ShardRangeError(`shard [${start}, ${end}) is outside the dataset's ${ds.count} images`);
  let sum = 0;
  let sumSq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i += batchSize) {
    const n = Math.min(batchSize, end - i);
    const [s, s2, lo, hi] = tf.tidy(() => {
      const x = tf.tensor1d(ds.read(i, n));
      return [x.sum(), x.square().sum(), x.min(), x.max()].map((t) => t.dataSync()[0]);
    });
    sum += s;
    sumSq += s2;
    min = Math.min(min, lo);
    max = Math.max(max, hi);
    hooks.progress({ step: i + n - start, total: end - start });
    await hooks.atStepBoundary();
  }
  const count = (end - start) * ds.height * ds.width * ds.channels;
  const mean = sum / count;
  return {
    count: end - start,
    mean,
    std: Math.sqrt(Math.max(0, sumSq / count - mean * mean)),
    min,
    max,
    backend: currentBackend()?.package ?? 'unknown',
  };
}
