// Child process for the backend tests: selects the backend as a worker does (AUTOGAN_BACKEND is
// honoured), trains a tiny GAN a few steps from a fixed seed and prints one JSON line with the
// backend record and the losses, so two backends can be compared in separate processes (a native
// library is loaded once per process).
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../core/backend';
import { GanTrainer } from '../../core/gan/trainer';
import { TINY_GAN, TINY_TRAIN } from './tiny-gan';

async function main() {
  const log: string[] = [];
  const backend = await selectBackend('auto', (l) => log.push(l));
  const t = GanTrainer.create(TINY_GAN, TINY_TRAIN, {
    seed: 3,
    arch: [1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 3],
  });
  const real = tf.randomUniform([TINY_TRAIN.disBatchSize, 16, 16, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
  const losses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = t.step(real);
    losses.push(r.dLoss, ...(r.gLoss === undefined ? [] : [r.gLoss]));
  }
  real.dispose();
  t.dispose();
  console.log(JSON.stringify({ backend, log, losses, numTensors: tf.memory().numTensors }));
}

main().catch((err) => {
  console.error((err as Error).stack);
  process.exit(1);
});
