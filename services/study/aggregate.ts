// study.json: every cell's numbers by variant, each variant's mean, std and 95% bootstrap interval,
// a paired test of the reference variant against each other one (seed by seed), and the proxy
// check's rank correlations. Pure: the same records give the same file.
import { bootstrapMeanInterval, pairedTTest, type PairedTest } from '../../core/metrics/inference';
import { kendall, spearman } from '../../core/metrics/rank-correlation';
import { mean, std } from '../../core/metrics/summary-stats';
import type { StudyPlan } from '../../pipeline/study';
import type { CellRecord, CurvePoint, ProxyRecord } from './records';

const r4 = (v: number | null | undefined) =>
  typeof v === 'number' && Number.isFinite(v) ? +v.toFixed(4) : null;

export interface StudyRun {
  seed: number;
  is: number;
  isStd: number | null;
  fid: number | null;
  searchSeconds: number;
  computeSeconds: number;
  arch: string;
  iterations: number;
  resets: number;
  workflowId: string;
  samples: string | null;
  curve: CurvePoint[];
}

type Stats = {
  is: number | null;
  fid: number | null;
  searchSeconds: number | null;
  computeSeconds: number | null;
};

export interface StudyVariant {
  name: string;
  description?: string;
  pipeline: string;
  runs: StudyRun[];
  mean: Stats;
  /** Sample standard deviation over the seeds (n − 1). */
  std: Stats;
  /** 95% percentile-bootstrap interval of the mean. */
  ci95: { is: [number, number] | null; fid: [number, number] | null };
  /** The reference variant minus this one, paired by seed (absent for the reference itself). */
  vsReference?: { seeds: number[]; is: PairedTest; fid: PairedTest | null };
}

export interface StudyProxySummary {
  variant: string;
  iterations: number;
  draws: number;
  supernets: number;
  retrainSeconds: number;
  spearman: number | null;
  kendall: number | null;
  randomOnly: { spearman: number | null; kendall: number | null } | null;
  realIs: { policyMean: number | null; randomMean: number | null };
  points: Array<{
    arch: string;
    source: 'policy' | 'random';
    proxy: number;
    real: number;
    fid: number | null;
  }>;
}

export interface StudyJson {
  study: string;
  description?: string;
  studyId: string;
  source: string;
  base: string;
  seeds: number[];
  reference: string;
  budget: StudyPlan['budget'];
  variants: StudyVariant[];
  proxy: StudyProxySummary | null;
  /** Cells with no record (failed): the study is incomplete until they are rerun. */
  missing: string[];
}

function stats(runs: StudyRun[], f: (r: StudyRun) => number | null, how: 'mean' | 'std'): number | null {
  const xs = runs.map(f).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (!xs.length || (how === 'std' && xs.length < 2)) return null;
  return r4(how === 'mean' ? mean(xs) : std(xs, { sample: true }));
}

const round = (p: PairedTest): PairedTest => ({
  n: p.n,
  meanDifference: r4(p.meanDifference)!,
  t: Number.isFinite(p.t) ? r4(p.t)! : NaN,
  df: p.df,
  p: r4(p.p),
});

function runOf(r: CellRecord): StudyRun {
  return {
    seed: r.seed,
    is: r4(r.is)!,
    isStd: r4(r.isStd),
    fid: r4(r.fid),
    searchSeconds: r.searchSeconds,
    computeSeconds: r.computeSeconds,
    arch: r.arch.join(' '),
    iterations: r.iterations,
    resets: r.resets,
    workflowId: r.workflowId,
    samples: r.samples,
    curve: r.curve,
  };
}

