// The study's proxy check (AutoGAN §4.3.1): which architectures, and their proxy score — the mean
// reward on the variant's final supernets (one per seed) over paired image draws. Their real score
// comes from retraining each from scratch (a pipeline of retrain steps the study workflow runs).
import { randomArch } from '../../core/arch/encoding';
import { Rng } from '../../core/rng';
import { mean } from '../../core/metrics/summary-stats';
import type { SearchParams } from '../../pipeline/search-params';
import { derivedSeed, loadTrainer, noHooks, type Hooks } from '../search/context';
import { scoreArch } from '../search/scoring';
import type { CellRecord } from './records';

export interface ProxyArch {
  arch: number[];
  source: 'policy' | 'random';
}

/**
 * The best `policyPerSeed` distinct architectures of each seed's derive candidates (seeds in
 * order), then `random` distinct uniform ones of the same stage, drawn from `seed`.
 */
export function pickProxyArchs(
  records: CellRecord[],
  opts: { policyPerSeed: number; random: number; seed: number },
): ProxyArch[] {
  if (!records.length) throw new Error('proxy check: the variant has no finished cell to draw from');
  const picked = new Map<string, ProxyArch>();
  const key = (a: number[]) => a.join(' ');
  for (const r of [...records].sort((a, b) => a.seed - b.seed)) {
    let taken = 0;
    for (const c of r.candidates) {
      if (taken >= opts.policyPerSeed) break;
      if (picked.has(key(c.arch))) continue;
      picked.set(key(c.arch), { arch: c.arch, source: 'policy' });
      taken++;
    }
  }
  const stage = records[0].search.stage;
  const rng = new Rng(opts.seed);
  for (let n = 0, tries = 0; n < opts.random; tries++) {
    if (tries > 10_000) throw new Error('proxy check: could not draw enough distinct uniform architectures');
    const a = randomArch(stage, rng);
    if (picked.has(key(a))) continue;
    picked.set(key(a), { arch: a, source: 'random' });
    n++;
  }
  return [...picked.values()];
}

/** A final supernet to score on. */
export interface SupernetRef {
  params: SearchParams;
  supernet: string;
  stage: number;
}

/**
 * Each architecture's mean reward over the supernets and `draws` paired image draws per supernet
 * (the same draws for every architecture, so differences are the architectures').
 */
export async function proxyScores(
  supernets: SupernetRef[],
  archs: number[][],
  draws: number,
  hooks: Hooks = noHooks,
): Promise<number[]> {
  const scores = archs.map(() => [] as number[]);
  const total = supernets.length * archs.length;
  let done = 0;
  for (const s of supernets) {
    const { trainer } = await loadTrainer(s.params, s.supernet);
    try {
      if (trainer.stage !== s.stage) trainer.setStage(s.stage);
      for (let i = 0; i < archs.length; i++) {
        for (let r = 0; r < draws; r++)
          scores[i].push(
            await scoreArch(s.params, trainer, archs[i], s.stage, derivedSeed(s.params, 'study-proxy', r)),
          );
        hooks.progress({ step: ++done, total });
        await hooks.atStepBoundary();
      }
    } finally {
      trainer.dispose();
    }
  }
  return scores.map((s) => mean(s));
}
