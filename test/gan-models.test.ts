import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { cellChoiceCounts, vectorLength } from '../core/arch/encoding';
import { imageSizeAt } from '../core/gan/config';
import { discriminate, discriminatorSpecs, refreshSpectralNorm, snLayers } from '../core/gan/discriminator';
import { generate, generatorSpecs, pathWeights } from '../core/gan/generator';
import {
  evalContext,
  instanceNorm,
  trainingContext,
  upsampleBilinear,
  upsampleNearest,
} from '../core/nn/layers';
import { ParamStore } from '../core/nn/params';
import { weightMatrix } from '../core/nn/spectral-norm';
import { Rng } from '../core/rng';
import { TINY_GAN } from './helpers/tiny-gan';

/** Every vector of one stage that varies a single field of one cell, plus a base. */
function fieldSweeps(stage: number): number[][] {
  const base = new Array(vectorLength(stage)).fill(0);
  const out: number[][] = [base];
  let at = 0;
  for (let s = 0; s <= stage; s++) {
    for (const n of cellChoiceCounts(s)) {
      for (let v = 1; v < n; v++) out.push(base.map((x, i) => (i === at ? v : x)));
      at++;
    }
  }
  return out;
}

function allStage0(): number[][] {
  const out: number[][] = [];
  for (let a = 0; a < 2; a++)
    for (let b = 0; b < 3; b++)
      for (let c = 0; c < 3; c++) for (let d = 0; d < 2; d++) out.push([a, b, c, d]);
  return out;
}

describe('shared generator and discriminator', function () {
  this.timeout(300_000);
  let G: ParamStore;
  let D: ParamStore;
  before(() => {
    const rng = new Rng(1);
    G = new ParamStore(generatorSpecs(TINY_GAN), rng);
    D = new ParamStore(discriminatorSpecs(TINY_GAN), rng);
  });
  after(() => {
    G.dispose();
    D.dispose();
  });

  const z = () => tf.tensor2d(new Rng(2).normals(2 * TINY_GAN.latentDim), [2, TINY_GAN.latentDim]);

  it('makes images of the stage resolution for all 36 stage-0 architectures, in [-1, 1]', () => {
    for (const arch of allStage0()) {
      tf.tidy(() => {
        const img = generate(G, TINY_GAN, arch, z(), trainingContext());
        assert.deepEqual(img.shape, [2, 4, 4, 1], `arch ${arch}`);
        const [lo, hi] = [img.min().dataSync()[0], img.max().dataSync()[0]];
        assert.ok(lo >= -1 && hi <= 1 && Number.isFinite(lo + hi), `arch ${arch}: range ${lo}..${hi}`);
        assert.deepEqual(discriminate(D, TINY_GAN, 0, img).shape, [2, 1]);
      });
    }
  });

  it('makes images of the right size for every choice of every field at stages 1 and 2', () => {
    for (const stage of [1, 2]) {
      for (const arch of fieldSweeps(stage)) {
        tf.tidy(() => {
          const img = generate(G, TINY_GAN, arch, z(), evalContext());
          const size = imageSizeAt(TINY_GAN, stage);
          assert.deepEqual(img.shape, [2, size, size, 1], `arch ${arch}`);
          assert.deepEqual(discriminate(D, TINY_GAN, stage, img).shape, [2, 1]);
        });
      }
    }
  });

  it('sends gradients to every weight on the sampled path and to no weight off it @purejs', () => {
    const rng = new Rng(11);
    const archs = [
      [1, 1, 2, 1, 0, 2, 0, 1, 1, 1, 1, 2, 1, 3], // pre, bn, deconv; skips with deconv ×2 and ×4
      [0, 2, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 2],
    ];
    for (const arch of archs) {
      const { grads } = tf.variableGrads(
        () => tf.sum(generate(G, TINY_GAN, arch, z(), trainingContext())) as tf.Scalar,
        G.trainable(),
      );
      const got = Object.keys(grads)
        .map((k) => k.slice(k.indexOf('/') + 1))
        .sort();
      assert.deepEqual(got, pathWeights(TINY_GAN, arch).sort(), `arch ${arch}`);
      for (const g of Object.values(grads)) {
        const norm = g.abs().sum().dataSync()[0];
        assert.ok(Number.isFinite(norm));
      }
      Object.values(grads).forEach((g) => g.dispose());
    }
    void rng;
  });

  it('spectral norm keeps the largest singular value of every D weight near 1', () => {
    for (let i = 0; i < 30; i++) refreshSpectralNorm(D, TINY_GAN, 2);
    for (const name of snLayers(TINY_GAN)) {
      const m = tf.tidy(() => {
        const w = D.get(`${name}.w`);
        const u = tf.reshape(D.get(`${name}.sn_u`), [1, -1]);
        const v = tf.reshape(D.get(`${name}.sn_v`), [-1, 1]);
        const s = tf.matMul(tf.matMul(u, weightMatrix(w)), v);
        return weightMatrix(tf.div(w, s)).arraySync() as number[][];
      });
      assert.ok(Math.abs(topSingularValue(m) - 1) < 1e-2, `${name}: σ = ${topSingularValue(m)}`);
    }
  });

  it('grows D with the stage: a stage-k D takes stage-k images', () => {
    for (let stage = 0; stage < 3; stage++) {
      const s = imageSizeAt(TINY_GAN, stage);
      tf.tidy(() => assert.deepEqual(discriminate(D, TINY_GAN, stage, tf.zeros([3, s, s, 1])).shape, [3, 1]));
    }
  });
});

