import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cellChoiceCounts, parseArch, vectorLength } from '../core/arch/encoding';
import { Controller } from '../core/controller/controller';

const small = { hiddenSize: 16 };

describe('controller', function () {
  this.timeout(120_000);

  it('samples decisions within each step’s choice count, for the cells of its stage', () => {
    for (const stage of [0, 1, 2]) {
      const c = Controller.create({ ...small, cells: [stage] }, 1);
      const counts = cellChoiceCounts(stage);
      assert.deepEqual(c.tokens, counts);
      const seen = counts.map(() => new Set<number>());
      for (const s of c.sample(200)) {
        assert.equal(s.actions.length, counts.length);
        s.actions.forEach((a, i) => {
          assert.ok(Number.isInteger(a) && a >= 0 && a < counts[i], `stage ${stage} decision ${i} = ${a}`);
          seen[i].add(a);
        });
      }
      seen.forEach((set, i) => assert.equal(set.size, counts[i], `every choice of decision ${i} occurs`));
      c.dispose();
    }
  });

  it('single-level search: one controller emits a whole architecture', () => {
    const c = Controller.create({ ...small, cells: [0, 1, 2] }, 2);
    const [s] = c.sample(1);
    assert.equal(s.arch.length, vectorLength(2));
    parseArch(s.arch);
    c.dispose();
  });

  it('log-probabilities and entropies match a direct computation from the softmax @purejs', () => {
    const c = Controller.create({ ...small, cells: [1] }, 3);
    const samples = c.sample(4);
    // Direct: replay the LSTM by hand with plain tensors.
    const p = c.params;
    const H = 16;
    for (const s of samples) {
      let h = tf.zeros([1, H]);
      let cc = tf.zeros([1, H]);
      let x = tf.zeros([1, H]);
      let logp = 0;
      let ent = 0;
      s.actions.forEach((a, d) => {
        const g = tf.add(
          tf.add(tf.matMul(x, p.get('lstm.wih')), tf.matMul(h, p.get('lstm.whh'))),
          tf.add(p.get('lstm.bih'), p.get('lstm.bhh')),
        );
        const gv = g.dataSync();
        const sig = (v: number) => 1 / (1 + Math.exp(-v));
        const cPrev = cc.dataSync();
        const cNew = new Float32Array(H);
        const hNew = new Float32Array(H);
        for (let k = 0; k < H; k++) {
          cNew[k] = sig(gv[H + k]) * cPrev[k] + sig(gv[k]) * Math.tanh(gv[2 * H + k]);
          hNew[k] = sig(gv[3 * H + k]) * Math.tanh(cNew[k]);
        }
        h = tf.tensor2d(hNew, [1, H]);
        cc = tf.tensor2d(cNew, [1, H]);
        const logits = Array.from(tf.add(tf.matMul(h, p.get(`dec${d}.w`)), p.get(`dec${d}.b`)).dataSync());
        const mx = Math.max(...logits);
        const z = logits.reduce((acc, l) => acc + Math.exp(l - mx), 0);
        const probs = Array.from(logits, (l) => Math.exp(l - mx) / z);
        logp += Math.log(probs[a]);
        ent -= probs.reduce((acc, q) => acc + q * Math.log(q), 0);
        x = tf.gather(p.get('embed'), [a + c.offsets[d]]);
      });
      assert.ok(Math.abs(logp - s.logProb) < 1e-4, `log-prob ${s.logProb} vs direct ${logp}`);
      assert.ok(Math.abs(ent - s.entropy) < 1e-4, `entropy ${s.entropy} vs direct ${ent}`);
    }
    const again = c.evaluate(samples);
    samples.forEach((s, i) => assert.ok(Math.abs(again.logProb[i] - s.logProb) < 1e-5));
    c.dispose();
  });

  it('REINFORCE learns a synthetic reward (norm = instance norm) within 150 steps', () => {
    const c = Controller.create({ ...small, cells: [0], lr: 0.01, entropyCoeff: 1e-4 }, 4);
    const target = (s: { actions: number[] }) => (s.actions[1] === 2 ? 1 : 0);
    let rate = 0;
    for (let step = 0; step < 150; step++) {
      const batch = c.sample(8);
      c.update(batch, batch.map(target));
      rate = c.sample(50).filter((s) => target(s) === 1).length / 50;
      if (rate >= 0.9) break;
    }
    assert.ok(rate >= 0.9, `only ${rate * 100}% of samples choose instance norm`);
    c.dispose();
  });

  it('keeps the top K of M candidates with their LSTM states, and the next stage starts from them', async () => {
    const c0 = Controller.create({ ...small, cells: [0] }, 5);
    const score = (arch: number[]) => arch[0] * 10 + arch[2]; // prefers pre-activation, then deconv
    const { beams, candidates } = await c0.topK(12, 3, score);
    assert.equal(candidates.length, 12);
    assert.equal(beams.length, 3);
    const best = [...candidates]
      .sort((a, b) => b.score - a.score)
      .slice(0, 3)
      .map((x) => x.score);
    assert.deepEqual(
      beams.map((b) => b.score),
      best,
    );
    assert.equal(beams[0].h.length, 16);

    const c1 = Controller.create({ ...small, cells: [1] }, 6);
    const samples = c1.sample(30, beams);
    for (const s of samples) {
      assert.equal(s.arch.length, vectorLength(1));
      assert.deepEqual(s.arch.slice(0, 4), beams[s.beam!].arch, 'a stage-1 arch extends its beam');
    }
    // The hidden state matters: the same decisions scored from another beam's state differ.
    const s = samples[0];
    const fromOwn = c1.evaluate([s], beams).logProb[0];
    assert.ok(Math.abs(fromOwn - s.logProb) < 1e-5);
    const shifted = beams.map((b) => ({ ...b, h: b.h.map((v) => v + 0.5), c: b.c.map((v) => -v) }));
    const fromOther = c1.evaluate([s], shifted).logProb[0];
    assert.notEqual(fromOwn.toFixed(6), fromOther.toFixed(6));
    c0.dispose();
    c1.dispose();
  });

  it('checkpoints weights, optimizer, baseline and RNG: a restored controller samples and learns identically', () => {
    const a = Controller.create({ ...small, cells: [1] }, 7);
    const b0 = a.sample(4);
    a.update(b0, [1, 2, 3, 4]);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ctrl-')), 'c.ckpt');
    a.save(file);
    const savedBaseline = a.baseline;
    assert.ok(savedBaseline !== null && savedBaseline.length > 0);
    const next = a.sample(4);
    const upd = a.update(next, [4, 3, 2, 1]);
    assert.notDeepEqual(a.baseline, savedBaseline, 'the second update moves the baseline');
    const { controller: b } = Controller.load(file);
    assert.deepEqual(b.baseline, savedBaseline);
    const nextB = b.sample(4);
    assert.deepEqual(
      nextB.map((s) => s.arch),
      next.map((s) => s.arch),
    );
    const updB = b.update(nextB, [4, 3, 2, 1]);
    assert.equal(updB.loss, upd.loss);
    assert.equal(updB.baseline, upd.baseline);
    a.dispose();
    b.dispose();
  });
});
