// The FID Inception in tfjs against golden outputs of pytorch-fid's own model code
// (test/fixtures/fid-inception/, made by tools/reference-fixtures/make_fid_inception_fixtures.py):
// structure, parameter count, pool_3 and logits with synthetic weights, the TF1 legacy resize, the
// average pool's padding rule, and tensor leaks.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import {
  BLOCK_NAMES,
  FidInception,
  parameterCount,
  resizeBilinearTf1Legacy,
  stateDictFloats,
  stateDictSpec,
  syntheticPixels,
  syntheticStateDict,
} from '../core/metrics/fid-inception';
import { quantize } from '../core/metrics/features';
import { assertClose, networkImages, outputs, reference } from './helpers/fid-inception';

describe('FID Inception: structure', () => {
  it('has the published state dict’s names and shapes, in order @purejs', () => {
    const ref = reference();
    assert.deepEqual(
      stateDictSpec().map((e) => [e.name, e.shape]),
      ref.stateDict,
    );
  });

  it('has as many parameters as pytorch-fid’s FID Inception (23,850,960) @purejs', () => {
    const ref = reference();
    assert.equal(parameterCount(), ref.parameterCount);
    assert.equal(parameterCount(), 23_850_960);
    assert.equal(stateDictFloats(), ref.stateDictFloats);
  });

  it('the synthetic weights match the fixture recipe (spot checks) @purejs', () => {
    // The fixture's per-block statistics would drift if one tensor differed; this pins the hash.
    const state = syntheticStateDict();
    const w = state.get('Conv2d_1a_3x3.conv.weight')!;
    assert.deepEqual(w.shape, [32, 3, 3, 3]);
    const bound = Math.sqrt(6 / 27);
    assert.ok(w.data.every((v) => Math.abs(v) <= bound));
    assert.ok(state.get('Mixed_7c.branch_pool.bn.running_var')!.data.every((v) => v >= 0.5 && v < 1.5));
  });
});

describe('FID Inception: equivalence with pytorch-fid (synthetic weights)', function () {
  this.timeout(300_000);
  let net: FidInception;
  before(() => {
    net = FidInception.fromStateDict(syntheticStateDict());
  });
  after(() => net?.dispose());

  it('every block has the reference output shape, and pool_3 and the logits agree to float32 tolerance', () => {
    const ref = reference();
    const out = outputs();
    const x = networkImages(ref);
    const seen: Array<{ name: string; shape: number[]; absMean: number }> = [];
    const r = net.forward(x, (name, t) => {
      seen.push({
        name,
        shape: [1, ...t.shape.slice(1)],
        absMean: tf.tidy(() => tf.mean(tf.abs(t.slice(0, 1))).dataSync()[0]),
      });
    });
    x.dispose();
    assert.deepEqual(
      seen.map((b) => b.name),
      [...BLOCK_NAMES],
    );
    for (const [i, b] of ref.blocks.entries()) {
      assert.deepEqual(seen[i].shape, b.shape, `${b.name} output shape`);
      assert.ok(
        Math.abs(seen[i].absMean / b.absMean - 1) < 1e-5,
        `${b.name}: mean |x| ${seen[i].absMean} vs ${b.absMean}`,
      );
    }
    assert.deepEqual(r.pool3.shape, [ref.images.count, 2048]);
    assert.deepEqual(r.logits.shape, [ref.images.count, 1008]);
    const p = assertClose(r.pool3.dataSync(), out.get('pool3')!.data, 'pool_3');
    const l = assertClose(r.logits.dataSync(), out.get('logits')!.data, 'logits');
    console.log(
      `      pool_3 max |diff| ${p.maxAbs.toExponential(2)} (max rel ${p.maxRel.toExponential(2)}), ` +
        `logits max |diff| ${l.maxAbs.toExponential(2)} (max rel ${l.maxRel.toExponential(2)})`,
    );
    tf.dispose([r.pool3, r.logits]);
  });

  it('end to end: 8-bit 32×32 image → TF1 legacy resize → network, through the FeatureNetwork interface', () => {
    const ref = reference();
    const out = outputs();
    const s = ref.e2e.size;
    const pixels = syntheticPixels(ref.e2e.seed, s, s, 3);
    // As a generator's output would arrive: [-1, 1], then quantized as evaluateImages does.
    const images = tf.tidy(() =>
      quantize(tf.sub(tf.div(tf.tensor4d(pixels, [1, s, s, 3]), 127.5), 1) as tf.Tensor4D),
    );
    const { probs, features } = net.run(images);
    images.dispose();
    assertClose(features.dataSync(), out.get('e2e_pool3')!.data, 'e2e pool_3');
    const expected = tf.tidy(() =>
      tf.softmax(tf.tensor2d(Float32Array.from(out.get('e2e_logits')!.data), [1, 1008])).dataSync(),
    );
    assertClose(probs.dataSync(), expected, 'e2e softmax', 1e-3, 1e-5);
    assert.ok(Math.abs(tf.tidy(() => tf.sum(probs).dataSync()[0]) - 1) < 1e-5);
    tf.dispose([probs, features]);
  });

  it('batches larger than maxBatch give the same results, and numTensors stays flat over repeated runs', () => {
    const small = FidInception.fromStateDict(syntheticStateDict(), { maxBatch: 1 });
    try {
      const images = tf.tidy(() =>
        quantize(tf.randomUniform([2, 16, 16, 3], -1, 1, 'float32', 3) as tf.Tensor4D),
      );
      const a = net.run(images);
      const b = small.run(images);
      assertClose(b.features.dataSync(), a.features.dataSync(), 'split batches');
      tf.dispose([a.probs, a.features, b.probs, b.features]);
      const counts: number[] = [];
      for (let k = 0; k < 3; k++) {
        const r = tf.tidy(() => net.run(images));
        tf.dispose([r.probs, r.features]);
        const g = small.run(images);
        tf.dispose([g.probs, g.features]);
        counts.push(tf.memory().numTensors);
      }
      images.dispose();
      assert.deepEqual(counts, [counts[0], counts[0], counts[0]], `numTensors over runs: ${counts}`);
    } finally {
      small.dispose();
    }
  });

  it('the unfolded batch norm gives the same features', () => {
    const ref = reference();
    const out = outputs();
    const plain = FidInception.fromStateDict(syntheticStateDict(), {
      foldBatchNorm: false,
      mergeHeads: false,
    });
    try {
      const x = tf.tidy(() => networkImages(ref).slice(0, 1));
      const r = plain.forward(x);
      x.dispose();
      assertClose(r.pool3.dataSync(), out.get('pool3')!.data.subarray(0, 2048), 'unfolded pool_3');
      tf.dispose([r.pool3, r.logits]);
    } finally {
      plain.dispose();
    }
  });

  it('names every missing, unknown and mis-shaped tensor @purejs', () => {
    const state = syntheticStateDict();
    state.delete('Mixed_6b.branch7x7_2.conv.weight');
    state.set('aux.weight', { shape: [3], data: new Float32Array(3) });
    state.set('fc.bias', { shape: [1000], data: new Float32Array(1000) });
    assert.throws(
      () => FidInception.fromStateDict(state),
      (err: Error) =>
        /1 missing: Mixed_6b\.branch7x7_2\.conv\.weight/.test(err.message) &&
        /1 unknown: aux\.weight/.test(err.message) &&
        /fc\.bias: has \[1000\], expected \[1008\]/.test(err.message),
    );
  });
});