/** Largest singular value by power iteration on MᵀM, in plain JS float64. */
function topSingularValue(m: number[][]): number {
  const cols = m[0].length;
  let v = new Array(cols).fill(0).map((_, i) => Math.sin(i + 1));
  let sigma = 0;
  for (let it = 0; it < 500; it++) {
    const mv = m.map((row) => row.reduce((a, x, j) => a + x * v[j], 0));
    const mtmv = new Array(cols).fill(0).map((_, j) => m.reduce((a, row, i) => a + row[j] * mv[i], 0));
    const norm = Math.sqrt(mtmv.reduce((a, x) => a + x * x, 0));
    v = mtmv.map((x) => x / norm);
    sigma = Math.sqrt(norm);
  }
  return sigma;
}

describe('layers', () => {
  it('instance norm matches a direct per-sample, per-channel computation @purejs', () => {
    const data = new Rng(3).normals(2 * 3 * 4 * 2);
    const got = tf.tidy(() => instanceNorm(tf.tensor4d(data, [2, 3, 4, 2])).dataSync());
    for (let n = 0; n < 2; n++) {
      for (let c = 0; c < 2; c++) {
        const idx: number[] = [];
        for (let p = 0; p < 12; p++) idx.push(n * 24 + p * 2 + c);
        const mean = idx.reduce((a, i) => a + data[i], 0) / 12;
        const variance = idx.reduce((a, i) => a + (data[i] - mean) ** 2, 0) / 12;
        for (const i of idx)
          assert.ok(Math.abs(got[i] - (data[i] - mean) / Math.sqrt(variance + 1e-5)) < 1e-4);
      }
    }
  });

  it("bilinear and nearest upsampling match tf.image's half-pixel and legacy geometry @purejs", () => {
    tf.tidy(() => {
      const x = tf.tensor4d(new Rng(4).normals(2 * 5 * 3 * 2), [2, 5, 3, 2]);
      for (const f of [2, 4]) {
        const ref = tf.image.resizeBilinear(x, [5 * f, 3 * f], false, true);
        assert.ok(tf.max(tf.abs(tf.sub(upsampleBilinear(x, f), ref))).dataSync()[0] < 1e-5, `bilinear ×${f}`);
        const nn = tf.image.resizeNearestNeighbor(x, [5 * f, 3 * f], false, false);
        assert.equal(tf.max(tf.abs(tf.sub(upsampleNearest(x, f), nn))).dataSync()[0], 0, `nearest ×${f}`);
      }
    });
  });
});
