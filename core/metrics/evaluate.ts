// Scores a stream of images with a feature network: IS and/or FID statistics, batched, with
// progress, memory flat in the number of images. Images are quantized to 8 bits first.
import * as tf from '@tensorflow/tfjs';
import { StatsAccumulator, type GaussianStats } from './fid';
import { quantize, type FeatureNetwork } from './features';
import { InceptionScoreAccumulator } from './inception-score';

/** Yields batches of images in [-1, 1]; `next(n)` returns up to n images (callers dispose). */
export interface ImageSource {
  count: number;
  next(n: number): tf.Tensor4D;
}

export interface EvaluateOptions {
  images: number;
  batchSize?: number;
  is?: boolean;
  stats?: boolean;
  splits?: number;
  /**
   * Called after each batch; a returned promise is awaited (a caller can heartbeat there, or stop
   * the evaluation by throwing).
   * @default undefined
   */
  onProgress?: (done: number, total: number) => void | Promise<void>;
}

export interface Evaluation {
  images: number;
  is?: { mean: number; std: number };
  stats?: GaussianStats;
}

export async function evaluateImages(
  net: FeatureNetwork,
  source: ImageSource,
  o: EvaluateOptions,
): Promise<Evaluation> {
  const total = o.images;
  const bs = o.batchSize ?? 100;
  const isAcc =
    o.is !== false ? new InceptionScoreAccumulator(net.classes, total, o.splits ?? 10) : undefined;
  const statAcc = o.stats ? new StatsAccumulator(net.featureDim) : undefined;
  let done = 0;
  while (done < total) {
    const n = Math.min(bs, total - done);
    const batch = source.next(n);
    const { probs, features } = tf.tidy(() => net.run(quantize(batch)));
    batch.dispose();
    if (isAcc) isAcc.add(await probs.data());
    if (statAcc) statAcc.add(await features.data());
    probs.dispose();
    features.dispose();
    done += n;
    await o.onProgress?.(done, total);
    await new Promise((r) => setImmediate(r)); // let heartbeats and I/O run
  }
  return {
    images: total,
    ...(isAcc ? { is: isAcc.result() } : {}),
    ...(statAcc ? { stats: statAcc.stats() } : {}),
  };
}
