// Reproduces core/metrics/digit-classifier/: a small CNN on the embedded MNIST digits at 16×16
// (the digits padded to 32×32, then 2×2-averaged, as the demo's data loader prepares them).
// Digits 0..7999 train it, 8000..9999 measure it. Seeded; prints the test accuracy as JSON.
//   npm run build && node dist/tools/train-digit-classifier.js [outDir]
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../core/backend';
import { openMnist } from '../core/datasets/mnist';
import { prepareImages } from '../core/datasets/loader';
import { DIGIT_CLASSIFIER_DIR } from '../core/metrics/features';
import { Rng } from '../core/rng';

export const TRAIN_COUNT = 8000;

function saveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts) {
      fs.mkdirSync(dir, { recursive: true });
      const data = artifacts.weightData as ArrayBuffer;
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(data));
      const json = {
        format: 'layers-model',
        generatedBy: 'autogan tools/train-digit-classifier',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  };
}

export function digitData(start: number, n: number): { x: tf.Tensor4D; y: tf.Tensor2D; labels: number[] } {
  const ds = openMnist();
  const x = prepareImages(ds.read(start, n), n, 28, 28, 1, 16, 1);
  const labels = Array.from({ length: n }, (_, i) => ds.label(start + i)!);
  return { x, y: tf.oneHot(tf.tensor1d(labels, 'int32'), 10) as tf.Tensor2D, labels };
}

async function main() {
  const out = process.argv[2] ?? DIGIT_CLASSIFIER_DIR();
  await selectBackend('auto');
  const rng = new Rng(1234);
  // Seed the layer initialisers through tf's own seeded RNG.
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [16, 16, 1],
        filters: 16,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({
        filters: 32,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(2),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 64, activation: 'relu', name: 'features', kernelInitializer: init(3) }),
      tf.layers.dense({ units: 10, activation: 'softmax', name: 'probs', kernelInitializer: init(4) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const train = digitData(0, TRAIN_COUNT);
  const test = digitData(TRAIN_COUNT, 10000 - TRAIN_COUNT);
  for (let epoch = 0; epoch < 8; epoch++) {
    // Seeded shuffle, and slight blur on half the images so low-quality samples stay classifiable.
    const perm = Array.from(rng.permutation(TRAIN_COUNT));
    const xs = tf.tidy(() => {
      const x = tf.gather(train.x, perm);
      const blurred = tf.image.resizeBilinear(
        tf.avgPool(x, 2, 2, 'valid') as tf.Tensor4D,
        [16, 16],
        false,
        true,
      );
      const mask = tf.tensor4d(
        perm.map(() => (rng.next() < 0.5 ? 1 : 0)),
        [TRAIN_COUNT, 1, 1, 1],
      );
      return tf.add(tf.mul(x, tf.sub(1, mask)), tf.mul(blurred, mask));
    });
    const ys = tf.gather(train.y, perm);
    await model.fit(xs, ys, { batchSize: 64, epochs: 1, shuffle: false, verbose: 0 });
    xs.dispose();
    ys.dispose();
  }
  const pred = tf.tidy(() => (model.predict(test.x) as tf.Tensor).argMax(1).arraySync() as number[]);
  const accuracy = pred.filter((p, i) => p === test.labels[i]).length / pred.length;
  await model.save(saveHandler(out));
  console.log(
    JSON.stringify({ testAccuracy: accuracy, testImages: pred.length, params: model.countParams(), out }),
  );
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
