// Benchmark: IS and FID-statistics throughput with the bundled digit classifier (images/s), and
// the time of one FID between 2048-dimensional statistics (the Inception-v3 pool_3 size). JSON.
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../core/backend';
import { evaluateImages, type ImageSource } from '../core/metrics/evaluate';
import { loadDigitClassifier } from '../core/metrics/features';
import { frechetDistance, type GaussianStats } from '../core/metrics/fid';
import { Rng } from '../core/rng';

function randomStats(d: number, rng: Rng): GaussianStats {
  // A random covariance of rank d from 2d samples, like real feature statistics.
  const n = 2 * d;
  const x = new Float64Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const sigma = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      const xi = x[r * d + i];
      if (xi === 0) continue;
      for (let j = i; j < d; j++) sigma[i * d + j] += xi * x[r * d + j];
    }
  }
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) sigma[j * d + i] = sigma[i * d + j] /= n - 1;
  return { mu: Float64Array.from({ length: d }, () => rng.normal()), sigma, dim: d };
}

async function main() {
  const info = await selectBackend('auto', () => undefined);
  const net = await loadDigitClassifier();
  const images = 10000;
  const source = (): ImageSource => ({
    count: images,
    next: (n) => tf.randomUniform([n, 16, 16, 1], -1, 1) as tf.Tensor4D,
  });
  let t = performance.now();
  await evaluateImages(net, source(), { images, batchSize: 500 });
  const isRate = images / ((performance.now() - t) / 1000);
  t = performance.now();
  await evaluateImages(net, source(), { images, batchSize: 500, is: false, stats: true });
  const statsRate = images / ((performance.now() - t) / 1000);
  net.dispose();
  const dims = (process.env.FID_DIMS ?? '64,512,2048').split(',').map(Number);
  const fid: Record<string, number> = {};
  const rng = new Rng(1);
  for (const d of dims) {
    const a = randomStats(d, rng);
    const b = randomStats(d, rng);
    t = performance.now();
    frechetDistance(a, b);
    fid[`dim${d}Seconds`] = +((performance.now() - t) / 1000).toFixed(3);
  }
  console.log(
    JSON.stringify(
      {
        benchmark: 'metrics',
        backend: info.package,
        network: 'digit-classifier (16×16, 64-d features)',
        isImagesPerSecond: Math.round(isRate),
        fidStatsImagesPerSecond: Math.round(statsRate),
        fid,
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
