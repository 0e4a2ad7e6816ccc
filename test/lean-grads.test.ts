// The memory-lean backward pass (core/nn/lean-grads.ts) and the shape-only ops (core/nn/lean-ops.ts):
// the same numbers as tfjs's own, with memory released as the pass goes. @purejs
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { discriminate } from '../core/gan/discriminator';
import { generate } from '../core/gan/generator';
import { GanTrainer } from '../core/gan/trainer';
import { leanGradsSupported, leanVariableGrads, setLeanGrads } from '../core/nn/lean-grads';
import { addActivations, avgPool2Lean } from '../core/nn/lean-ops';
import { evalContext } from '../core/nn/layers';
import { TINY_GAN, TINY_TRAIN } from './helpers/tiny-gan';

const PAPER_TOP1 = [1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 3];

interface TapeView {
  state: { activeTape?: Array<{ kernelName: string; saved?: tf.Tensor[] }> | null };
  scopedRun<T>(a: () => void, b: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(f: () => T): T;
}

/** Runs f under a gradient tape and returns the number of tensors each kernel saved. */
function savedByKernel(f: () => tf.Tensor): Record<string, number> {
  const e = tf.engine() as unknown as TapeView;
  const out: Record<string, number> = {};
  const y = e.scopedRun(
    () => e.startTape(),
    () => e.endTape(),
    () => e.tidy(f),
  );
  for (const node of e.state.activeTape ?? []) {
    out[node.kernelName] = (out[node.kernelName] ?? 0) + (node.saved?.length ?? 0);
    for (const t of node.saved ?? []) t.dispose();
  }
  e.state.activeTape = null;
  y.dispose();
  return out;
}

describe('memory-lean backward pass @purejs', function () {
  this.timeout(120_000);
  afterEach(() => setLeanGrads(true));

  it('is available on this tfjs-core', () => {
    assert.equal(leanGradsSupported(), true);
  });

  it("gives tf.variableGrads's loss and gradients bit for bit on the G and D losses, and leaks nothing", () => {
    const t = GanTrainer.create(TINY_GAN, TINY_TRAIN, { seed: 7, arch: PAPER_TOP1 });
    const z = tf.randomNormal([4, TINY_GAN.latentDim], 0, 1, 'float32', 3) as tf.Tensor2D;
    const real = tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 4) as tf.Tensor4D;
    const losses = {
      g: [
        () =>
          tf.neg(
            tf.mean(discriminate(t.D, TINY_GAN, 2, generate(t.G, TINY_GAN, PAPER_TOP1, z, evalContext()))),
          ) as tf.Scalar,
        t.G.trainable(),
      ],
      d: [
        () =>
          tf.add(
            tf.mean(tf.relu(tf.sub(1, discriminate(t.D, TINY_GAN, 2, real)))),
            tf.mean(tf.relu(tf.add(1, discriminate(t.D, TINY_GAN, 2, tf.mul(real, 0.5) as tf.Tensor4D)))),
          ) as tf.Scalar,
        t.D.trainable(),
      ],
    } as const;
    for (const [which, [f, vars]] of Object.entries(losses)) {
      const before = tf.memory().numTensors;
      setLeanGrads(false);
      const ref = tf.variableGrads(f, vars);
      setLeanGrads(true);
      const lean = leanVariableGrads(f, vars);
      assert.deepEqual(Array.from(lean.value.dataSync()), Array.from(ref.value.dataSync()), `${which} loss`);
      assert.deepEqual(Object.keys(lean.grads).sort(), Object.keys(ref.grads).sort());
      assert.ok(Object.keys(ref.grads).length > 10);
      for (const [name, g] of Object.entries(ref.grads))
        assert.deepEqual(
          Array.from(lean.grads[name].dataSync()),
          Array.from(g.dataSync()),
          `${which}: ${name}`,
        );
      tf.dispose([ref.value, lean.value, ...Object.values(ref.grads), ...Object.values(lean.grads)]);
      assert.equal(tf.memory().numTensors, before, `${which}: no tensor left behind`);
    }
    tf.dispose([z, real]);
    t.dispose();
  });

  it('holds fewer tensors at its peak than tfjs, which keeps every saved tensor and gradient to the end', () => {
    const t = GanTrainer.create(TINY_GAN, TINY_TRAIN, { seed: 7, arch: PAPER_TOP1 });
    const z = tf.randomNormal([4, TINY_GAN.latentDim], 0, 1, 'float32', 3) as tf.Tensor2D;
    const f = () =>
      tf.neg(
        tf.mean(discriminate(t.D, TINY_GAN, 2, generate(t.G, TINY_GAN, PAPER_TOP1, z, evalContext()))),
      ) as tf.Scalar;
    const e = tf.engine() as unknown as { tidy: (...a: unknown[]) => unknown };
    const tidy = e.tidy;
    const peak = (lean: boolean): number => {
      setLeanGrads(lean);
      // Relative to what is alive already (other suites' models, caches).
      const base = tf.memory().numTensors;
      let max = 0;
      // Every gradient function runs in its own tidy: sample the live tensor count there.
      e.tidy = (...a: unknown[]) => {
        const r = tidy.apply(tf.engine(), a);
        max = Math.max(max, tf.memory().numTensors - base);
        return r;
      };
      try {
        const { value, grads } = leanVariableGrads(f, t.G.trainable());
        tf.dispose([value, ...Object.values(grads)]);
      } finally {
        e.tidy = tidy;
      }
      return max;
    };
    const standard = peak(false);
    const lean = peak(true);
    assert.ok(lean < 0.8 * standard, `peak live tensors: lean ${lean}, tfjs ${standard}`);
    z.dispose();
    t.dispose();
  });

  it('adds activations and pools 2×2 exactly like tf.add and tf.avgPool, saving no tensor for the gradient', () => {
    const a = tf.randomNormal([2, 4, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const b = tf.randomNormal([2, 4, 6, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const w = tf.randomNormal([2, 2, 3, 3], 0, 1, 'float32', 5);
    const loss =
      (add: typeof tf.add, pool: (x: tf.Tensor4D) => tf.Tensor4D) => (x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(pool(add(x, y) as tf.Tensor4D), w));
    const ours = loss(addActivations as typeof tf.add, avgPool2Lean);
    const theirs = loss(tf.add, (x) => tf.avgPool(x, 2, 2, 'valid'));
    assert.deepEqual(Array.from(ours(a, b).dataSync()), Array.from(theirs(a, b).dataSync()));
    const [ga, gb] = tf.grads(ours)([a, b]);
    const [ra, rb] = tf.grads(theirs)([a, b]);
    assert.deepEqual(Array.from(ga.dataSync()), Array.from(ra.dataSync()));
    assert.deepEqual(Array.from(gb.dataSync()), Array.from(rb.dataSync()));
    const saved = savedByKernel(() => avgPool2Lean(addActivations(a, b)));
    const total = Object.values(saved).reduce((s, n) => s + n, 0);
    assert.equal(total, 0, JSON.stringify(saved));
    const tfSaved = savedByKernel(() => tf.avgPool(tf.add(a, b) as tf.Tensor4D, 2, 2, 'valid'));
    assert.ok((tfSaved.Add ?? 0) + (tfSaved.AvgPool ?? 0) >= 3, JSON.stringify(tfSaved));
    tf.dispose([a, b, w, ga, gb, ra, rb]);
  });
});
