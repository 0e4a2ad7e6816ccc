// The behaviours chosen to match the reference (and their named alternatives), tensor hygiene of
// model create/save/load/dispose cycles, and `autogan import reference` + `autogan sample` end to
// end against the reference's own outputs.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readTorchState } from '../core/checkpoint/torch-state';
import { Controller } from '../core/controller/controller';
import { GanTrainer } from '../core/gan/trainer';
import { Adam } from '../core/nn/adam';
import { encodeNpyFloat32, parseNpy, readNpz, writeNpz } from '../core/metrics/npz';
import { projectRoot } from '../core/paths';
import { Rng } from '../core/rng';
import { TINY_GAN, TINY_TRAIN } from './helpers/tiny-gan';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'autogan-sem-'));

describe('reference semantics and model hygiene', () => {
  it('Adam steps a weight off the sampled path with a zero gradient by default, and freezes it with offPath skip', () => {
    for (const offPath of ['zero-grad', 'skip'] as const) {
      const opt = new Adam({ lr: 0.1, beta1: 0.5, beta2: 0.9, eps: 1e-8, offPath });
      const a = tf.variable(tf.tensor1d([1, 2]));
      const b = tf.variable(tf.tensor1d([3, 4]));
      const get = (n: string) => (n === 'a' ? a : b);
      const g = tf.tensor1d([0.5, -0.5]);
      opt.apply(get, { a: g, b: g });
      const bAfterFirst = Array.from(b.dataSync());
      opt.apply(get, { a: g }); // b is off the path this step
      if (offPath === 'zero-grad') {
        assert.equal(opt.stepOf('b'), 2, 'the step count advances as in PyTorch 1.1');
        assert.notDeepEqual(Array.from(b.dataSync()), bAfterFirst, 'momentum keeps moving it');
      } else {
        assert.equal(opt.stepOf('b'), 1);
        assert.deepEqual(Array.from(b.dataSync()), bAfterFirst);
      }
      tf.dispose([a, b, g]);
      opt.dispose();
    }
  });

  it('Adam starts each step from the weights as they are: a weight set from outside (restore, reset) is not overwritten by its kept copy', () => {
    // β1 = β2 = 0 makes a step exactly lr · g / (|g| + eps): 0.1 · 0.5 / 0.5 ≈ 0.1 per element.
    const opt = new Adam({ lr: 0.1, beta1: 0, beta2: 0, eps: 1e-8 });
    const w = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const b = tf.variable(tf.tensor1d([5, 6]));
    const get = (n: string) => (n === 'w' ? w : b);
    const gw = tf.tensor2d([0.5, -0.5, 0.5, -0.5], [2, 2]);
    const gb = tf.tensor1d([0.5, 0.5]);
    opt.apply(get, { w: gw, b: gb });
    opt.apply(get, { w: gw, b: gb }); // from its kept copy of the weights it wrote
    const close = (t: tf.Tensor, want: number[]) =>
      Array.from(t.dataSync()).forEach((v, i) =>
        assert.ok(Math.abs(v - want[i]) < 1e-6, `${v} vs ${want[i]}`),
      );
    close(w, [0.8, 2.2, 2.8, 4.2]);
    close(b, [4.8, 5.8]);
    const zeros = tf.zeros([2, 2]) as tf.Tensor2D;
    w.assign(zeros);
    opt.apply(get, { w: gw, b: gb });
    close(w, [-0.1, 0.1, -0.1, 0.1]);
    close(b, [4.7, 5.7]);
    tf.dispose([w, b, gw, gb, zeros]);
    opt.dispose();
  });

  it('the EMA is decay · EMA + (1 − decay) · G after every G step, and follows an EMA weight set from outside', () => {
    const t = GanTrainer.create(
      TINY_GAN,
      { ...TINY_TRAIN, nCritic: 1, emaDecay: 0.9, emaWarmup: false },
      { seed: 3, arch: [0, 1, 1, 1] },
    );
    const names = [...t.ema!.keys()];
    const read = (v: tf.Tensor) => Float64Array.from(v.dataSync());
    let want = names.map((n) => read(t.G.get(n)));
    const real = tf.randomUniform([4, 4, 4, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
    for (let step = 1; step <= 4; step++) {
      if (step === 3) {
        // a restore or a copy writes an EMA weight: the next update starts from it
        const z = tf.zerosLike(t.ema!.get(names[0])!);
        t.ema!.get(names[0])!.assign(z);
        z.dispose();
        want[0] = want[0].map(() => 0);
      }
      t.step(real);
      const g = names.map((n) => read(t.G.get(n)));
      want = want.map((e, i) => e.map((x, j) => 0.9 * x + 0.1 * g[i][j]));
      names.forEach((n, i) => {
        const got = t.ema!.get(n)!.dataSync();
        want[i].forEach((x, j) =>
          assert.ok(Math.abs(got[j] - x) <= 1e-5 * Math.max(1, Math.abs(x)), `${n}[${j}] step ${step}`),
        );
      });
    }
    real.dispose();
    t.dispose();
  });

  it('the EMA warms up like TF num_updates (not mostly the initialisation after a short run)', () => {
    const t = GanTrainer.create(
      TINY_GAN,
      { ...TINY_TRAIN, emaDecay: 0.999 },
      { seed: 1, arch: [0, 1, 1, 1] },
    );
    assert.equal(t.emaDecayNow(), 1 / 10);
    t.gSteps = 90;
    assert.equal(t.emaDecayNow(), 91 / 100);
    t.gSteps = 100000;
    assert.equal(t.emaDecayNow(), 0.999);
    t.dispose();
    const r = GanTrainer.create(
      TINY_GAN,
      { ...TINY_TRAIN, emaDecay: 0.999, emaWarmup: false },
      { seed: 1, arch: [0, 1, 1, 1] },
    );
    assert.equal(r.emaDecayNow(), 0.999);
    r.dispose();
  });

  it('samples from EMA weights with batch-norm statistics re-estimated for them, deterministically', () => {
    const arch = [1, 1, 1, 1];
    const t = GanTrainer.create(TINY_GAN, { ...TINY_TRAIN, emaDecay: 0.5 }, { seed: 2, arch });
    const real = tf.randomUniform([4, 4, 4, 1], -1, 1, 'float32', 3) as tf.Tensor4D;
    for (let i = 0; i < 4; i++) t.step(real);
    const a = t.sample(4, { rng: new Rng(1), ema: true });
    const b = t.sample(4, { rng: new Rng(1), ema: true });
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    const live = GanTrainer.create(
      TINY_GAN,
      { ...TINY_TRAIN, emaDecay: 0.5, emaBnStats: 'live' },
      { seed: 2, arch },
    );
    for (let i = 0; i < 4; i++) live.step(real);
    const c = live.sample(4, { rng: new Rng(1), ema: true });
    assert.notDeepEqual(
      Array.from(a.dataSync()),
      Array.from(c.dataSync()),
      'recomputed statistics differ from live ones',
    );
    const before = tf.memory().numTensors;
    t.sample(4, { rng: new Rng(1), ema: true }).dispose();
    assert.equal(tf.memory().numTensors, before, 'cached statistics are reused, nothing new is kept');
    tf.dispose([a, b, c, real]);
    t.dispose();
    live.dispose();
  });

  it('creating, training, saving, loading and disposing trainers and controllers leaves no tensor behind', () => {
    const dir = tmp();
    const real = tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 4) as tf.Tensor4D;
    const cycle = (i: number) => {
      const t = GanTrainer.create(
        TINY_GAN,
        { ...TINY_TRAIN, emaDecay: 0.9 },
        { seed: i, arch: [0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 2, 0, 1, 3] },
      );
      t.step(real);
      t.sample(2, { ema: true }).dispose();
      t.save(path.join(dir, 'g.ckpt'));
      t.dispose();
      const { trainer } = GanTrainer.load(path.join(dir, 'g.ckpt'));
      trainer.step(real);
      trainer.dispose();
      const c = Controller.create({ cells: [1], hiddenSize: 8 }, i);
      const s = c.sample(2);
      c.update(s, [1, 2]);
      c.save(path.join(dir, 'c.ckpt'));
      c.dispose();
      Controller.load(path.join(dir, 'c.ckpt')).controller.dispose();
    };
    cycle(0);
    const before = tf.memory().numTensors;
    for (let i = 1; i <= 3; i++) cycle(i);
    assert.equal(tf.memory().numTensors, before);
    real.dispose();
  });

  it('`autogan import reference` + `autogan sample` reproduce the reference generator (model A layout, from .npz)', function () {
    this.timeout(120_000);
    const fx = path.join(projectRoot(), 'test', 'fixtures', 'reference');
    const gen = readNpz(path.join(fx, 'gen_model_a.npz'));
    const dis = readNpz(path.join(fx, 'dis_stage2.npz'));
    const dir = tmp();
    // The dict train.py saves, flattened the way tools/pth_to_npz.py flattens it.
    const arrays: Record<string, { data: Float64Array; shape: number[] }> = {};
    for (const [k, v] of gen) if (k.startsWith('gen/')) arrays[`gen_state_dict/${k.slice(4)}`] = v;
    for (const [k, v] of dis) if (k.startsWith('dis/')) arrays[`dis_state_dict/${k.slice(4)}`] = v;
    writeNpz(path.join(dir, 'ref.npz'), arrays);
    const z = gen.get('z')!;
    fs.writeFileSync(path.join(dir, 'z.npy'), encodeNpyFloat32(Float32Array.from(z.data), z.shape));
    const cli = path.join(projectRoot(), 'bin', 'autogan.js');
    const run = (...args: string[]) =>
      execFileSync('node', [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const imported = JSON.parse(
      run(
        'import',
        'reference',
        path.join(dir, 'ref.npz'),
        '--arch',
        'autogan-cifar10-a',
        '--out',
        path.join(dir, 'a.ckpt'),
      )
        .trim()
        .split('\n')
        .pop()!,
    );
    assert.equal(imported.layout, 'fixed');
    assert.equal(imported.discriminator, true);
    assert.equal(imported.gan.gfDim, 8);
    run(
      'sample',
      path.join(dir, 'a.ckpt'),
      '--latents',
      path.join(dir, 'z.npy'),
      '--out',
      path.join(dir, 'x.npy'),
    );
    const out = parseNpy(fs.readFileSync(path.join(dir, 'x.npy')), 'x.npy');
    assert.equal(out.dtype, 'float32');
    const ref = gen.get('out_eval')!;
    const [n, c, h, w] = ref.shape;
    assert.deepEqual(out.shape, [n, h, w, c]);
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++)
      for (let k = 0; k < c; k++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const r = ref.data[((i * c + k) * h + y) * w + x];
            num += (out.data[((i * h + y) * w + x) * c + k] - r) ** 2;
            den += r * r;
          }
    assert.ok(Math.sqrt(num / den) <= 1e-5, `relative error ${Math.sqrt(num / den)}`);
    // A wrong architecture is refused with the reason.
    assert.throws(
      () =>
        run(
          'import',
          'reference',
          path.join(dir, 'ref.npz'),
          '--arch',
          'autogan-cifar10-c',
          '--out',
          path.join(dir, 'c.ckpt'),
        ),
      (e: Error & { stderr?: string }) => /batch norm/.test(String(e.stderr)),
    );
    assert.ok(!fs.existsSync(path.join(dir, 'c.ckpt')), 'nothing written on failure');
  });

  it('a .pth without a usable Python names what to install; a missing file is named', () => {
    const dir = tmp();
    const file = path.join(dir, 'x.pth');
    fs.writeFileSync(file, 'not really a pickle');
    const saved = process.env.AUTOGAN_PYTHON;
    process.env.AUTOGAN_PYTHON = path.join(dir, 'no-such-python');
    try {
      assert.throws(() => readTorchState(file), /pip install torch numpy/);
    } finally {
      if (saved === undefined) delete process.env.AUTOGAN_PYTHON;
      else process.env.AUTOGAN_PYTHON = saved;
    }
    assert.throws(() => readTorchState(path.join(dir, 'missing.pth')), /missing\.pth does not exist/);
  });
});
