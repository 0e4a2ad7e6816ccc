// Benchmark: conv2d and matMul throughput on each backend, against this machine's float32 limit
// measured by a large native matrix product (TensorFlow's multithreaded GEMM). Prints JSON.
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../core/backend';

function bestOf(reps: number, fn: () => void): number {
  fn(); // warm-up
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best / 1000;
}

function matmulGflops(n: number, reps: number): number {
  const a = tf.randomNormal([n, n]) as tf.Tensor2D;
  const s = bestOf(reps, () => tf.tidy(() => void tf.matMul(a, a).dataSync()));
  a.dispose();
  return (2 * n ** 3) / s / 1e9;
}

function conv2dGflops(batch: number, size: number, ch: number, reps: number): number {
  const x = tf.randomNormal([batch, size, size, ch]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, ch, ch]) as tf.Tensor4D;
  const s = bestOf(reps, () => tf.tidy(() => void tf.conv2d(x, w, 1, 'same').dataSync()));
  x.dispose();
  w.dispose();
  return (2 * batch * size * size * 9 * ch * ch) / s / 1e9;
}

async function main() {
  const out: Record<string, unknown> = {};
  let limit: number | undefined;
  try {
    await selectBackend('tensorflow', () => undefined);
    limit = matmulGflops(2048, 5);
  } catch (err) {
    out.machineLimitError = (err as Error).message;
  }
  out.machineFloat32GflopsNativeMatmul2048 = limit && +limit.toFixed(1);
  for (const b of ['tensorflow', 'cpu'] as const) {
    try {
      const info = await selectBackend(b, () => undefined);
      const slow = b === 'cpu';
      const rows = {
        matmul256: matmulGflops(256, slow ? 2 : 10),
        matmul512: matmulGflops(512, slow ? 1 : 10),
        conv2d_b32_16px_c16: conv2dGflops(32, 16, 16, slow ? 1 : 10),
        conv2d_b32_32px_c64: conv2dGflops(32, 32, 64, slow ? 1 : 5),
      };
      out[info.package] = Object.fromEntries(
        Object.entries(rows).map(([k, v]) => [
          k,
          { gflops: +v.toFixed(3), ...(limit ? { shareOfLimit: +(v / limit).toFixed(4) } : {}) },
        ]),
      );
    } catch (err) {
      out[b] = { error: (err as Error).message };
    }
  }
  console.log(JSON.stringify({ benchmark: 'kernels', date: new Date().toISOString(), ...out }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
