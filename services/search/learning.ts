// Does a search learn? Per stage, from the iteration history a search records: how far the
// controller's entropy fell, whether its mean reward rose (first third of the stage's iterations
// against the last third), how noisy one child's reward is next to the spread across children
// (signal), and what the dynamic-reset detector saw against its threshold. Pure: the report, the
// diagnostic benchmark and the tests share it.
import { mean } from '../../core/metrics/summary-stats';
import type { IterationSummary } from '../../workflows/search';

export interface StageLearning {
  stage: number;
  /** First and last iteration of the stage in the history. */
  iterations: [number, number];
  entropy: { first: number | null; last: number | null; changePercent: number | null };
  /** Mean of the iterations' mean rewards over the first and the last third of the stage. */
  reward: { firstThird: number | null; lastThird: number | null; rose: boolean | null };
  /**
   * Std of one child's reward over fresh image draws, pooled over the stage's probes (root mean
   * square of the per-iteration estimates); null when the search probed none.
   */
  noise: number | null;
  /** Root mean square of the per-iteration spreads of rewards across children (signal and noise). */
  spread: number | null;
  /** The spread with the noise taken out: sqrt(max(0, spread² − noise²)). */
  signal: number | null;
  /** signal / noise: how many noise widths separate children (null without a noise estimate). */
  signalToNoise: number | null;
  /** Iterations of the stage at which a dynamic reset fired. */
  resets: number[];
  /** The lowest G and D loss-window spread of the stage (what the reset compares with its threshold). */
  lowestLossSpread: { g: number | null; d: number | null };
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const meanOrNull = (xs: number[]) => (xs.length ? mean(xs) : null);
const rms = (xs: number[]) => (xs.length ? Math.sqrt(mean(xs.map((x) => x * x))) : null);

function lowest(xs: Array<number | null | undefined>): number | null {
  const v = xs.filter(finite);
  return v.length ? Math.min(...v) : null;
}

/** One stage's learning figures from its iterations (in order). */
export function stageLearning(stage: number, hs: IterationSummary[]): StageLearning {
  const third = Math.max(1, Math.floor(hs.length / 3));
  const rewards = hs.map((h) => h.meanReward);
  const firstThird = meanOrNull(rewards.slice(0, third).filter(finite));
  const lastThird = meanOrNull(rewards.slice(-third).filter(finite));
  const entropies = hs.map((h) => h.entropy).filter(finite);
  const first = entropies.length ? entropies[0] : null;
  const last = entropies.length ? entropies[entropies.length - 1] : null;
  const noise = rms(hs.map((h) => h.rewardNoise).filter(finite));
  const spread = rms(hs.map((h) => h.rewardSpread).filter(finite));
  const signal = spread === null ? null : Math.sqrt(Math.max(0, spread ** 2 - (noise ?? 0) ** 2));
  return {
    stage,
    iterations: [hs[0].iteration, hs[hs.length - 1].iteration],
    entropy: {
      first,
      last,
      changePercent: first !== null && last !== null && first !== 0 ? (100 * (last - first)) / first : null,
    },
    reward: {
      firstThird,
      lastThird,
      // One iteration is no trend.
      rose: hs.length >= 2 && firstThird !== null && lastThird !== null ? lastThird > firstThird : null,
    },
    noise,
    spread,
    signal,
    signalToNoise: signal !== null && noise ? signal / noise : null,
    resets: hs.filter((h) => h.reset).map((h) => h.iteration),
    lowestLossSpread: {
      g: lowest(hs.map((h) => h.lossSpread?.g)),
      d: lowest(hs.map((h) => h.lossSpread?.d)),
    },
  };
}

/** The learning figures of every stage in a search's history (sorted by iteration). */
export function searchLearning(history: IterationSummary[]): StageLearning[] {
  const sorted = [...history].sort((a, b) => a.iteration - b.iteration);
  const out: StageLearning[] = [];
  let run: IterationSummary[] = [];
  for (const h of sorted) {
    if (run.length && h.stage !== run[0].stage) {
      out.push(stageLearning(run[0].stage, run));
      run = [];
    }
    run.push(h);
  }
  if (run.length) out.push(stageLearning(run[0].stage, run));
  return out;
}
