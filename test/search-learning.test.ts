// What a search records so a user can tell whether it learns: the reward's noise (children
// re-scored on fresh images), the spread across children, the reset detector's spreads against its
// threshold, the per-stage summary, and the direct reward probe on a supernet.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { ResetDetector } from '../core/gan/reset-detector';
import { artifactStore } from '../services/artifact-store';
import { trainController } from '../services/search/controller-training';
import { withSearchDefaults } from '../pipeline/search-params';
import { scoreArch } from '../services/search/scoring';
import { derivedSeed, loadTrainer, noHooks } from '../services/search/context';
import { searchLearning, stageLearning } from '../services/search/learning';
import { probeRewards } from '../services/search/reward-probe';
import type { IterationSummary } from '../workflows/search';
import { searchIteration, startSearch } from './helpers/search-driver';
import { tinySearch } from './helpers/search-params';

const it0 = (over: Partial<IterationSummary>): IterationSummary => ({
  iteration: 0,
  stage: 0,
  dLoss: 1,
  gLoss: 1,
  meanReward: 2,
  entropy: 3,
  reset: false,
  ...over,
});

describe('search learning: what a search records about itself', function () {
  this.timeout(300_000);
  const queues = { control: 'c', gpu: 'g' };

  it('the reset detector exposes the spreads it compared with its threshold', () => {
    const det = new ResetDetector({ window: 3, threshold: 1e-3, measure: 'variance' });
    det.pushG(1);
    det.pushD(2);
    assert.equal(det.check(), false);
    assert.deepEqual(det.lastSpread, { g: null, d: null }, 'no full window yet');
    det.pushG(2);
    det.pushG(3);
    det.pushD(2);
    det.pushD(2);
    assert.equal(det.check(), true, 'the constant D window fires');
    assert.ok(
      Math.abs(det.lastSpread.g! - 2 / 3) < 1e-12,
      `G variance of 1,2,3 is 2/3, got ${det.lastSpread.g}`,
    );
    assert.equal(det.lastSpread.d, 0);
    assert.equal(det.g.length, 0, 'windows cleared after firing');
  });

  it('stageLearning: entropy change, reward thirds, pooled noise and the signal with the noise taken out', () => {
    const hs = [
      it0({ iteration: 4, stage: 1, entropy: 4, meanReward: 1, rewardNoise: 0.3, rewardSpread: 0.5 }),
      it0({ iteration: 5, stage: 1, entropy: 3.9, meanReward: 2, rewardNoise: 0.4, rewardSpread: 0.5 }),
      it0({
        iteration: 6,
        stage: 1,
        entropy: 3.8,
        meanReward: 2,
        reset: true,
        lossSpread: { g: 0.5, d: 1e-4 },
      }),
      it0({
        iteration: 7,
        stage: 1,
        entropy: 3.6,
        meanReward: 3,
        rewardNoise: null,
        lossSpread: { g: 0.2, d: null },
      }),
    ];
    const l = stageLearning(1, hs);
    assert.deepEqual(l.iterations, [4, 7]);
    assert.ok(Math.abs(l.entropy.changePercent! - -10) < 1e-9);
    assert.equal(l.reward.firstThird, 1);
    assert.equal(l.reward.lastThird, 3);
    assert.equal(l.reward.rose, true);
    assert.ok(Math.abs(l.noise! - Math.sqrt((0.09 + 0.16) / 2)) < 1e-12);
    assert.ok(Math.abs(l.signal! - Math.sqrt(0.25 - 0.125)) < 1e-12);
    assert.ok(Math.abs(l.signalToNoise! - 1) < 1e-12);
    assert.deepEqual(l.resets, [6]);
    assert.deepEqual(l.lowestLossSpread, { g: 0.2, d: 1e-4 });
    // Noise larger than the spread: no signal left.
    assert.equal(stageLearning(0, [it0({ rewardNoise: 1, rewardSpread: 0.5 })]).signal, 0);
    assert.equal(stageLearning(0, [it0({})]).reward.rose, null, 'one iteration is no trend');
  });

  it('searchLearning splits the history by stage in iteration order', () => {
    const stages = searchLearning([
      it0({ iteration: 2, stage: 1, entropy: 4 }),
      it0({ iteration: 0, stage: 0, entropy: 3 }),
      it0({ iteration: 1, stage: 0, entropy: 2.7 }),
    ]);
    assert.deepEqual(
      stages.map((s) => [s.stage, s.iterations]),
      [
        [0, [0, 1]],
        [1, [2, 2]],
      ],
    );
    assert.ok(Math.abs(stages[0].entropy.changePercent! - -10) < 1e-9);
  });

  it('controller training re-scores rewardProbes children on fresh images; shared training reports the loss spreads', async () => {
    const p = withSearchDefaults(
      tinySearch(queues, {
        rewardProbes: 2,
        controllerSteps: 3,
        dynamicReset: { enabled: true, window: 3, threshold: 1e-3, measure: 'variance' },
      }),
    );
    const s = await startSearch(p);
    const r = await searchIteration(p, s, 0);
    const c = r.controller!;
    // The noise is what the probe's second scores say: recompute it from the same seeds.
    const { trainer } = await loadTrainer(p, r.s.supernet);
    let sq = 0;
    const scores = c.rewards; // reward = score + 1e-3 · entropy: compare against the probe's score
    for (let j = 0; j < 2; j++) {
      const i = c.archs.length - 1 - j;
      const again = await scoreArch(p, trainer, c.archs[i], 0, derivedSeed(p, 'reward-probe', 0, j));
      const first = await scoreArch(p, trainer, c.archs[i], 0, derivedSeed(p, 'reward', 0, 2, 1 - j));
      assert.ok(Math.abs(first - scores[i]) < 0.01, 'the first score is the reward less its entropy bonus');
      sq += (again - first) ** 2 / 2;
    }
    trainer.dispose();
    assert.ok(c.rewardNoise! > 0, `noise ${c.rewardNoise}`);
    assert.ok(Math.abs(c.rewardNoise! - Math.sqrt(sq / 2)) < 1e-9);
    assert.ok(c.rewardSpread > 0 && Number.isFinite(c.rewardSpread));
    // 6 steps with a 3-loss window: the D window filled, so its spread was seen.
    assert.ok(r.shared.lossSpread.d !== null && r.shared.lossSpread.d >= 0);

    // Without probes: no noise estimate, and the search's own draws are unchanged.
    const q = withSearchDefaults({ ...p, rewardProbes: 0 });
    const r0 = await searchIteration(q, await startSearch(q), 0);
    assert.equal(r0.controller!.rewardNoise, null);
    assert.deepEqual(r0.controller!.rewards, c.rewards);
    assert.deepEqual(r0.controller!.archs, c.archs);
  });

  it('gridEvery: the controller call writes the grid of its best child every N iterations done', async () => {
    const p = withSearchDefaults(tinySearch(queues, { gridEvery: 2 }));
    const s = await startSearch(p);
    const dir = artifactStore(p).runDir('grid-run');
    const one = await trainController(p, { ...s, iteration: 0 }, noHooks, 'grid-run');
    assert.ok(!fs.existsSync(dir) || fs.readdirSync(dir).length === 0, 'after 1 iteration: none');
    await trainController(p, { ...s, controller: one.controller, iteration: 1 }, noHooks, 'grid-run');
    const file = path.join(dir, 'samples-stage0-iter2.png');
    const png = PNG.sync.read(fs.readFileSync(file));
    assert.ok(png.width > 8 && png.height > 8, `${png.width}×${png.height}`);
  });

  it('probeRewards: paired draws, noise, signal and the policy lift, deterministic per tag', async () => {
    const p = withSearchDefaults(tinySearch(queues, {}));
    const s0 = await startSearch(p);
    const { s } = await searchIteration(p, s0, 0);
    const a = await probeRewards(p, s, { children: 3, draws: 2 });
    assert.equal(a.uniform.length, 3);
    assert.equal(a.policy.length, 3);
    assert.ok(
      a.uniform.every(
        (c) => c.scores.length === 2 && Math.abs(c.mean - (c.scores[0] + c.scores[1]) / 2) < 1e-12,
      ),
    );
    assert.ok(a.noise > 0);
    assert.ok(a.signal >= 0);
    assert.ok(a.lift && Math.abs(a.lift.difference - (a.lift.policyMean - a.lift.uniformMean)) < 1e-12);
    const b = await probeRewards(p, s, { children: 3, draws: 2 });
    assert.deepEqual(b, a, 'same tag, same numbers');
    const c = await probeRewards(p, s, { children: 3, draws: 2, tag: 'other' });
    assert.notDeepEqual(c.uniform[0].scores, a.uniform[0].scores);
    await assert.rejects(probeRewards(p, s, { children: 1, draws: 2 }), /at least 2 children/);
  });
});
