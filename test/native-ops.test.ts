// The fast paths of the training step against the portable code they replace: TensorFlow's fused
// kernels (batch norm, bilinear resize, bias add, 2-D MatMul) against the tfjs compositions, the
// host-side spectral norm against the tensor form, and the flat Adam against Adam written out per
// tensor. Same inputs, both paths, in one process.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { Adam } from '../core/nn/adam';
import { batchNorm, conv2d, instanceNorm, trainingContext, upsampleBilinear } from '../core/nn/layers';
import { matMul2d, nativeOpsActive, setNativeOpsEnabled } from '../core/nn/native-ops';
import { ParamStore } from '../core/nn/params';
import { fusedConvActive, setFusedConvEnabled } from '../core/nn/fused-conv';
import {
  normalizedWeight,
  powerIterate,
  scaleRowsBySigma,
  setHostReadsInGradients,
  setSpectralNormOnHost,
  sigmaState,
} from '../core/nn/spectral-norm';
import { Rng } from '../core/rng';
import { GanTrainer } from '../core/gan/trainer';
import { generate } from '../core/gan/generator';
import { TINY_GAN, TINY_TRAIN } from './helpers/tiny-gan';

/** max |a − b| / max |b|. */
function maxRel(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  assert.equal(x.length, y.length);
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return diff / scale; // max error relative to the tensor's magnitude
}

/** A [a, b, c, d] tensor of N(mean, std²) draws from `rng` (seeded: the same data on both paths). */
function normal4d(rng: Rng, shape: [number, number, number, number], std = 1, mean = 0): tf.Tensor4D {
  return tf.tensor4d(
    Array.from({ length: shape.reduce((x, y) => x * y) }, () => rng.normal() * std + mean),
    shape,
  );
}

/** Runs `f` with the native kernels on, then off; returns both results (kept). */
function bothPaths<T extends tf.TensorContainer>(f: () => T): { native: T; portable: T } {
  const native = tf.tidy(f);
  setNativeOpsEnabled(false);
  try {
    return { native, portable: tf.tidy(f) };
  } finally {
    setNativeOpsEnabled(true);
  }
}

