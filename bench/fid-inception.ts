// Benchmark: the FID Inception's throughput on this machine — IS and FID statistics of generated-
// size images (32×32 by default, resized to 299 inside) through the same streaming evaluator the
// CLI and pipelines use — and the projected time for the 50,000 images of a paper evaluation.
// Images are made per batch and dropped, so memory stays flat however many are scored. Uses the
// converted weights when FID_INCEPTION_DIR is set, else the synthetic ones (speed does not depend
// on the values). Prints JSON.
//
//   npm run bench:fid-inception            # BENCH_IMAGES (200), BENCH_BATCH (32), BENCH_SIZE (32)
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../core/backend';
import { evaluateImages, type ImageSource } from '../core/metrics/evaluate';
import { FidInception, loadFidInception, syntheticStateDict } from '../core/metrics/fid-inception';

const envInt = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};

async function main() {
  const info = await selectBackend('auto', () => undefined);
  const images = envInt('BENCH_IMAGES', 200);
  const batchSize = envInt('BENCH_BATCH', 32);
  const size = envInt('BENCH_SIZE', 32);
  const dir = process.env.FID_INCEPTION_DIR;
  const net = dir
    ? await loadFidInception(dir, { maxBatch: batchSize })
    : FidInception.fromStateDict(syntheticStateDict(), {
        maxBatch: batchSize,
        name: 'fid-inception (synthetic weights)',
      });
  const source = (count: number): ImageSource => ({
    count,
    next: (n) => tf.randomUniform([n, size, size, 3], -1, 1) as tf.Tensor4D,
  });

  // Warm-up: the first batch pays for kernel selection and allocation.
  await evaluateImages(net, source(batchSize), { images: batchSize, batchSize, is: false, stats: true });
  const tensorsBefore = tf.memory().numTensors;
  let peakBytes = 0;
  let peakRss = 0;
  const t0 = performance.now();
  await evaluateImages(net, source(images), {
    images,
    batchSize,
    is: images >= 10,
    stats: true,
    onProgress: () => {
      peakBytes = Math.max(peakBytes, tf.memory().numBytes);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const tensorsAfter = tf.memory().numTensors;
  net.dispose();
  const rate = images / seconds;
  console.log(
    JSON.stringify(
      {
        benchmark: 'fid-inception',
        backend: info.package,
        device: info.device,
        weights: dir ? `fid-inception:${dir}` : 'synthetic',
        inputSize: size,
        images,
        batchSize,
        seconds: +seconds.toFixed(2),
        imagesPerSecond: +rate.toFixed(2),
        projected50kSeconds: Math.round(50000 / rate),
        projected50kMinutes: +(50000 / rate / 60).toFixed(1),
        peakTensorMB: Math.round(peakBytes / 2 ** 20),
        peakRssMB: Math.round(peakRss / 2 ** 20),
        tensorLeak: tensorsAfter - tensorsBefore,
      },
      null,
      2,
    ),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
