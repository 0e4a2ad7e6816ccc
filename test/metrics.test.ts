import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Matrix } from 'ml-matrix';
import { datasetSource } from '../core/metrics/sources';
import { openMnist } from '../core/datasets/mnist';
import { evaluateImages, type ImageSource } from '../core/metrics/evaluate';
import { fileHandler, loadDigitClassifier, loadTfjsNetwork, quantize } from '../core/metrics/features';
import { frechetDistance, StatsAccumulator, type GaussianStats } from '../core/metrics/fid';
import { inceptionScore, InceptionScoreAccumulator } from '../core/metrics/inception-score';
import { readStatsNpz, writeStatsNpz } from '../core/metrics/npz';
import { Rng } from '../core/rng';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-'));

describe('Inception Score', () => {
  it('is C for confident predictions spread uniformly over C classes, and 1 for identical predictions @purejs', () => {
    const C = 7;
    const n = 70;
    const oneHot = new Float64Array(n * C);
    for (let i = 0; i < n; i++) oneHot[i * C + (i % C)] = 1;
    const is = inceptionScore(oneHot, C, 10);
    assert.ok(Math.abs(is.mean - C) < 1e-9 && is.std < 1e-9, JSON.stringify(is));
    const same = new Float64Array(n * C);
    for (let i = 0; i < n; i++) same.set([0.5, 0.2, 0.1, 0.1, 0.05, 0.05, 0], i * C);
    assert.ok(Math.abs(inceptionScore(same, C, 10).mean - 1) < 1e-12);
  });

  it('the streaming accumulator equals the direct computation', () => {
    const rng = new Rng(1);
    const C = 5;
    const n = 103;
    const probs = new Float64Array(n * C);
    for (let i = 0; i < n; i++) {
      const row = Array.from({ length: C }, () => rng.next() ** 3);
      const z = row.reduce((a, b) => a + b, 0);
      row.forEach((v, c) => (probs[i * C + c] = v / z));
    }
    const acc = new InceptionScoreAccumulator(C, n, 10);
    for (let i = 0; i < n; i += 17) acc.add(probs.subarray(i * C, Math.min(n, i + 17) * C));
    const a = acc.result();
    const b = inceptionScore(probs, C, 10);
    assert.ok(Math.abs(a.mean - b.mean) < 1e-10 && Math.abs(a.std - b.std) < 1e-10);
  });
});

function gaussian(d: number, rng: Rng, scale = 1): GaussianStats {
  const a = Matrix.zeros(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a.set(i, j, rng.normal() * scale);
  const sigma = a.mmul(a.transpose()).add(Matrix.eye(d).mul(0.1));
  return {
    mu: Float64Array.from({ length: d }, () => rng.normal()),
    sigma: Float64Array.from(sigma.to1DArray()),
    dim: d,
  };
}

/** Independent check: Tr sqrt(Σ1Σ2) by the Denman–Beavers iteration (no eigendecomposition). */
function fidByDenmanBeavers(a: GaussianStats, b: GaussianStats): number {
  const d = a.dim;
  const s1 = new Matrix(
    Array.from({ length: d }, (_, i) => Array.from(a.sigma.subarray(i * d, (i + 1) * d))),
  );
  const s2 = new Matrix(
    Array.from({ length: d }, (_, i) => Array.from(b.sigma.subarray(i * d, (i + 1) * d))),
  );
  let y = s1.mmul(s2);
  let z = Matrix.eye(d);
  for (let k = 0; k < 100; k++) {
    const yi = inverse(y);
    const zi = inverse(z);
    [y, z] = [y.add(zi).mul(0.5), z.add(yi).mul(0.5)];
  }
  let diff = 0;
  for (let i = 0; i < d; i++) diff += (a.mu[i] - b.mu[i]) ** 2;
  return diff + s1.trace() + s2.trace() - 2 * y.trace();
}

function inverse(m: Matrix): Matrix {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('ml-matrix') as typeof import('ml-matrix')).inverse(m);
}

