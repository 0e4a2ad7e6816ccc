// What a study's table needs to say whether a difference is real: a percentile bootstrap interval
// of a mean, and a paired t-test (variants compared seed by seed). Seeded, so a study's report
// gives the same interval every time it is made.
import { Rng } from '../rng';
import { mean, std } from './summary-stats';

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~15 significant digits). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast on one side of the mean; use the symmetry on the other.
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(a, b, x)) / a
    : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** Two-sided p-value of Student's t statistic with `df` degrees of freedom. */
export function studentTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

export interface PairedTest {
  /** Pairs compared. */
  n: number;
  /** Mean of a − b over the pairs. */
  meanDifference: number;
  /** t statistic (NaN with fewer than 2 pairs or no spread in the differences). */
  t: number;
  df: number;
  /** Two-sided p-value (null where t is undefined). */
  p: number | null;
}

/** Paired t-test of a against b (scipy.stats.ttest_rel): the pairs are a[i], b[i]. */
export function pairedTTest(a: readonly number[], b: readonly number[]): PairedTest {
  if (a.length !== b.length) throw new Error(`paired test: ${a.length} values against ${b.length}`);
  const d = a.map((x, i) => x - b[i]);
  const n = d.length;
  const m = mean(d);
  const s = std(d, { sample: true });
  const t = n >= 2 && s > 0 ? m / (s / Math.sqrt(n)) : NaN;
  return { n, meanDifference: m, t, df: n - 1, p: Number.isFinite(t) ? studentTwoSidedP(t, n - 1) : null };
}

export interface BootstrapOptions {
  /** Resamples drawn. @default 10000 */
  resamples?: number;
  /** Coverage of the interval. @default 0.95 */
  level?: number;
  /** Seed of the resampling (the interval is reproducible). @default 1 */
  seed?: number;
}

/**
 * Percentile bootstrap interval of the mean: resample the values with replacement, take each
 * resample's mean, report the (1 − level)/2 and (1 + level)/2 quantiles. With 3 values it spans at
 * most their range: a small study's interval says how little 3 seeds pin down.
 */
export function bootstrapMeanInterval(
  xs: readonly number[],
  opts: BootstrapOptions = {},
): [number, number] | null {
  if (!xs.length) return null;
  const resamples = opts.resamples ?? 10_000;
  const level = opts.level ?? 0.95;
  const rng = new Rng(opts.seed ?? 1);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[rng.int(xs.length)];
    means[r] = s / xs.length;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))];
  return [at((1 - level) / 2), at((1 + level) / 2)];
}