describe('FID Inception: preprocessing', () => {
  it('resizes like TF1 resize_bilinear (no corner alignment, no half-pixel centres) @purejs', () => {
    const ref = reference();
    const out = outputs();
    for (const c of ref.resize) {
      const input = out.get(`resize_${c.name}_in`)!;
      const expected = out.get(`resize_${c.name}_out`)!;
      const got = tf.tidy(() => {
        const x = tf.tensor4d(Float32Array.from(input.data), [1, ...input.shape] as [
          number,
          number,
          number,
          number,
        ]);
        return resizeBilinearTf1Legacy(x, c.out[0], c.out[1]).dataSync();
      });
      assert.deepEqual(expected.shape, c.out);
      // The fixture interpolates in float32 as TF does (so does the native backend); pure JS
      // interpolates in float64. Either agrees to ~1e-3 of a grey level.
      assertClose(got, expected.data, `resize ${c.name}`, 0, 4e-6);
    }
  });

  it('differs from half-pixel-centre resizing (pytorch-fid’s F.interpolate), so the test can tell @purejs', () => {
    const out = outputs();
    const input = out.get('resize_cifar32_to299_in')!;
    const expected = out.get('resize_cifar32_to299_out')!;
    const modern = tf.tidy(() =>
      tf.image
        .resizeBilinear(tf.tensor4d(Float32Array.from(input.data), [1, 32, 32, 3]), [299, 299], false, true)
        .dataSync(),
    );
    let maxDiff = 0;
    for (let i = 0; i < modern.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(modern[i] - expected.data[i]));
    assert.ok(maxDiff > 10, `half-pixel centres should differ visibly, max diff ${maxDiff}`);
  });

  it('average pooling with SAME padding leaves the padding out of the mean, as the 2015 graph does @purejs', () => {
    const y = tf.tidy(() => tf.avgPool(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, 3, 1, 'same').dataSync());
    assert.ok(
      y.every((v) => Math.abs(v - 1) < 1e-7),
      `corners would be 4/9 with padding counted: ${y}`,
    );
  });
});