describe('native kernels and host-side arithmetic', function () {
  before(function () {
    if (!nativeOpsActive()) this.skip(); // the pure-JS pass has only the portable path
  });

  it('fused train-mode batch norm: output, running statistics and gradients match moments + autodiff', () => {
    const rng = new Rng(3);
    const store = () => {
      const p = new ParamStore(
        [
          { name: 'bn.gamma', shape: [5], init: { kind: 'normal', mean: 1, std: 0.3 }, trainable: true },
          { name: 'bn.beta', shape: [5], init: { kind: 'normal', mean: 0, std: 0.3 }, trainable: true },
          { name: 'bn.mean', shape: [5], init: { kind: 'normal', mean: 0, std: 1 }, trainable: false },
          { name: 'bn.var', shape: [5], init: { kind: 'const', value: 2 }, trainable: false },
        ],
        new Rng(4),
      );
      return p;
    };
    const x = normal4d(rng, [6, 3, 3, 5], 2, 1);
    const weights = normal4d(rng, [6, 3, 3, 5]);
    const run = () => {
      const p = store();
      const ctx = trainingContext();
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(batchNorm(p, 'bn', x, ctx), weights)) as tf.Scalar,
        p.trainable(),
      );
      const dx = tf.grad((xx: tf.Tensor) =>
        tf.sum(tf.mul(batchNorm(p, 'bn', xx as tf.Tensor4D, trainingContext()), weights)),
      )(x);
      const y = batchNorm(p, 'bn', x, trainingContext());
      const stats = ctx.updates.map((u) => u.value);
      const out = [y, value, dx, grads[p.get('bn.gamma').name], grads[p.get('bn.beta').name], ...stats];
      p.dispose();
      return out;
    };
    const { native, portable } = bothPaths(run);
    const names = ['y', 'loss', 'dx', 'dgamma', 'dbeta', 'running mean', 'running var'];
    native.forEach((t, i) =>
      assert.ok(maxRel(t, portable[i]) < 2e-5, `${names[i]}: ${maxRel(t, portable[i])}`),
    );
    tf.dispose([x, weights, ...native, ...portable]);
  });

  it("ReLU's gradient reads its output (what the next conv saves anyway): the same gradient, one activation fewer held", () => {
    // Exact zeros and negatives in x: the mask must be x > 0 on both sides of the boundary.
    const x = tf.tensor2d([-2, -0, 0, 1e-30, 3, -1e-30, 5, 0.5], [2, 4]);
    const dy = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
    const grad = tf.grad((v: tf.Tensor) => tf.mul(tf.relu(v), dy));
    const { native, portable } = bothPaths(() => grad(x));
    assert.deepEqual(Array.from(native.dataSync()), [0, 0, 0, 4, 5, 0, 7, 8]);
    assert.deepEqual(Array.from(portable.dataSync()), [0, 0, 0, 4, 5, 0, 7, 8]);
    // Under a tape, Relu keeps relu(x) (shared with the conv that reads it), not x.
    const e = tf.engine() as unknown as {
      state: { activeTape?: Array<{ kernelName: string; saved?: tf.Tensor[] }> | null };
      scopedRun<T>(a: () => void, b: () => void, f: () => T): T;
      startTape(): void;
      endTape(): void;
    };
    const filter = tf.ones([1, 1, 4, 2]) as tf.Tensor4D;
    const x4 = x.reshape([1, 2, 1, 4]) as tf.Tensor4D;
    const out = e.scopedRun(
      () => e.startTape(),
      () => e.endTape(),
      () => tf.tidy(() => tf.conv2d(tf.relu(x4), filter, 1, 'same')),
    );
    const tape = e.state.activeTape ?? [];
    const relu = tape.find((n) => n.kernelName === 'Relu');
    assert.ok(relu?.saved?.length === 1, 'Relu saved one tensor');
    assert.deepEqual(Array.from(relu.saved[0].dataSync()), [0, 0, 0, 1e-30, 3, 0, 5, 0.5].map(Math.fround));
    const ids = new Set(
      tape.flatMap((n) => (n.saved ?? []).map((t) => (t as unknown as { dataId: object }).dataId)),
    );
    assert.ok(
      !ids.has((x4 as unknown as { dataId: object }).dataId),
      'x itself is not held for the backward pass',
    );
    for (const n of tape) for (const t of n.saved ?? []) t.dispose();
    e.state.activeTape = null;
    tf.dispose([x, dy, native, portable, filter, x4, out]);
  });

  it('a post-activation cell with a shortcut resizes its input once for both paths; a pre-activation cell twice', async () => {
    const gan = { ...TINY_GAN, cells: 1 };
    const resizes = async (arch: number[]) => {
      const t = GanTrainer.create(gan, TINY_TRAIN, { seed: 1, stage: 0, arch });
      const ctx = trainingContext();
      const info = await tf.profile(() => generate(t.G, gan, arch, tf.randomNormal([2, gan.latentDim]), ctx));
      ctx.updates.forEach((u) => u.value.dispose());
      if (info.result instanceof tf.Tensor) info.result.dispose();
      t.dispose();
      return info.kernels.filter((k) => /^AutoganNativeResizeBilinear$/.test(k.name)).length;
    };
    // conv, norm, up, shortcut: post/bn/bilinear with and without a shortcut, then pre/bn/bilinear.
    assert.equal(await resizes([0, 1, 0, 1]), 1);
    assert.equal(await resizes([0, 1, 0, 0]), 1);
    assert.equal(await resizes([1, 1, 0, 1]), 2);
  });

  it('instance norm with its gradient written out matches moments + autodiff', () => {
    const rng = new Rng(8);
    const x = normal4d(rng, [3, 4, 5, 6], 3, 2);
    const w = normal4d(rng, [3, 4, 5, 6]);
    const run = () => {
      const y = instanceNorm(x);
      const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(instanceNorm(xx as tf.Tensor4D), w)))(x);
      return [y, g];
    };
    const { native, portable } = bothPaths(run);
    assert.ok(maxRel(native[0], portable[0]) < 1e-5, `forward: ${maxRel(native[0], portable[0])}`);
    assert.ok(maxRel(native[1], portable[1]) < 1e-5, `gradient: ${maxRel(native[1], portable[1])}`);
    // and the gradient is not trivially small: instance norm's dx is orthogonal to constants per map
    assert.ok(tf.tidy(() => tf.max(tf.abs(native[1])).dataSync()[0]) > 0.1);
    tf.dispose([x, w, ...native, ...portable]);
  });

  it('a cast to the same dtype shares the buffer (no kernel) and stays valid; real casts convert', () => {
    const x = tf.tensor1d([1.5, -2.25, 3]);
    const same = tf.cast(x, 'float32');
    x.dispose();
    assert.deepEqual(Array.from(same.dataSync()), [1.5, -2.25, 3]);
    const asInt = tf.cast(same, 'int32');
    assert.equal(asInt.dtype, 'int32');
    assert.deepEqual(Array.from(asInt.dataSync()), [1, -2, 3]);
    const back = tf.cast(asInt, 'float32');
    assert.deepEqual(Array.from(back.dataSync()), [1, -2, 3]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.cast(back, 'float32');
    });
    assert.deepEqual(Array.from(back.dataSync()), [1, -2, 3], 'disposing the cast leaves its source');
    assert.equal(tf.memory().numTensors, before, 'the shared handle is disposed like any other');
    tf.dispose([same, asInt, back]);
  });

  it('bilinear ×2 and ×4 (half-pixel, PyTorch geometry) and its gradient match the slice form', () => {
    const rng = new Rng(5);
    const x = normal4d(rng, [2, 4, 3, 3]);
    for (const f of [2, 4]) {
      const w = tf.randomNormal([2, 4 * f, 3 * f, 3], 0, 1, 'float32', 7);
      const run = () => {
        const y = upsampleBilinear(x, f);
        const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(upsampleBilinear(xx as tf.Tensor4D, f), w)))(x);
        return [y, g];
      };
      const { native, portable } = bothPaths(run);
      assert.ok(maxRel(native[0], portable[0]) < 1e-5, `×${f} forward`);
      assert.ok(maxRel(native[1], portable[1]) < 1e-5, `×${f} gradient`);
      tf.dispose([w, ...native, ...portable]);
    }
    x.dispose();
  });

  it('bias add and 2-D MatMul (all transposes) with their gradients match tf.add / tf.matMul', () => {
    const p = new ParamStore(
      [
        { name: 'c.w', shape: [3, 3, 4, 6], init: { kind: 'normal', mean: 0, std: 0.5 }, trainable: true },
        { name: 'c.b', shape: [6], init: { kind: 'normal', mean: 0, std: 0.5 }, trainable: true },
      ],
      new Rng(8),
    );
    const x = tf.randomNormal([2, 5, 5, 4], 0, 1, 'float32', 9) as tf.Tensor4D;
    const { native, portable } = bothPaths(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(conv2d(p, 'c', x))) as tf.Scalar,
        p.trainable(),
      );
      return [value, grads[p.get('c.w').name], grads[p.get('c.b').name]];
    });
    native.forEach((t, i) => assert.ok(maxRel(t, portable[i]) < 1e-5, `conv + bias #${i}`));
    tf.dispose([...native, ...portable]);
    const a = tf.randomNormal([3, 4], 0, 1, 'float32', 10) as tf.Tensor2D;
    const b = tf.randomNormal([4, 5], 0, 1, 'float32', 11) as tf.Tensor2D;
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const A = ta ? tf.transpose(a) : a;
      const B = tb ? tf.transpose(b) : b;
      const { native: n, portable: q } = bothPaths(() => {
        const f = (aa: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.sin(matMul2d(aa as tf.Tensor2D, bb as tf.Tensor2D, ta, tb)));
        const [ga, gb] = tf.grads(f)([A, B]);
        return [matMul2d(A as tf.Tensor2D, B as tf.Tensor2D, ta, tb), ga, gb];
      });
      n.forEach((t, i) => assert.ok(maxRel(t, q[i]) < 1e-5, `matmul ${ta}/${tb} #${i}`));
      tf.dispose([...n, ...q, ...(ta ? [A] : []), ...(tb ? [B] : [])]);
    }
    tf.dispose([a, b, x]);
    p.dispose();
  });

  it('host-side spectral norm: u, v after two iterations, W/σ and its gradient match the tensor form', () => {
    const make = () => {
      const p = new ParamStore(
        [
          { name: 'l.w', shape: [3, 3, 5, 7], init: { kind: 'normal', mean: 0, std: 0.3 }, trainable: true },
          { name: 'l.sn_u', shape: [7], init: { kind: 'normal', mean: 0, std: 1 }, trainable: false },
          { name: 'l.sn_v', shape: [45], init: { kind: 'normal', mean: 0, std: 1 }, trainable: false },
        ],
        new Rng(4),
      );
      return p;
    };
    const g = tf.randomNormal([3, 3, 5, 7], 0, 1, 'float32', 13);
    const run = (host: boolean) => {
      setSpectralNormOnHost(host);
      const p = make();
      powerIterate(p, 'l', 2);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(normalizedWeight(p, 'l'), g)) as tf.Scalar,
        p.trainable(),
      );
      const out = [
        tf.clone(p.get('l.sn_u')),
        tf.clone(p.get('l.sn_v')),
        normalizedWeight(p, 'l'),
        value,
        grads[p.get('l.w').name],
      ];
      p.dispose();
      return out;
    };
    try {
      const host = tf.tidy(() => run(true));
      const tensor = tf.tidy(() => run(false));
      const names = ['u', 'v', 'W/σ', 'loss', 'dW'];
      host.forEach((t, i) => assert.ok(maxRel(t, tensor[i]) < 2e-5, `${names[i]}: ${maxRel(t, tensor[i])}`));
      tf.dispose([...host, ...tensor]);
    } finally {
      setSpectralNormOnHost(true);
      g.dispose();
    }
  });

  it('conv + bias as one oneDNN kernel: bit-identical values, same gradients, one kernel instead of two', async () => {
    assert.ok(
      fusedConvActive(),
      'the fused convolution is off: run `npm run setup:native` (it patches the binding)',
    );
    const rng = new Rng(11);
    const p = new ParamStore(
      [
        { name: 'c.w', shape: [3, 3, 6, 5], init: { kind: 'normal', mean: 0, std: 0.3 }, trainable: true },
        { name: 'c.b', shape: [5], init: { kind: 'normal', mean: 0, std: 0.3 }, trainable: true },
        { name: 'k.w', shape: [1, 1, 6, 5], init: { kind: 'normal', mean: 0, std: 0.3 }, trainable: true },
        { name: 'k.b', shape: [5], init: { kind: 'normal', mean: 0, std: 0.3 }, trainable: true },
      ],
      new Rng(12),
    );
    const x = normal4d(rng, [3, 7, 7, 6]);
    const g = normal4d(rng, [3, 7, 7, 5]);
    const run = (fused: boolean) => {
      setFusedConvEnabled(fused);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(tf.add(conv2d(p, 'c', x), conv2d(p, 'k', x)), g)) as tf.Scalar,
        p.trainable(),
      );
      return [conv2d(p, 'c', x), value, ...p.trainableNames().map((n) => grads[p.get(n).name])];
    };
    const kernels = async (fused: boolean) => {
      setFusedConvEnabled(fused);
      const info = await tf.profile(() => conv2d(p, 'c', x));
      tf.dispose(info.result);
      return info.kernels.map((k) => k.name);
    };
    try {
      const fused = tf.tidy(() => run(true));
      const plain = tf.tidy(() => run(false));
      assert.equal(maxRel(fused[0], plain[0]), 0, 'forward values differ');
      fused.forEach((t, i) => assert.ok(maxRel(t, plain[i]) < 1e-6, `output ${i}: ${maxRel(t, plain[i])}`));
      tf.dispose([...fused, ...plain]);
      assert.deepEqual(await kernels(true), ['AutoganNativeConvBias']);
      assert.deepEqual(await kernels(false), ['Conv2D', 'AutoganNativeBiasAdd']);
    } finally {
      setFusedConvEnabled(true);
      tf.dispose([x, g]);
      p.dispose();
    }
  });

  it("the σ term of stacked rows' gradient as tensor ops (async executor) matches the host arithmetic", () => {
    const p = new ParamStore(
      [
        { name: 'l.w', shape: [3, 3, 4, 6], init: { kind: 'normal', mean: 0, std: 0.3 }, trainable: true },
        { name: 'l.sn_u', shape: [6], init: { kind: 'normal', mean: 0, std: 1 }, trainable: false },
        { name: 'l.sn_v', shape: [36], init: { kind: 'normal', mean: 0, std: 1 }, trainable: false },
      ],
      new Rng(5),
    );
    const rng = new Rng(6);
    const x = normal4d(rng, [5, 6, 6, 4]);
    const dz = normal4d(rng, [5, 6, 6, 6]);
    powerIterate(p, 'l', 1);
    const first = sigmaState(p, 'l');
    powerIterate(p, 'l', 1); // the second group sees σ after one more iteration, as torch's fake pass
    const second = sigmaState(p, 'l');
    assert.notEqual(first.sigma, second.sigma);
    const run = (reads: boolean) => {
      setHostReadsInGradients(reads);
      const w = p.get('l.w');
      const { grads } = tf.variableGrads(() => {
        const y = tf.conv2d(x, w as tf.Tensor4D, 1, 'same');
        const z = scaleRowsBySigma(y, w, [
          { rows: 2, state: first },
          { rows: 3, state: second },
        ]);
        return tf.sum(tf.mul(z, dz)) as tf.Scalar;
      }, p.trainable());
      return grads[w.name];
    };
    try {
      const host = tf.tidy(() => run(true));
      const device = tf.tidy(() => run(false));
      assert.ok(maxRel(device, host) < 1e-6, `dW: ${maxRel(device, host)}`);
      tf.dispose([host, device]);
    } finally {
      setHostReadsInGradients(true);
      tf.dispose([x, dz]);
      p.dispose();
    }
  });

  it('saves tensors for gradients without Identity kernels, with the same gradients and no tensor left', async () => {
    const t = GanTrainer.create(TINY_GAN, TINY_TRAIN, { seed: 5, stage: 2 });
    const real = tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 9) as tf.Tensor4D;
    const fake = tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 8) as tf.Tensor4D;
    const snapshot = new Map(t.D.names().map((n) => [n, t.D.get(n).clone()]));
    const restore = () => snapshot.forEach((v, n) => t.D.get(n).assign(v));
    const grads = () => {
      restore();
      const { loss, grads } = t.discriminatorGradients(real, fake);
      loss.dispose();
      return grads;
    };
    grads(); // warm-up: kernels and host states exist
    const before = tf.memory().numTensors;
    let lean: Record<string, tf.Tensor> = {};
    const prof = await tf.profile(() => {
      lean = grads();
    });
    // What remains are the two tensors each spectral-norm layer's custom gradient saves (tfjs clones
    // those inline); every kernel's saved inputs and outputs used to add one Identity each (~100 here).
    const identities = prof.kernels.filter((k) => k.name === 'Identity').length;
    const snLayers = t.D.names().filter((n) => n.endsWith('.sn_u')).length;
    assert.ok(identities <= 2 * snLayers, `${identities} Identity kernels in a D step's gradient`);
    // The engine's own saving (Identity clones) and the portable gradients give the same numbers.
    setNativeOpsEnabled(false);
    let portable: Record<string, tf.Tensor>;
    try {
      portable = grads();
    } finally {
      setNativeOpsEnabled(true);
    }
    for (const k of Object.keys(portable))
      assert.ok(maxRel(lean[k]!, portable[k]!) < 2e-5, `${k}: ${maxRel(lean[k]!, portable[k]!)}`);
    tf.dispose([...Object.values(lean), ...Object.values(portable)]);
    assert.equal(tf.memory().numTensors, before, 'tensors left after the gradients were disposed');
    tf.dispose([real, fake, ...snapshot.values()]);
    t.dispose();
  });
});

