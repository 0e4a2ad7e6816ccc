// The native TensorFlow backend must be in use for the main test pass. It fails loudly when it is
// missing (run `npm run setup:native`); set AUTOGAN_ALLOW_PURE_JS=1 to accept pure JS knowingly.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { currentBackend } from '../core/backend';
import { verifyNative } from '../tools/native-backend';

describe('native backend', function () {
  this.timeout(120_000);
  before(function () {
    if (process.env.AUTOGAN_ALLOW_PURE_JS === '1' && currentBackend()?.backend !== 'tensorflow') {
      console.warn(
        '\n  !!! AUTOGAN_ALLOW_PURE_JS=1: the native backend tests are skipped; this run is pure JS.\n',
      );
      this.skip();
    }
  });

  it('is the backend this test run uses (run `npm run setup:native` if this fails)', () => {
    const info = currentBackend();
    assert.equal(
      info?.backend,
      'tensorflow',
      `backend is ${info?.package}; skipped candidates: ${info?.skipped.join('; ')}`,
    );
    assert.equal(tf.getBackend(), 'tensorflow');
  });

  it('agrees with pure JS on conv2d, its gradients, deconv, matmul and resizing', () => {
    const report = verifyNative();
    for (const c of report.checks)
      assert.ok(c.ok, `${c.op}: max |native - js| = ${c.maxAbsDiff} > ${c.tolerance}`);
    assert.ok(report.checks.length >= 7);
  });

  it("computes ReLU's gradient with TensorFlow's ReluGrad, bit-identical to tfjs's dy·step(x)", async () => {
    const x = tf.tensor1d([-2, -0.5, 0, 1e-30, 0.5, 3, -0, 7]);
    const dy = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), dy)))(x);
    const formula = tf.mul(dy, tf.step(x));
    assert.deepEqual(Array.from(g.dataSync()), Array.from(formula.dataSync()));
    const prof = await tf.profile(() => tf.grad((v: tf.Tensor) => tf.sum(tf.relu(v)))(x));
    const names = prof.kernels.map((k) => k.name);
    assert.ok(names.includes('AutoganNativeReluGrad'), names.join(', '));
    assert.ok(!names.includes('Step'), 'the slow tfjs formula is not used');
    tf.dispose([x, dy, g, formula]);
  });
});

describe('setup:native without build tools', () => {
  it('fails at once, naming what is missing and how to install it (not minutes into node-gyp)', () => {
    const script = path.join(__dirname, '..', 'tools', 'native-backend.js');
    // --force skips the "already installed" check; an empty PATH has no compiler, make or Python.
    const r = spawnSync(process.execPath, [script, '--force'], { env: { PATH: '' }, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /failed at "build tools": .*needs a C\+\+ compiler \(g\+\+ or clang\+\+\), make, Python 3/,
    );
    assert.match(r.stderr, /apt-get install build-essential/);
    // --if-possible (what `npm test` uses) turns it into a one-line warning and exit 0.
    const tolerant = spawnSync(process.execPath, [script, '--force', '--if-possible'], {
      env: { PATH: '' },
      encoding: 'utf8',
    });
    assert.equal(tolerant.status, 0, tolerant.stderr);
    assert.match(tolerant.stderr, /^warning: .*build tools.* continuing on pure JS/);
  });
});
