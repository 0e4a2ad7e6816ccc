import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { randomArch } from '../core/arch/encoding';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../core/checkpoint/format';
import { BatchLoader, type LoaderState } from '../core/datasets/loader';
import { openMnist } from '../core/datasets/mnist';
import { imageSizeAt } from '../core/gan/config';
import { ResetDetector } from '../core/gan/reset-detector';
import { GanTrainer } from '../core/gan/trainer';
import { Rng, type RngState } from '../core/rng';
import { TINY_GAN, TINY_TRAIN } from './helpers/tiny-gan';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gan-'));

describe('dynamic-reset detector', () => {
  const cfg = { window: 5, threshold: 1e-3, measure: 'std' as const };

  it('fires when the G window is full and flat', () => {
    const d = new ResetDetector(cfg);
    for (let i = 0; i < 5; i++) {
      d.pushD(1 + (i % 2)); // D still moves
      assert.equal(d.check(), false, 'not before the window is full');
      d.pushG(0.5 + 1e-5 * i);
    }
    assert.equal(d.check(), true);
    assert.deepEqual(d.state(), { g: [], d: [] }, 'windows are cleared after firing');
  });

  it('fires when the D window is flat while G still moves', () => {
    const d = new ResetDetector(cfg);
    for (let i = 0; i < 5; i++) {
      d.pushD(2);
      d.pushG(i);
    }
    assert.equal(d.check(), true);
  });

  it('stays quiet while both losses move, and keeps only the last `window` values', () => {
    const d = new ResetDetector(cfg);
    for (let i = 0; i < 50; i++) {
      d.pushD(Math.sin(i));
      d.pushG(Math.cos(i));
      assert.equal(d.check(), false);
    }
    assert.equal(d.state().g.length, 5);
  });

  it("compares the variance instead when asked (the reference code's test)", () => {
    const std = new ResetDetector({ ...cfg, threshold: 0.01 });
    const variance = new ResetDetector({ ...cfg, threshold: 0.01, measure: 'variance' });
    for (const det of [std, variance]) {
      for (let i = 0; i < 5; i++) {
        det.pushD(i);
        det.pushG(i % 2 ? 0.05 : 0); // std 0.0245, variance 0.0006
      }
    }
    assert.equal(std.check(), false);
    assert.equal(variance.check(), true);
  });
});

interface Extra {
  loader: LoaderState;
  sampler: RngState;
}

function run(trainer: GanTrainer, loader: BatchLoader, sampler: Rng, steps: number) {
  const losses: Array<[number, number | undefined]> = [];
  for (let i = 0; i < steps; i++) {
    const real = loader.next();
    const r = trainer.step(real, randomArch(trainer.stage, sampler));
    real.dispose();
    losses.push([r.dLoss, r.gLoss]);
  }
  return losses;
}

