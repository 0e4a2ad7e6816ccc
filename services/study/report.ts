// The study report: one self-contained HTML page from study.json — the table (mean ± std, 95%
// bootstrap interval, paired test against the reference), search curves per variant against
// compute time, the proxy check's scatter, and each variant's best sample grid.
import { esc, fixed, pngUri } from '../report/html-text';
import type { StudyJson, StudyVariant } from './aggregate';
import { PALETTE, svgChart, type Series } from './svg-chart';

const fmt = fixed;
const pm = (m: number | null, s: number | null, d = 2) =>
  `${fmt(m, d)}${s === null ? '' : ` ± ${fmt(s, d)}`}`;
const ci = (c: [number, number] | null, d = 2) => (c ? `[${fmt(c[0], d)}, ${fmt(c[1], d)}]` : '—');

function table(j: StudyJson): string {
  const rows = j.variants.map((v) => {
    const vs = v.vsReference;
    const test = vs
      ? `ΔIS ${fmt(vs.is.meanDifference)} (p ${fmt(vs.is.p, 3)})${vs.fid ? `, ΔFID ${fmt(vs.fid.meanDifference)} (p ${fmt(vs.fid.p, 3)})` : ''}, ${vs.seeds.length} seeds`
      : 'reference';
    return `<tr${v.name === j.reference ? ' class="winner"' : ''}><td>${esc(v.name)}</td><td>${v.runs.length}</td><td>${pm(v.mean.is, v.std.is)}</td><td>${ci(v.ci95.is)}</td><td>${pm(v.mean.fid, v.std.fid)}</td><td>${ci(v.ci95.fid)}</td><td>${fmt((v.mean.searchSeconds ?? NaN) / 60, 1)}</td><td>${fmt((v.mean.computeSeconds ?? NaN) / 60, 1)}</td><td>${test}</td><td>${v.runs.map((r) => `${r.seed}: ${fmt(r.is)}`).join(', ')}</td></tr>`;
  });
  return `<table><thead><tr><th>variant</th><th>runs</th><th>IS (mean ± std)</th><th>IS 95% CI</th><th>FID (mean ± std)</th><th>FID 95% CI</th><th>search min</th><th>cell min</th><th>${esc(j.reference)} − variant (paired t-test)</th><th>IS by seed</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function curves(j: StudyJson, key: 'reward' | 'entropy'): string {
  const series: Series[] = j.variants.flatMap((v, i) =>
    v.runs.map((r) => ({
      label: `${v.name} (seed ${r.seed})`,
      color: PALETTE[i % PALETTE.length],
      mode: 'line' as const,
      faint: true,
      points: r.curve.map((p) => [p.seconds / 60, p[key]] as [number, number | null]),
    })),
  );
  return svgChart({
    id: `chart-${key}`,
    title:
      key === 'reward'
        ? 'Mean reward per search iteration (each line one seed)'
        : 'Controller entropy per search iteration',
    xlabel: 'search compute (minutes)',
    ylabel: key === 'reward' ? 'mean reward' : 'entropy (nats)',
    series,
  });
}

function isChart(j: StudyJson): string {
  return svgChart({
    id: 'chart-is',
    title: 'Final IS of each run against its cell time',
    xlabel: 'cell wall-clock (minutes)',
    ylabel: 'IS',
    series: j.variants.map((v, i) => ({
      label: v.name,
      color: PALETTE[i % PALETTE.length],
      mode: 'points' as const,
      points: v.runs.map((r) => [r.computeSeconds / 60, r.is] as [number, number]),
    })),
  });
}

function proxySection(j: StudyJson): string {
  const p = j.proxy;
  if (!p) return '';
  const scatter = svgChart({
    id: 'chart-proxy',
    title: `Proxy (supernet reward) vs IS retrained from scratch: ρ ${fmt(p.spearman)}, τ ${fmt(p.kendall)}`,
    xlabel: `mean reward on ${p.supernets} final supernet${p.supernets === 1 ? '' : 's'}`,
    ylabel: `IS after ${p.iterations} iterations`,
    series: (['policy', 'random'] as const).map((s, i) => ({
      label: s === 'policy' ? 'derived (policy)' : 'uniform random',
      color: PALETTE[i],
      mode: 'points' as const,
      points: p.points.filter((x) => x.source === s).map((x) => [x.proxy, x.real] as [number, number]),
    })),
  });
  return `<section id="proxy"><h2>Proxy validity (AutoGAN §4.3.1)</h2><p>${p.points.length} architectures (derived from variant <b>${esc(p.variant)}</b>'s policies, and uniform ones), each scored on the variant's final supernets over ${p.draws} paired image draws, then retrained from scratch for ${p.iterations} iterations. Spearman ρ ${fmt(p.spearman, 3)}, Kendall τ ${fmt(p.kendall, 3)}${p.randomOnly ? `; over the uniform ones alone ρ ${fmt(p.randomOnly.spearman, 3)}, τ ${fmt(p.randomOnly.kendall, 3)}` : ''}. Mean IS from scratch: derived ${fmt(p.realIs.policyMean)}, uniform ${fmt(p.realIs.randomMean)}. The paper reports ρ = 0.779 on CIFAR-10.</p>${scatter}<table><thead><tr><th>architecture</th><th>source</th><th>proxy</th><th>IS from scratch</th><th>FID</th></tr></thead><tbody>${p.points
    .map(
      (x) =>
        `<tr><td><code>${esc(x.arch)}</code></td><td>${x.source}</td><td>${fmt(x.proxy, 3)}</td><td>${fmt(x.real, 3)}</td><td>${fmt(x.fid)}</td></tr>`,
    )
    .join('')}</tbody></table></section>`;
}

function grids(j: StudyJson): string {
  const best = (v: StudyVariant) => [...v.runs].sort((a, b) => b.is - a.is)[0];
  return `<section id="winners"><h2>Each variant's best run</h2><div class="grids">${j.variants
    .map((v) => {
      const r = best(v);
      if (!r)
        return `<figure class="missing"><figcaption>${esc(v.name)}: no finished run</figcaption></figure>`;
      const uri = pngUri(r.samples);
      const cap = `${v.name}, seed ${r.seed}: IS ${fmt(r.is)}, FID ${fmt(r.fid)} — ${r.arch}`;
      return uri
        ? `<figure><img src="${uri}" alt="${esc(cap)}"><figcaption>${esc(cap)}</figcaption></figure>`
        : `<figure class="missing"><figcaption>${esc(cap)}: ${esc(r.samples)} is missing</figcaption></figure>`;
    })
    .join('')}</div></section>`;
}

export function studyHtml(j: StudyJson): string {
  const b = j.budget;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>AutoGAN study ${esc(j.study)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1180px;padding:16px 24px;color:#1d232a}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;border-bottom:1px solid #d8dee4;padding-bottom:4px;margin-top:28px}
code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#f3f5f7;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d8dee4;padding:3px 9px;text-align:left}tr.winner{background:#fff8c5}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart .empty{color:#6e7781;font-style:italic}
svg.plot text{font:11px system-ui,sans-serif;fill:#57606a}svg.plot .title{font-weight:600;font-size:12px;fill:#1d232a}
svg.plot line.grid{stroke:#eef1f4}svg.plot line.axis{stroke:#8c959f}
.legend .key{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.grids{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figure img{image-rendering:pixelated;width:288px;border:1px solid #d8dee4}
figcaption{font-size:12px;color:#57606a;max-width:288px}.missing{color:#b42318}
</style></head><body>
<h1>AutoGAN study: ${esc(j.study)}</h1>
${j.description ? `<p>${esc(j.description)}</p>` : ''}
<p>Study <code>${esc(j.studyId)}</code> of <code>${esc(j.source)}</code> over base <code>${esc(j.base)}</code>; seeds ${j.seeds.join(', ')}; one budget for every variant: retrain ${b.retrainIterations} iterations, top ${b.topK} per search, IS/FID on ${b.evaluateImages} images.${j.missing.length ? ` <b class="missing">Incomplete: no record for ${esc(j.missing.join(', '))}.</b>` : ''}</p>
<section id="table"><h2>Results</h2><p>Higher IS and lower FID are better. The interval is a 95% percentile bootstrap of the mean over seeds (with 3 seeds it cannot be wider than their range); the test pairs each variant's run with the reference's of the same seed (two-sided paired t-test). The cell time is wall-clock with the study's cells side by side.</p>${table(j)}</section>
<section id="curves"><h2>Search curves</h2><div class="charts">${curves(j, 'reward')}${curves(j, 'entropy')}${isChart(j)}</div></section>
${proxySection(j)}
${grids(j)}
</body></html>
`;
}