describe('FID', () => {
  it('is ~0 between a distribution and itself @purejs', () => {
    const g = gaussian(12, new Rng(2));
    assert.ok(Math.abs(frechetDistance(g, g)) < 1e-8);
  });

  it('matches the closed form for diagonal Gaussians', () => {
    const d = 6;
    const v1 = [1, 2, 3, 4, 5, 6];
    const v2 = [2, 2, 1, 9, 0.5, 3];
    const diag = (v: number[]) => {
      const s = new Float64Array(d * d);
      v.forEach((x, i) => (s[i * d + i] = x));
      return s;
    };
    const a = { mu: Float64Array.from([0, 0, 0, 0, 0, 0]), sigma: diag(v1), dim: d };
    const b = { mu: Float64Array.from([1, 0, 2, 0, 0, 0]), sigma: diag(v2), dim: d };
    const closed = 5 + v1.reduce((acc, x, i) => acc + x + v2[i] - 2 * Math.sqrt(x * v2[i]), 0);
    assert.ok(Math.abs(frechetDistance(a, b) - closed) < 1e-10);
  });

  it('agrees with an independent float64 computation to 1e-6 relative on random statistics', () => {
    const rng = new Rng(3);
    for (let t = 0; t < 3; t++) {
      const a = gaussian(20, rng);
      const b = gaussian(20, rng, 0.7);
      const got = frechetDistance(a, b);
      const ref = fidByDenmanBeavers(a, b);
      assert.ok(Math.abs(got - ref) / Math.abs(ref) < 1e-6, `${got} vs ${ref}`);
    }
  });

  it('accumulates mean and covariance in float64 like a direct computation', () => {
    const rng = new Rng(4);
    const rows = Array.from({ length: 50 }, () => [rng.normal(), rng.normal() * 2 + 1, rng.normal()]);
    const acc = new StatsAccumulator(3);
    acc.add(rows.slice(0, 20).flat());
    acc.add(rows.slice(20).flat());
    const st = acc.stats();
    const mean = [0, 1, 2].map((j) => rows.reduce((a, r) => a + r[j], 0) / 50);
    const cov01 = rows.reduce((a, r) => a + (r[0] - mean[0]) * (r[1] - mean[1]), 0) / 49;
    assert.ok(
      Math.abs(st.mu[1] - mean[1]) < 1e-12 &&
        Math.abs(st.sigma[1] - cov01) < 1e-12 &&
        st.sigma[3] === st.sigma[1],
    );
  });

  it('round-trips statistics through .npz (mu, sigma) and names what is missing @purejs', () => {
    const file = path.join(tmp(), 'stats.npz');
    const g = gaussian(5, new Rng(5));
    writeStatsNpz(file, g);
    const back = readStatsNpz(file);
    assert.deepEqual(Array.from(back.mu), Array.from(g.mu));
    assert.deepEqual(Array.from(back.sigma), Array.from(g.sigma));
    const bin = fs.readFileSync(file);
    assert.equal(bin.readUInt32LE(0), 0x04034b50, 'a zip archive');
    assert.ok(
      bin.includes(Buffer.from("{'descr': '<f8', 'fortran_order': False, 'shape': (5, 5), }")),
      'numpy header',
    );
    fs.writeFileSync(path.join(path.dirname(file), 'x.npz'), 'not a zip');
    assert.throws(() => readStatsNpz(path.join(path.dirname(file), 'x.npz')), /not an \.npz \(zip\) file/);
  });
});

describe('feature networks', function () {
  this.timeout(120_000);

  it('quantizes like a saved PNG: scale to [0, 255], clamp, truncate', () => {
    const q = tf.tidy(() => quantize(tf.tensor4d([-1.5, -1, 0, 0.999, 1, 2], [1, 1, 6, 1])).dataSync());
    const expected = [0, 0, 127, 254, 255, 255].map((v) => v / 127.5 - 1);
    q.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${i}: ${v}`));
  });

  it('loads a tfjs layers model from disk with resizing and named feature layer, matching the model', async () => {
    const dir = tmp();
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [8, 8, 3],
          filters: 2,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 5,
          name: 'pool',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
        tf.layers.dense({
          units: 3,
          activation: 'softmax',
          name: 'probs',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        }),
      ],
    });
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.from(a.weightData as ArrayBuffer));
        fs.writeFileSync(
          path.join(dir, 'model.json'),
          JSON.stringify({
            format: 'layers-model',
            modelTopology: a.modelTopology,
            weightsManifest: [{ paths: ['w.bin'], weights: a.weightSpecs }],
          }),
        );
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const net = await loadTfjsNetwork({
      source: dir,
      format: 'layers',
      inputSize: 8,
      inputChannels: 3,
      inputRange: '[0,1]',
      featuresNode: 'pool',
      softmax: false,
    });
    assert.equal(net.classes, 3);
    assert.equal(net.featureDim, 5);
    const img = tf.randomUniform([2, 4, 4, 1], -1, 1, 'float32', 9) as tf.Tensor4D;
    const { probs, features } = net.run(img);
    const direct = tf.tidy(
      () =>
        model.predict(
          tf.div(tf.add(tf.tile(tf.image.resizeBilinear(img, [8, 8], false, true), [1, 1, 1, 3]), 1), 2),
        ) as tf.Tensor,
    );
    assert.ok(tf.max(tf.abs(tf.sub(probs, direct))).dataSync()[0] < 1e-5);
    assert.deepEqual(features.shape, [2, 5]);
    [img, probs, features, direct].forEach((t) => t.dispose());
    net.dispose();
    await assert.rejects(
      loadTfjsNetwork({
        source: dir,
        format: 'layers',
        inputSize: 8,
        inputChannels: 3,
        inputRange: '[0,1]',
        featuresNode: 'nope',
        softmax: false,
      }),
      /no layer "nope"/,
    );
    await assert.rejects(
      fileHandler(path.join(dir, 'missing')).load!(),
      /missing\/model.json does not exist|missing does not exist/,
    );
  });

  it('the bundled digit classifier scores real digits near 10 and noisy, blurred digits clearly lower', async () => {
    const net = await loadDigitClassifier();
    const n = 1000;
    const real = await evaluateImages(net, datasetSource(openMnist()), { images: n, batchSize: 250 });
    const rng = new Rng(6);
    const base = datasetSource(openMnist());
    const damaged: ImageSource = {
      count: n,
      next: (k) =>
        tf.tidy(() => {
          const x = base.next(k);
          const blurred = tf.image.resizeBilinear(
            tf.avgPool(x, 4, 4, 'valid') as tf.Tensor4D,
            [32, 32],
            false,
            true,
          );
          return tf.clipByValue(
            tf.add(blurred, tf.tensor(rng.normals(blurred.size, 0.6), blurred.shape)),
            -1,
            1,
          ) as tf.Tensor4D;
        }),
    };
    const bad = await evaluateImages(net, damaged, { images: n, batchSize: 250 });
    net.dispose();
    assert.ok(real.is!.mean > 8.5, `IS of real digits ${real.is!.mean}`);
    assert.ok(
      bad.is!.mean < real.is!.mean - 2,
      `IS of damaged digits ${bad.is!.mean} vs real ${real.is!.mean}`,
    );
  });
});