function proxySummary(p: ProxyRecord): StudyProxySummary {
  const proxies = p.points.map((x) => x.proxy);
  const real = p.points.map((x) => x.real);
  const idx = (s: 'policy' | 'random') =>
    p.points.map((x, i) => (x.source === s ? i : -1)).filter((i) => i >= 0);
  const pick = (xs: number[], is: number[]) => is.map((i) => xs[i]);
  const rnd = idx('random');
  const pol = idx('policy');
  const corr = (f: typeof spearman, a: number[], b: number[]) => (a.length >= 3 ? r4(f(a, b)) : null);
  return {
    variant: p.variant,
    iterations: p.iterations,
    draws: p.draws,
    supernets: p.supernets,
    retrainSeconds: p.retrainSeconds,
    spearman: corr(spearman, proxies, real),
    kendall: corr(kendall, proxies, real),
    randomOnly:
      rnd.length >= 3
        ? {
            spearman: corr(spearman, pick(proxies, rnd), pick(real, rnd)),
            kendall: corr(kendall, pick(proxies, rnd), pick(real, rnd)),
          }
        : null,
    realIs: {
      policyMean: pol.length ? r4(mean(pick(real, pol))) : null,
      randomMean: rnd.length ? r4(mean(pick(real, rnd))) : null,
    },
    points: p.points.map((x) => ({
      arch: x.arch.join(' '),
      source: x.source,
      proxy: r4(x.proxy)!,
      real: r4(x.real)!,
      fid: r4(x.fid),
    })),
  };
}

/** The study's summary from its plan and the records of its finished cells (and proxy check). */
export function studyJson(
  plan: StudyPlan,
  studyId: string,
  records: CellRecord[],
  proxy: ProxyRecord | null,
  relative: (file: string) => string = (f) => f,
): StudyJson {
  const byVariant = (name: string) =>
    records
      .filter((r) => r.variant === name)
      .sort((a, b) => a.seed - b.seed)
      .map(runOf);
  const ref = byVariant(plan.reference);
  const variants: StudyVariant[] = plan.variants.map((v) => {
    const runs = byVariant(v.name);
    const ci = (f: (r: StudyRun) => number | null) => {
      const xs = runs.map(f).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      const c = bootstrapMeanInterval(xs);
      return c ? ([r4(c[0])!, r4(c[1])!] as [number, number]) : null;
    };
    const out: StudyVariant = {
      name: v.name,
      ...(v.description ? { description: v.description } : {}),
      pipeline: relative(v.pipeline),
      runs,
      mean: {
        is: stats(runs, (r) => r.is, 'mean'),
        fid: stats(runs, (r) => r.fid, 'mean'),
        searchSeconds: stats(runs, (r) => r.searchSeconds, 'mean'),
        computeSeconds: stats(runs, (r) => r.computeSeconds, 'mean'),
      },
      std: {
        is: stats(runs, (r) => r.is, 'std'),
        fid: stats(runs, (r) => r.fid, 'std'),
        searchSeconds: stats(runs, (r) => r.searchSeconds, 'std'),
        computeSeconds: stats(runs, (r) => r.computeSeconds, 'std'),
      },
      ci95: { is: ci((r) => r.is), fid: ci((r) => r.fid) },
    };
    if (v.name !== plan.reference) {
      const seeds = runs.map((r) => r.seed).filter((s) => ref.some((x) => x.seed === s));
      const at = (rs: StudyRun[], f: (r: StudyRun) => number | null) =>
        seeds.map((s) => f(rs.find((r) => r.seed === s)!));
      const refFid = at(ref, (r) => r.fid);
      const fid = at(runs, (r) => r.fid);
      out.vsReference = {
        seeds,
        is: round(pairedTTest(at(ref, (r) => r.is) as number[], at(runs, (r) => r.is) as number[])),
        fid: [...refFid, ...fid].every((x) => typeof x === 'number')
          ? round(pairedTTest(refFid as number[], fid as number[]))
          : null,
      };
    }
    return out;
  });
  const done = new Set(records.map((r) => r.cell));
  return {
    study: plan.name,
    ...(plan.description ? { description: plan.description } : {}),
    studyId,
    source: relative(plan.source),
    base: relative(plan.base),
    seeds: plan.seeds,
    reference: plan.reference,
    budget: plan.budget,
    variants,
    proxy: proxy ? proxySummary(proxy) : null,
    missing: plan.cells.map((c) => c.id).filter((c) => !done.has(c)),
  };
}
