// Child process for test/async-executor.test.ts: a few training steps of the tiny GAN on the
// native backend with whatever executor AUTOGAN_TFE_ASYNC selects, printing one JSON line (the
// executor, the losses, a hash of every weight, tensor counts), or with `error` an op that fails
// in its kernel followed by one that must still run.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { finishQueuedOps, selectBackend } from '../../core/backend';
import { setHostReadsInGradients } from '../../core/nn/spectral-norm';
import { GanTrainer } from '../../core/gan/trainer';
import { TINY_GAN, TINY_TRAIN } from './tiny-gan';

async function main() {
  const info = await selectBackend('tensorflow', () => undefined);
  // The synchronous run computes the σ gradient as the async one does, for bit-equality.
  if (process.env.AUTOGAN_TEST_SIGMA_ON_DEVICE === '1') setHostReadsInGradients(false);
  if (process.argv[2] === 'error') {
    let message = '';
    try {
      // Straight to TensorFlow (tf.gather checks indices in JavaScript first): the kernel fails.
      const be = tf.backend() as unknown as {
        binding: Record<string, number>;
        executeSingleOutput(name: string, attrs: unknown[], inputs: tf.TensorInfo[]): tf.TensorInfo;
      };
      const b = be.binding;
      const type = (name: string, value: number) => ({ name, type: b.TF_ATTR_TYPE, value });
      const out = be.executeSingleOutput(
        'GatherV2',
        [
          type('Tparams', b.TF_FLOAT),
          type('Tindices', b.TF_INT32),
          type('Taxis', b.TF_INT32),
          { name: 'batch_dims', type: b.TF_ATTR_INT, value: 0 },
        ],
        [tf.tensor1d([1, 2, 3]), tf.tensor1d([7], 'int32'), tf.scalar(0, 'int32')],
      );
      tf.engine().makeTensorFromTensorInfo(out).dataSync();
    } catch (err) {
      message = (err as Error).message;
    }
    const after = tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0];
    console.log(JSON.stringify({ executor: info.executor, message, after }));
    return;
  }
  const t = GanTrainer.create(TINY_GAN, TINY_TRAIN, { seed: 7, stage: 2 });
  const real = tf.tensor4d(
    Array.from({ length: 4 * 16 * 16 }, (_, i) => Math.sin(i * 0.37)),
    [4, 16, 16, 1],
  );
  const arch = [0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 3];
  const losses: number[] = [];
  const tensors: number[] = [];
  for (let i = 0; i < 6; i++) {
    const r = t.step(real, arch);
    losses.push(r.dLoss, r.gLoss ?? NaN);
    finishQueuedOps();
    tensors.push(tf.memory().numTensors);
  }
  const h = createHash('sha256');
  for (const store of [t.G, t.D])
    for (const n of store.names()) h.update(Buffer.from((store.get(n).dataSync() as Float32Array).buffer));
  console.log(JSON.stringify({ executor: info.executor, losses, hash: h.digest('hex'), tensors }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
