// One self-contained HTML file for a run: uPlot (a small, maintained charting library) and its CSS
// inlined, the data as JSON, sample grids as data: URIs and architecture drawings as inline SVG,
// so the file opens anywhere with no network. The page script only draws charts from the JSON.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { archSvg } from './arch-svg';
import { esc, fixed, pngUri } from './html-text';
import type { ReportData } from './data';
import { searchLearning } from '../search/learning';
import type { IterationSummary } from '../../workflows/search';

function uplotAssets(): { js: string; css: string } {
  const dist = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  return {
    js: fs.readFileSync(path.join(dist, 'uPlot.iife.min.js'), 'utf8'),
    css: fs.readFileSync(path.join(dist, 'uPlot.min.css'), 'utf8'),
  };
}

function figure(title: string, file: string, cls = 'grid'): string {
  const uri = pngUri(file);
  return uri
    ? `<figure class="${cls}"><img src="${uri}" alt="${esc(title)}"><figcaption>${esc(title)}</figcaption></figure>`
    : `<figure class="${cls} missing"><figcaption>${esc(title)}: ${esc(file)} is missing</figcaption></figure>`;
}

/** At most `n` items, evenly spread and always including the last. */
function spread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.round((i * (items.length - 1)) / (n - 1))]);
  return out;
}

const fmt = (v: number | null | undefined, d = 3) => fixed(v, d);

