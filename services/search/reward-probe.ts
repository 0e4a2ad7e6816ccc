// The reward's noise and signal on one supernet, measured directly: children sampled from the
// policy and uniformly at random, each scored on `draws` independent sets of rewardImages images.
// The draws use the same latents for every child (paired), so the policy-vs-uniform difference is
// not blurred by image sampling. A diagnostic, not part of the method: nothing it does feeds back
// into a search.
import { randomArch } from '../../core/arch/encoding';
import { mean, variance } from '../../core/metrics/summary-stats';
import { Rng } from '../../core/rng';
import { type SearchParams } from '../../pipeline/search-params';
import { derivedSeed, loadController, loadTrainer, type SearchRefs } from './context';
import { scoreArch } from './scoring';

export interface ProbedChild {
  arch: number[];
  /** One score per draw. */
  scores: number[];
  mean: number;
}

export interface RewardProbe {
  stage: number;
  /** rewardImages per score, children per group, draws per child. */
  images: number;
  draws: number;
  policy: ProbedChild[];
  uniform: ProbedChild[];
  /** Std of one child's score over draws, pooled over every child of both groups. */
  noise: number;
  /**
   * Std across uniformly sampled architectures of their true (noise-free) reward: the spread of
   * their means with the noise of a mean (noise²/draws) taken out.
   */
  signal: number;
  signalToNoise: number | null;
  /** Mean score of policy children minus uniform children, and the standard error of that difference. */
  lift: { policyMean: number; uniformMean: number; difference: number; stdErr: number } | null;
}

export interface ProbeOptions {
  /** Children per group. @default 12 */
  children?: number;
  /** Independent image draws per child. @default 3 */
  draws?: number;
  /** Names the probe's random streams (another tag, other children and images). @default 'probe' */
  tag?: string;
}

/** Spreads of a few draws and children: the sample variance (over n − 1). */
const svar = (xs: number[]) => variance(xs, { sample: true });

/** Scores policy and uniform children of one supernet several times each (see the file header). */
export async function probeRewards(
  p: SearchParams,
  s: Pick<SearchRefs, 'supernet' | 'controller' | 'beams' | 'stage'>,
  opts: ProbeOptions = {},
  onScore: () => Promise<void> | void = () => undefined,
): Promise<RewardProbe> {
  const n = opts.children ?? 12;
  const draws = opts.draws ?? 3;
  const tag = opts.tag ?? 'probe';
  if (n < 2 || draws < 2) throw new Error('a reward probe needs at least 2 children and 2 draws');
  const ctrl = s.controller ? (await loadController(p, s.controller)).controller : null;
  const { trainer } = await loadTrainer(p, s.supernet);
  try {
    if (trainer.stage !== s.stage) trainer.setStage(s.stage);
    const rng = new Rng(derivedSeed(p, tag, 'archs', s.stage));
    const uniformArchs = Array.from({ length: n }, () => randomArch(s.stage, rng));
    const policyArchs = ctrl
      ? ctrl.sample(n, s.beams.length ? s.beams : undefined, rng).map((x) => x.arch)
      : [];
    const score = async (arch: number[]): Promise<ProbedChild> => {
      const scores: number[] = [];
      for (let r = 0; r < draws; r++) {
        scores.push(await scoreArch(p, trainer, arch, s.stage, derivedSeed(p, tag, 'draw', s.stage, r)));
        await onScore();
      }
      return { arch, scores, mean: mean(scores) };
    };
    const uniform: ProbedChild[] = [];
    for (const a of uniformArchs) uniform.push(await score(a));
    const policy: ProbedChild[] = [];
    for (const a of policyArchs) policy.push(await score(a));
    const all = [...uniform, ...policy];
    const noise = Math.sqrt(mean(all.map((c) => svar(c.scores))));
    const means = uniform.map((c) => c.mean);
    const signal = Math.sqrt(Math.max(0, svar(means) - noise ** 2 / draws));
    const policyMeans = policy.map((c) => c.mean);
    const lift = policy.length
      ? {
          policyMean: mean(policyMeans),
          uniformMean: mean(means),
          difference: mean(policyMeans) - mean(means),
          stdErr: Math.sqrt(svar(policyMeans) / policy.length + svar(means) / uniform.length),
        }
      : null;
    return {
      stage: s.stage,
      images: p.rewardImages,
      draws,
      policy,
      uniform,
      noise,
      signal,
      signalToNoise: noise > 0 ? signal / noise : null,
      lift,
    };
  } finally {
    trainer.dispose();
    ctrl?.dispose();
  }
}
