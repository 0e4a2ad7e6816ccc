// The search phases without Temporal: every search mode and reward of the ablation pipelines.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { derive } from '../services/search';
import { loadPipeline } from '../pipeline/load';
import { withSearchDefaults, type SearchParams } from '../pipeline/search-params';
import { searchIteration, startSearch } from './helpers/search-driver';
import { tinySearch } from './helpers/search-params';

async function iterate(p: SearchParams, iterations: number) {
  let s = await startSearch(p);
  const rewards: number[] = [];
  const children: number[][] = [];
  for (let it = 0; it < iterations; it++) {
    const r = await searchIteration(p, s, it);
    s = r.s;
    if (r.shared.child) children.push(r.shared.child.arch);
    if (r.controller) rewards.push(r.controller.meanReward);
  }
  return { s, rewards, children, final: await derive(p, s, { m: p.candidates, k: p.topK }) };
}

describe('search phases (no server)', function () {
  this.timeout(300_000);
  const queues = { control: 'c', gpu: 'g' };

  it('single-level: one controller emits whole architectures at full depth', async () => {
    const p = withSearchDefaults(tinySearch(queues, { mode: 'single-level' }));
    const { final, s } = await iterate(p, 2);
    assert.equal(s.stage, 1);
    assert.ok(final.topK.every((t) => t.arch.length === 9));
    // The derive step is a draw of its own, not the search's final derive again; the same tag repeats.
    const again = await derive(p, s, { m: p.candidates, k: p.topK });
    assert.deepEqual(again.candidates, final.candidates, "the search's own derive is deterministic");
    const step = await derive(p, s, {
      m: p.candidates,
      k: p.topK,
      tag: 'derive-step',
      images: 2 * p.rewardImages,
    });
    assert.notDeepEqual(step.candidates, final.candidates);
    assert.deepEqual(
      (await derive(p, s, { m: p.candidates, k: p.topK, tag: 'derive-step', images: 2 * p.rewardImages }))
        .candidates,
      step.candidates,
    );
  });

  it('the 1/FID reward gives positive rewards below 1 per unit FID, from cached real statistics', async () => {
    const p = withSearchDefaults(
      tinySearch(queues, { reward: 'inverse-fid', maxIterations: 1, growSteps: [5] }),
    );
    const { rewards } = await iterate(p, 1);
    assert.ok(rewards[0] > 0 && Number.isFinite(rewards[0]));
    assert.ok(fs.readdirSync(path.join(p.artifacts, 'cache')).some((f) => f.startsWith('real-stats-')));
  });

  it('random search with weight sharing has no controller and derives uniformly sampled architectures', async () => {
    const p = withSearchDefaults(tinySearch(queues, { mode: 'random' }));
    const { s, final } = await iterate(p, 3);
    assert.equal(s.controller, null);
    assert.equal(final.topK.length, 2);
    assert.ok(final.topK.every((t) => t.arch.length === 9));
  });

  it('random search without weight sharing trains and scores each child from scratch', async () => {
    const p = withSearchDefaults(tinySearch(queues, { mode: 'random', weightSharing: false }));
    const { children } = await iterate(p, 2);
    assert.equal(children.length, 2);
  });

  it('every shipped pipeline and ablation validates', () => {
    const dir = path.join(__dirname, '..', '..', 'pipelines');
    const files = [
      ...fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => path.join(dir, f)),
      ...['ablations', 'ablations/demo'].flatMap((sub) =>
        fs
          .readdirSync(path.join(dir, sub))
          .filter((f) => f.endsWith('.yaml'))
          .map((f) => path.join(dir, sub, f)),
      ),
    ];
    assert.ok(files.length >= 13);
    for (const f of files) loadPipeline(f, { checkFiles: false });
  });
});