describe('flat Adam @purejs', () => {
  it('is bit-identical to Adam written out per tensor (PyTorch arithmetic), on and off the sampled path', () => {
    for (const offPath of ['zero-grad', 'skip'] as const) {
      const cfg = { lr: 0.01, beta1: 0.5, beta2: 0.9, eps: 1e-8, offPath };
      const shapes: Record<string, number[]> = { a: [2, 3], b: [4], c: [3, 1, 2] };
      const rng = new Rng(21);
      const init = (n: string) =>
        tf.tensor(
          Array.from({ length: shapes[n].reduce((x, y) => x * y) }, () => rng.normal()),
          shapes[n],
        );
      const flat: Record<string, tf.Variable> = {};
      const ref: Record<string, { p: tf.Variable; m?: tf.Tensor; v?: tf.Tensor; t: number }> = {};
      for (const n of Object.keys(shapes)) {
        const t0 = init(n);
        flat[n] = tf.variable(t0);
        ref[n] = { p: tf.variable(t0), t: 0 };
        t0.dispose();
      }
      const opt = new Adam(cfg);
      // c first gets a gradient at step 2, b is off the path at steps 3 and 4
      const paths = [['a', 'b'], ['a', 'b', 'c'], ['a', 'c'], ['c'], ['a', 'b', 'c']];
      for (const onPath of paths) {
        const grads: Record<string, tf.Tensor> = {};
        for (const n of onPath) grads[n] = init(n);
        opt.apply((n) => flat[n], grads);
        for (const n of Object.keys(shapes)) {
          const r = ref[n];
          const g = grads[n];
          if (!g && (!r.m || offPath === 'skip')) continue;
          r.t++;
          const gg = g ?? tf.zerosLike(r.p);
          const m = tf.add(tf.mul(r.m ?? tf.zerosLike(r.p), cfg.beta1), tf.mul(gg, 1 - cfg.beta1));
          const v = tf.add(tf.mul(r.v ?? tf.zerosLike(r.p), cfg.beta2), tf.mul(tf.square(gg), 1 - cfg.beta2));
          const step = (cfg.lr * Math.sqrt(1 - cfg.beta2 ** r.t)) / (1 - cfg.beta1 ** r.t);
          r.p.assign(tf.sub(r.p, tf.mul(tf.div(m, tf.add(tf.sqrt(v), cfg.eps)), step)));
          r.m = m;
          r.v = v;
        }
        for (const n of Object.keys(shapes)) {
          assert.deepEqual(
            Array.from(flat[n].dataSync()),
            Array.from(ref[n].p.dataSync()),
            `${offPath}: ${n} after ${onPath}`,
          );
          assert.equal(opt.stepOf(n), ref[n].t, `${offPath}: steps of ${n}`);
        }
      }
      const saved = opt.state('x');
      assert.deepEqual(Array.from(saved.tensors['x.c.v'].dataSync()), Array.from(ref.c.v!.dataSync()));
      assert.deepEqual(saved.tensors['x.c.m'].shape, shapes.c);
      // restore into a fresh optimizer: the next step agrees with continuing the old one
      const again = new Adam(cfg);
      again.restore('x', new Map(Object.entries(saved.tensors)), saved.steps);
      assert.deepEqual(again.names(), opt.names());
      tf.dispose(Object.values(saved.tensors));
      opt.dispose();
      again.dispose();
    }
  });

  it('leaves no tensor behind across steps, growth, state and restore', () => {
    const before = tf.memory().numTensors;
    const own = (t: tf.Tensor) => {
      const v = tf.variable(t);
      t.dispose();
      return v;
    };
    const a = own(tf.ones([3]));
    const b = own(tf.ones([2, 2]));
    const opt = new Adam({ lr: 0.1, beta1: 0, beta2: 0.9, eps: 1e-8 });
    const g = tf.ones([3]);
    const h = tf.ones([2, 2]);
    opt.apply((n) => (n === 'a' ? a : b), { a: g });
    const mid = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.apply((n) => (n === 'a' ? a : b), { a: g, b: h });
    opt.apply((n) => (n === 'a' ? a : b), { a: g, b: h });
    const steady = tf.memory().numTensors;
    opt.apply((n) => (n === 'a' ? a : b), { a: g, b: h });
    assert.equal(tf.memory().numTensors, steady, 'flat across steps');
    assert.ok(mid <= steady);
    const s = opt.state('p');
    opt.restore('p', new Map(Object.entries(s.tensors)), s.steps);
    tf.dispose(Object.values(s.tensors));
    opt.dispose();
    tf.dispose([a, b, g, h]);
    assert.equal(tf.memory().numTensors, before);
  });
});