describe('GAN training', function () {
  this.timeout(600_000);

  it('continues after a checkpoint round trip with exactly the same losses @purejs', () => {
    const stage = 1;
    const loaderOpts = { batchSize: 4, imageSize: imageSizeAt(TINY_GAN, stage), channels: 1, limit: 64 };
    const a = GanTrainer.create(TINY_GAN, TINY_TRAIN, { seed: 5, stage });
    const loaderA = new BatchLoader(openMnist(), loaderOpts, 9);
    const samplerA = new Rng(3);
    run(a, loaderA, samplerA, 3);
    const file = path.join(tmp(), 'shared.ckpt');
    a.save(file, { loader: loaderA.state(), sampler: samplerA.state() } satisfies Extra);
    const expected = run(a, loaderA, samplerA, 3);
    a.dispose();

    const { trainer: b, extra } = GanTrainer.load(file);
    const e = extra as Extra;
    const got = run(b, new BatchLoader(openMnist(), loaderOpts, e.loader), new Rng(e.sampler), 3);
    b.dispose();
    assert.deepEqual(got, expected);
    assert.deepEqual(
      got.map(([, g]) => g !== undefined),
      [false, true, false],
      'a G step every n_critic = 2 D steps',
    );
  });

  it('detects a corrupted byte, a truncated file and a model mismatch, saying where', () => {
    const dir = tmp();
    const t = GanTrainer.create(TINY_GAN, TINY_TRAIN, { seed: 1, stage: 0 });
    const file = path.join(dir, 'a.ckpt');
    t.save(file);
    t.dispose();
    const buf = fs.readFileSync(file);
    const corrupt = path.join(dir, 'corrupt.ckpt');
    const flipped = Buffer.from(buf);
    flipped[buf.length - 3] ^= 0xff;
    fs.writeFileSync(corrupt, flipped);
    assert.throws(
      () => GanTrainer.load(corrupt),
      (err: Error) =>
        err instanceof CheckpointError &&
        /corrupt\.ckpt is corrupt: tensor \S+ \(bytes \d+\.\.\d+\) has sha256/.test(err.message),
    );
    const truncated = path.join(dir, 'truncated.ckpt');
    fs.writeFileSync(truncated, buf.subarray(0, buf.length - 100));
    assert.throws(() => GanTrainer.load(truncated), /truncated\.ckpt is truncated: tensor \S+ needs bytes/);
    fs.writeFileSync(path.join(dir, 'junk.ckpt'), 'hello');
    assert.throws(
      () => GanTrainer.load(path.join(dir, 'junk.ckpt')),
      /is not an AutoGAN checkpoint \(bad magic bytes/,
    );
    // A tensor with the wrong shape for the model.
    const other = path.join(dir, 'other.ckpt');
    const loaded = loadCheckpoint(file);
    const tensors = Object.fromEntries(loaded.tensors);
    tensors['g/g.l1.b'] = tf.zeros([3]);
    saveCheckpoint(other, { kind: loaded.manifest.kind, state: loaded.manifest.state, tensors });
    assert.throws(
      () => GanTrainer.load(other),
      /other\.ckpt does not match the model \(1 problem\):\n {2}tensor g\/g\.l1\.b has shape \[3\], the model expects \[16\]/,
    );
  });

  it('trains a tiny shared GAN on the embedded digits: losses move, tensor count stays flat', () => {
    const stage = 1;
    const t = GanTrainer.create(TINY_GAN, TINY_TRAIN, { seed: 2, stage });
    const loader = new BatchLoader(
      openMnist(),
      { batchSize: 4, imageSize: imageSizeAt(TINY_GAN, stage), channels: 1 },
      1,
    );
    const arch = [0, 1, 0, 1, 1, 1, 1, 0, 1]; // one path, so optimizer state stops growing after step 1
    const counts: number[] = [];
    const losses = [];
    for (let i = 0; i < 16; i++) {
      const real = loader.next();
      losses.push(t.step(real, arch));
      real.dispose();
      counts.push(tf.memory().numTensors);
    }
    t.dispose();
    assert.deepEqual(new Set(counts.slice(2)).size, 1, `numTensors per step: ${counts.join(' ')}`);
    const d = losses.map((l) => l.dLoss);
    assert.ok(d.every(Number.isFinite));
    assert.ok(Math.max(...d) - Math.min(...d) > 1e-3, `D loss did not move: ${d.join(' ')}`);
    const g = losses.flatMap((l) => (l.gLoss === undefined ? [] : [l.gLoss]));
    assert.equal(g.length, 8);
    assert.ok(Math.max(...g) - Math.min(...g) > 1e-3, `G loss did not move: ${g.join(' ')}`);
  });

  it('re-initialises on dynamic reset and counts it', () => {
    const t = GanTrainer.create(
      TINY_GAN,
      { ...TINY_TRAIN, reset: { window: 2, threshold: 1e9, measure: 'std' } },
      { seed: 3, stage: 0 },
    );
    const loader = new BatchLoader(openMnist(), { batchSize: 4, imageSize: 4, channels: 1 }, 1);
    const before = t.G.get('g.l1.w').dataSync().slice();
    let fired = -1;
    for (let i = 0; i < 4 && fired < 0; i++) {
      const real = loader.next();
      if (t.step(real, [0, 0, 0, 0]).reset) fired = i;
      real.dispose();
    }
    assert.equal(fired, 2, 'fires once both windows hold 2 losses (G steps at D steps 0 and 2)');
    const trained = t.G.get('g.l1.w').dataSync().slice();
    assert.notDeepEqual(trained, before, 'training moved the weights');
    t.reset();
    assert.equal(t.resets, 1);
    const fresh = t.G.get('g.l1.w').dataSync();
    assert.notDeepEqual(fresh, trained, 'the trained weights are gone');
    assert.notDeepEqual(fresh, before, 'a new draw, not the first initialisation restored');
    t.dispose();
  });

  it('derived training: a fixed architecture, EMA weights, and a learning rate that decays to zero', () => {
    const arch = [1, 0, 1, 1, 0, 2, 0, 0, 1];
    const t = GanTrainer.create(
      TINY_GAN,
      { ...TINY_TRAIN, emaDecay: 0.9, lrDecaySteps: 4 },
      { seed: 4, arch },
    );
    assert.equal(t.stage, 1);
    assert.ok(!t.G.has('g.cell0.post1.conv.w'), 'a derived generator holds only its path');
    const loader = new BatchLoader(openMnist(), { batchSize: 4, imageSize: 8, channels: 1 }, 2);
    for (let i = 0; i < 4; i++) {
      const real = loader.next();
      t.step(real);
      real.dispose();
    }
    const w = () => t.G.get('g.l1.w').dataSync().slice();
    const ema = t.ema!.get('g.l1.w')!.dataSync();
    assert.notDeepEqual(ema, w(), 'EMA weights differ from the raw weights');
    const frozen = w();
    for (let i = 0; i < 2; i++) {
      const real = loader.next();
      t.step(real);
      real.dispose();
    }
    assert.deepEqual(w(), frozen, 'after lrDecaySteps the learning rate is 0');
    const img = t.sample(3, { ema: true });
    assert.deepEqual(img.shape, [3, 8, 8, 1]);
    img.dispose();
    t.dispose();
  });
});
