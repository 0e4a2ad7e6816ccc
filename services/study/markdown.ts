// study.json as Markdown tables, for the docs: generated from the committed JSON (tools/
// gen-study-table.ts) and checked against it by a test, so the published numbers cannot drift.
import { fixed } from '../report/html-text';
import type { StudyJson } from './aggregate';

/** What the paper reports for a variant (AutoGAN §4.3, CIFAR-10), shown beside ours. */
export interface PaperRow {
  is?: number;
  fid?: number;
  note?: string;
}

const f = fixed;

/** The variants table: ours (mean ± std, 95% CI, paired test against the reference) and the paper's. */
export function variantsTable(j: StudyJson, paper: Record<string, PaperRow> = {}): string {
  const head =
    '| variant | runs | IS (mean ± std) | IS 95% CI | FID (mean ± std) | search (min) | ' +
    `${j.reference} − variant: ΔIS (p), ΔFID (p) | paper IS / FID (CIFAR-10) |`;
  const rows = j.variants.map((v) => {
    const vs = v.vsReference;
    const test = vs
      ? `${f(vs.is.meanDifference)} (${f(vs.is.p, 2)}), ${vs.fid ? `${f(vs.fid.meanDifference)} (${f(vs.fid.p, 2)})` : '—'}`
      : 'reference';
    const p = paper[v.name];
    const paperCell = p
      ? [p.is !== undefined ? `${f(p.is)} / ${f(p.fid)}` : '', p.note ?? ''].filter(Boolean).join(' ')
      : '—';
    const ci = v.ci95.is ? `[${f(v.ci95.is[0])}, ${f(v.ci95.is[1])}]` : '—';
    return `| ${v.name} | ${v.runs.length} | ${f(v.mean.is)} ± ${f(v.std.is)} | ${ci} | ${f(v.mean.fid)} ± ${f(v.std.fid)} | ${f((v.mean.searchSeconds ?? NaN) / 60, 1)} | ${test} | ${paperCell} |`;
  });
  return [head, `|${' --- |'.repeat(8)}`, ...rows].join('\n');
}

/** Every run: seed, IS, FID, the winner's architecture. */
export function runsTable(j: StudyJson): string {
  const rows = j.variants.flatMap((v) =>
    v.runs.map((r) => `| ${v.name} | ${r.seed} | ${f(r.is)} | ${f(r.fid)} | \`${r.arch}\` | ${r.resets} |`),
  );
  return ['| variant | seed | IS | FID | winner | resets |', `|${' --- |'.repeat(6)}`, ...rows].join('\n');
}

/** The proxy check in one table row per measure. */
export function proxyTable(j: StudyJson, paperSpearman?: number): string {
  const p = j.proxy;
  if (!p) return '(no proxy check)';
  return [
    '| proxy check | ours | paper (CIFAR-10) |',
    '| --- | --- | --- |',
    `| architectures retrained from scratch | ${p.points.length} (${p.points.filter((x) => x.source === 'policy').length} derived, ${p.points.filter((x) => x.source === 'random').length} uniform), ${p.iterations} iterations each | 30 epochs each |`,
    `| Spearman ρ, proxy vs real IS | ${f(p.spearman, 3)} | ${paperSpearman === undefined ? '—' : f(paperSpearman, 3)} |`,
    `| Kendall τ | ${f(p.kendall, 3)} | — |`,
    `| ρ over the uniform ones alone | ${f(p.randomOnly?.spearman, 3)} | — |`,
    `| mean real IS: derived / uniform | ${f(p.realIs.policyMean)} / ${f(p.realIs.randomMean)} | — |`,
  ].join('\n');
}
