// The D step's stacked real+fake pass (core/gan/discriminator.ts discriminatePair) against the two
// passes the reference runs: the same loss, gradients and spectral-norm vectors up to float rounding.
// (test/reference-fidelity.test.ts checks the default path, which is this one where it applies,
// against the reference's own numbers.)
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { canStackPair } from '../core/gan/discriminator';
import { GanTrainer, setStackedDiscriminator } from '../core/gan/trainer';
import { relErr } from './helpers/relative-error';
import { TINY_GAN, TINY_TRAIN } from './helpers/tiny-gan';

describe('stacked real+fake discriminator pass @purejs', () => {
  afterEach(() => setStackedDiscriminator(true));

  const cases = [
    {
      name: 'spectral norm, a power iteration per forward pass (the reference)',
      gan: TINY_GAN,
      sn: 'per-forward',
    },
    { name: 'spectral norm, one power iteration per step', gan: TINY_GAN, sn: 'per-step' },
    { name: 'no spectral norm', gan: { ...TINY_GAN, dSpectralNorm: false }, sn: 'per-forward' },
  ] as const;
  for (const c of cases) {
    it(`equals two passes: ${c.name}`, function () {
      if (!canStackPair(c.gan)) this.skip(); // spectral norm as tensor ops (GPU): two passes only
      const train = { ...TINY_TRAIN, snIterations: c.sn };
      const run = (stacked: boolean) => {
        setStackedDiscriminator(stacked);
        const t = GanTrainer.create(c.gan, train, { seed: 7, stage: 2 });
        const real = tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 3) as tf.Tensor4D;
        const fake = tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 4) as tf.Tensor4D;
        const { loss, grads } = t.discriminatorGradients(real, fake);
        const out = {
          loss: loss.dataSync()[0],
          grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync().slice()])),
          vectors: Object.fromEntries(
            t.D.names()
              .filter((n) => /\.sn_[uv]$/.test(n))
              .map((n) => [n, t.D.get(n).dataSync().slice()]),
          ),
        };
        tf.dispose([real, fake, loss, ...Object.values(grads)]);
        t.dispose();
        return out;
      };
      const before = tf.memory().numTensors;
      const two = run(false);
      const one = run(true);
      assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
      assert.ok(
        Math.abs(one.loss - two.loss) <= 1e-5 * Math.abs(two.loss),
        `loss ${one.loss} vs ${two.loss}`,
      );
      assert.deepEqual(Object.keys(one.grads).sort(), Object.keys(two.grads).sort());
      assert.ok(Object.keys(two.grads).length > 10);
      for (const k of Object.keys(two.grads)) {
        const e = relErr(one.grads[k]!, two.grads[k]!);
        assert.ok(e <= 1e-5, `gradient of ${k}: relative error ${e}`);
      }
      // Both made the same power iterations (exactly: the same host arithmetic).
      assert.deepEqual(one.vectors, two.vectors);
    });
  }
});