function scoredTable(rows: Array<{ arch: number[]; score: number }>, what: string): string {
  if (!rows.length) return '';
  return `<table><thead><tr><th>#</th><th>architecture</th><th>${esc(what)}</th></tr></thead><tbody>${rows
    .map(
      (r, i) =>
        `<tr><td>${i + 1}</td><td><code>${esc(r.arch.join(' '))}</code></td><td>${fmt(r.score)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

/** Mean reward ± the iteration's reward noise (null where either is unknown). */
function band(hist: IterationSummary[], sign: 1 | -1) {
  return hist.map((h) =>
    typeof h.meanReward === 'number' && typeof h.rewardNoise === 'number'
      ? h.meanReward + sign * h.rewardNoise
      : null,
  );
}

/** A value for a log axis: null unless finite and positive. */
const positive = (v: number | null | undefined) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;

/** "Does the search learn?": per stage, from searchLearning. */
function learningTable(history: IterationSummary[]): string {
  const stages = searchLearning(history.filter((h) => Number.isFinite(h.stage)));
  if (!stages.length) return '';
  const pct = (v: number | null) => (v === null ? '—' : `${v > 0 ? '+' : ''}${v.toFixed(1)}%`);
  return `<h4>Does the search learn?</h4><p>Per stage: the policy's entropy from its first to its last iteration; the mean reward over the first and the last third of its iterations; the reward's noise (std of one child's reward over fresh image draws) against the spread of rewards across the children (signal: spread with the noise taken out). A search that learns has falling entropy, a rising reward, and signal well above noise.</p><table><thead><tr><th>stage</th><th>iterations</th><th>entropy</th><th>change</th><th>reward, first → last third</th><th>noise</th><th>signal</th><th>signal / noise</th><th>resets</th></tr></thead><tbody>${stages
    .map(
      (l) =>
        `<tr><td>${l.stage}</td><td>${l.iterations[0]}–${l.iterations[1]}</td><td>${fmt(l.entropy.first)} → ${fmt(l.entropy.last)}</td><td>${pct(l.entropy.changePercent)}</td><td>${fmt(l.reward.firstThird)} → ${fmt(l.reward.lastThird)}</td><td>${fmt(l.noise)}</td><td>${fmt(l.signal)}</td><td>${fmt(l.signalToNoise, 1)}</td><td>${l.resets.length ? l.resets.join(', ') : 'none'}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

export interface HtmlOptions {
  /** Sample grids shown per retrained candidate (evenly spread, last included). @default 6 */
  gridsPerCandidate?: number;
  /** Bottom width of the generators, for the drawings. @default 4 */
  bottomWidth?: number;
}

/** State, pipeline, dataset, times, steps, notes. */
function summarySection(d: ReportData): string[] {
  const sections: string[] = [];
  const meta = [
    ['status', d.status],
    ['pipeline', d.pipeline],
    ['dataset', d.dataset],
    ['started', d.started],
    ['closed', d.closed],
    ['report written', d.generatedAt],
  ].filter(([, v]) => v);
  sections.push(
    `<section id="summary"><h2>Summary</h2><dl>${meta.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>${
      d.failure ? `<p class="failure">Failed: ${esc(d.failure)}</p>` : ''
    }${d.steps.length ? `<p class="steps">${d.steps.map((s) => `<span class="step ${esc(s.state)}">${esc(s.id)}: ${esc(s.state)}</span>`).join(' ')}</p>` : ''}${
      d.notes.length ? `<ul class="notes">${d.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''
    }</section>`,
  );

  return sections;
}

/** The evaluated candidates, best IS first. */
function leaderboardSection(d: ReportData): string[] {
  const sections: string[] = [];
  if (d.leaderboard.length) {
    sections.push(
      `<section id="leaderboard"><h2>Leaderboard</h2><p>Final evaluation of the retrained candidates${d.leaderboardImages ? ` on ${d.leaderboardImages} generated images` : ''} (higher IS and lower FID are better; the retraining section's final numbers are each candidate's own last evaluation, on its retrain's <code>evalImages</code>).</p><table><thead><tr><th>candidate</th><th>architecture</th><th>IS</th><th>FID</th></tr></thead><tbody>${d.leaderboard
        .map(
          (r) =>
            `<tr${r.label === d.winner ? ' class="winner"' : ''}><td>${esc(r.label)}${r.label === d.winner ? ' ★' : ''}</td><td><code>${esc(r.arch.join(' '))}</code></td><td>${fmt(r.is)}${r.isStd !== undefined ? ` ± ${fmt(r.isStd)}` : ''}</td><td>${fmt(r.fid, 2)}</td></tr>`,
        )
        .join('')}</tbody></table></section>`,
    );
  }

  return sections;
}

/** The search: what it did, whether it learned, its charts, beams and top-K. */
function searchSection(d: ReportData): string[] {
  const sections: string[] = [];
  const s = d.search;
  if (s) {
    const grown = s.grown
      .map(
        (g) =>
          `<h4>Beams kept at iteration ${g.iteration} (end of a stage)</h4>${scoredTable(g.topK, 'reward')}`,
      )
      .join('');
    sections.push(
      `<section id="search"><h2>Search: ${esc(s.name)}</h2><p>${s.iterations}${s.maxIterations ? ` of ${s.maxIterations}` : ''} iterations, stage ${s.stage}${s.phase ? `, now ${esc(s.phase)}` : ''}, ${s.resets} dynamic reset${s.resets === 1 ? '' : 's'}${
        s.computeSeconds !== undefined ? `, ${(s.computeSeconds / 60).toFixed(1)} min of compute` : ''
      }.</p>
${learningTable(s.history)}
<div class="chart" id="chart-controller" data-title="Controller: mean reward of its children per iteration, the band ± one std of a single child's reward (its noise), and the baseline (| dynamic reset, ┆ stage change)"></div>
<div class="chart" id="chart-entropy" data-title="Controller: entropy of the policy per iteration (nats; falls as the policy commits)"></div>
<div class="chart" id="chart-losses" data-title="Shared GAN: mean D and G loss per iteration (| dynamic reset, ┆ stage change)"></div>
<div class="chart" id="chart-spread" data-title="Dynamic reset: lowest spread of the G and D loss windows per iteration against the threshold (log scale; a reset fires below it)"></div>
${grown}
<h4>The search's final top-K (its own derive)</h4>${scoredTable(s.topK, 'reward') || '<p>not derived yet</p>'}
${d.derived ? `<h4>Retrained: the <code>${esc(d.derived.step)}</code> step's top-K (a draw of its own from the final policy; candidate top<i>n</i> is row <i>n</i>)</h4>${scoredTable(d.derived.topK, 'reward')}` : ''}
${s.best.length ? `<h4>Best sampled during controller training (not derived)</h4>${scoredTable(s.best, 'reward')}` : ''}
</section>`,
    );
  }

  return sections;
}

/** Each retrained candidate's charts and sample grids. */
function retrainSection(d: ReportData, per: number): string[] {
  const sections: string[] = [];
  if (d.retrains.length) {
    const blocks = d.retrains.map((r) => {
      const grids = spread(r.samples, per)
        .map((g) => figure(g.title, g.file))
        .join('');
      const fin = r.final
        ? ` — final IS ${fmt(r.final.is)}${r.final.fid !== null ? `, FID ${fmt(r.final.fid, 2)}` : ''}`
        : '';
      return `<div class="candidate"><h3>${esc(r.label)}${r.arch.length ? ` <code>${esc(r.arch.join(' '))}</code>` : ''}${esc(fin)}</h3>${
        r.step !== undefined && r.totalSteps ? `<p>step ${r.step} of ${r.totalSteps}</p>` : ''
      }<div class="grids">${grids || '<p>no sample grid yet</p>'}</div></div>`;
    });
    sections.push(
      `<section id="retrain"><h2>Retraining</h2>
<div class="chart" id="chart-is" data-title="Inception Score over retraining (D steps)"></div>
<div class="chart" id="chart-fid" data-title="FID over retraining (D steps)"></div>
${blocks.join('\n')}</section>`,
    );
  }

  return sections;
}

/** Drawings of every architecture the report mentions. */
function architecturesSection(d: ReportData, bw: number): string[] {
  const sections: string[] = [];
  const archs = new Map<string, { title: string; arch: number[] }>();
  for (const r of d.leaderboard) archs.set(r.arch.join(','), { title: `${r.label}`, arch: r.arch });
  for (const r of d.retrains)
    if (r.arch.length && !archs.has(r.arch.join(',')))
      archs.set(r.arch.join(','), { title: r.label, arch: r.arch });
  d.search?.topK.forEach((t, i) => {
    if (!archs.has(t.arch.join(',')))
      archs.set(t.arch.join(','), { title: `derived top ${i + 1}`, arch: t.arch });
  });
  if (archs.size) {
    sections.push(
      `<section id="architectures"><h2>Discovered architectures</h2>${[...archs.values()]
        .map(
          (a) =>
            `<div class="archbox">${archSvg(a.arch, { bottomWidth: bw, title: `${a.title}: ${a.arch.join(' ')}` })}</div>`,
        )
        .join('\n')}</section>`,
    );
  }

  return sections;
}

/** Every sample grid, in the order they were drawn. */
function gridsSection(d: ReportData): string[] {
  const sections: string[] = [];
  if (d.grids.length) {
    sections.push(
      `<section id="samples"><h2>Sample grids</h2><div class="grids">${d.grids.map((g) => figure(g.title, g.file)).join('')}</div></section>`,
    );
  }

  return sections;
}

/** The charts' data: NaN and null become gaps; uPlot wants parallel arrays over one x axis. */
function chartDataOf(d: ReportData) {
  const s = d.search;
  const hist = s?.history ?? [];
  return {
    controller: {
      x: hist.map((h) => h.iteration),
      series: [
        { label: 'mean reward', values: hist.map((h) => h.meanReward) },
        { label: 'baseline', values: hist.map((h) => h.baseline ?? null) },
        { label: '+ noise', values: band(hist, 1) },
        { label: '− noise', values: band(hist, -1) },
      ],
    },
    entropy: {
      x: hist.map((h) => h.iteration),
      series: [{ label: 'entropy', values: hist.map((h) => h.entropy) }],
    },
    spread: {
      x: hist.map((h) => h.iteration),
      series: [
        { label: 'G loss spread', values: hist.map((h) => positive(h.lossSpread?.g)) },
        { label: 'D loss spread', values: hist.map((h) => positive(h.lossSpread?.d)) },
        {
          label: 'threshold',
          values: hist.map(() => (s?.resetThreshold ? s.resetThreshold : null)),
        },
      ],
    },
    losses: {
      x: hist.map((h) => h.iteration),
      series: [
        { label: 'D loss', values: hist.map((h) => (Number.isFinite(h.dLoss) ? h.dLoss : null)) },
        { label: 'G loss', values: hist.map((h) => (Number.isFinite(h.gLoss) ? h.gLoss : null)) },
      ],
      resets: hist.filter((h) => h.reset).map((h) => h.iteration),
      stages: hist
        .filter((h, i) => i > 0 && Number.isFinite(h.stage) && h.stage !== hist[i - 1].stage)
        .map((h) => h.iteration),
    },
    retrain: d.retrains.map((r) => ({ label: r.label, curve: r.curve })),
  };
}

export function reportHtml(d: ReportData, opts: HtmlOptions = {}): string {
  const { js, css } = uplotAssets();
  const sections = [
    ...summarySection(d),
    ...leaderboardSection(d),
    ...searchSection(d),
    ...retrainSection(d, opts.gridsPerCandidate ?? 6),
    ...architecturesSection(d, opts.bottomWidth ?? 4),
    ...gridsSection(d),
  ];
  const chartData = chartDataOf(d);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>AutoGAN report: ${esc(d.id)}</title>
<style>${css}</style>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1180px;padding:16px 24px;color:#1d232a}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;border-bottom:1px solid #d8dee4;padding-bottom:4px;margin-top:28px}
h3{font-size:15px}h4{font-size:14px;margin:14px 0 6px}code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#f3f5f7;padding:1px 4px;border-radius:3px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px}dt{color:#57606a}dd{margin:0}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d8dee4;padding:3px 9px;text-align:left}tr.winner{background:#fff8c5}
.failure{color:#b42318;font-weight:600}.notes{color:#6e4b00}.step{display:inline-block;padding:1px 7px;margin:2px;border-radius:9px;background:#eef1f4}
.step.failed{background:#ffd7d5}.step.done{background:#dafbe1}.step.running{background:#ddf4ff}
.chart{margin:10px 0 18px;min-height:60px}.chart .empty{color:#6e7781;font-style:italic}
.grids{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figure img{image-rendering:pixelated;width:288px;border:1px solid #d8dee4}
figcaption{font-size:12px;color:#57606a;max-width:288px}.missing{color:#b42318}
.archbox{overflow-x:auto;margin:10px 0}svg.arch text{font:12px system-ui,sans-serif;fill:#1d232a}svg.arch .title{font-weight:600;font-size:13px}
svg.arch .cellname{font-weight:600}svg.arch .small{font-size:10px;fill:#57606a}
svg.arch rect.cell{fill:#f6f8fa;stroke:#8c959f}svg.arch rect.stem{fill:#eef1f4;stroke:#8c959f}
svg.arch rect.up{fill:#ddf4ff;stroke:#54aeff}svg.arch rect.conv{fill:#dafbe1;stroke:#4ac26b}svg.arch rect.conv.pre{fill:#fff8c5;stroke:#d4a72c}
svg.arch rect.skip{fill:#fbefff;stroke:#c297ff}svg.arch line.flow{stroke:#57606a;stroke-width:1.3}
svg.arch path.shortcut{fill:none;stroke:#0969da;stroke-dasharray:4 3;stroke-width:1.3}svg.arch path.skipline{fill:none;stroke:#8250df;stroke-width:1.5}
svg.arch marker path{fill:#57606a}
</style>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
</head><body>
<h1>AutoGAN report: ${esc(d.id)}</h1>
${sections.join('\n')}
<script type="application/json" id="report-data">${JSON.stringify(chartData).replace(/</g, '\\u003c')}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var colors = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bc4c00', '#6e7781'];
  function width(el) { return Math.max(320, Math.min(1100, el.parentElement.clientWidth || 900)); }
  function empty(el, why) { el.innerHTML = '<p class="empty">' + el.dataset.title + ': ' + why + '</p>'; }
  function markers(lines) {
    return { hooks: { draw: [function (u) {
      var ctx = u.ctx; ctx.save();
      lines.forEach(function (l) {
        l.at.forEach(function (x) {
          var px = u.valToPos(x, 'x', true);
          ctx.strokeStyle = l.color; ctx.lineWidth = 1.5 * devicePixelRatio; ctx.setLineDash(l.dash);
          ctx.beginPath(); ctx.moveTo(px, u.bbox.top); ctx.lineTo(px, u.bbox.top + u.bbox.height); ctx.stroke();
        });
      });
      ctx.restore();
    }] } };
  }
  function line(id, xs, series, xlabel, plugins, extra) {
    var el = document.getElementById(id);
    if (!el) return;
    extra = extra || {};
    var any = series.some(function (s) { return s.values.some(function (v) { return v !== null; }); });
    if (!xs.length || !any) return empty(el, 'no data yet');
    var opts = {
      title: el.dataset.title, width: width(el), height: 260, plugins: plugins || [],
      scales: { x: { time: false }, y: extra.log ? { distr: 3 } : {} },
      axes: [{ label: xlabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000] }, {}],
      series: [{ label: xlabel }].concat(series.map(function (s, i) {
        var st = (extra.styles || {})[i] || {};
        return { label: s.label, stroke: st.stroke || colors[(st.color !== undefined ? st.color : i) % colors.length], width: st.width || 2, dash: st.dash, spanGaps: true, points: { show: xs.length < 60 } };
      })),
    };
    if (extra.bands) opts.bands = extra.bands;
    new uPlot(opts, [xs].concat(series.map(function (s) { return s.values; })), el);
  }
  var l = data.losses;
  var resetsAndStages = markers([
    { at: l.resets, color: '#cf222e', dash: [] }, { at: l.stages, color: '#8250df', dash: [6, 4] }]);
  var c = data.controller;
  // The noise band: the last two series, drawn thin and filled between.
  line('chart-controller', c.x, c.series, 'iteration', [resetsAndStages], {
    styles: { 2: { dash: [4, 4], width: 1, color: 0 }, 3: { dash: [4, 4], width: 1, color: 0 } },
    bands: [{ series: [3, 4], fill: 'rgba(9,105,218,0.12)' }],
  });
  line('chart-entropy', data.entropy.x, data.entropy.series, 'iteration', [resetsAndStages]);
  line('chart-losses', l.x, l.series, 'iteration', [resetsAndStages]);
  line('chart-spread', data.spread.x, data.spread.series, 'iteration', [resetsAndStages], { log: true });
  // Retrain curves: one series per candidate over the union of evaluated steps.
  var steps = [];
  data.retrain.forEach(function (r) { r.curve.forEach(function (p) { if (steps.indexOf(p.step) < 0) steps.push(p.step); }); });
  steps.sort(function (a, b) { return a - b; });
  function at(r, key) { return steps.map(function (s) { var p = r.curve.find(function (q) { return q.step === s; }); return p && p[key] !== null ? p[key] : null; }); }
  line('chart-is', steps, data.retrain.map(function (r) { return { label: r.label, values: at(r, 'is') }; }), 'D step');
  line('chart-fid', steps, data.retrain.map(function (r) { return { label: r.label, values: at(r, 'fid') }; }), 'D step');
})();
</script>
</body></html>
`;
}
