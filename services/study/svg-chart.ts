// Small static SVG charts for the study report: lines and scatter points on linear axes, drawn on
// the server so the page needs no script and a test can read what was drawn.
import { esc } from '../report/html-text';

export const PALETTE = [
  '#0969da',
  '#cf222e',
  '#1a7f37',
  '#8250df',
  '#bc4c00',
  '#6e7781',
  '#1b7c83',
  '#953800',
];

export interface Series {
  label: string;
  color: string;
  points: Array<[number, number | null]>;
  mode: 'line' | 'points';
  /** A line drawn thinner and paler (one run among several of a variant). */
  faint?: boolean;
}

export interface ChartOptions {
  id: string;
  title: string;
  xlabel: string;
  ylabel: string;
  series: Series[];
  width?: number;
  height?: number;
}

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(+v.toPrecision(10));
  return out;
}

/** An SVG chart; with no finite point it says so instead. */
export function svgChart(o: ChartOptions): string {
  const w = o.width ?? 560;
  const h = o.height ?? 300;
  const m = { l: 52, r: 12, t: 26, b: 40 };
  const pts = o.series.flatMap((s) =>
    s.points.filter(
      (p): p is [number, number] => p[1] !== null && Number.isFinite(p[1]) && Number.isFinite(p[0]),
    ),
  );
  if (!pts.length)
    return `<div class="chart" id="${esc(o.id)}"><p class="empty">${esc(o.title)}: no data</p></div>`;
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const X = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (w - m.l - m.r);
  const Y = (y: number) => h - m.b - ((y - y0) / (y1 - y0)) * (h - m.t - m.b);
  const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : +v.toPrecision(3)).toString();
  const grid = [
    ...ticks(x0, x1).map(
      (t) =>
        `<line class="grid" x1="${X(t)}" x2="${X(t)}" y1="${m.t}" y2="${h - m.b}"/><text x="${X(t)}" y="${h - m.b + 14}" text-anchor="middle">${fmt(t)}</text>`,
    ),
    ...ticks(y0, y1).map(
      (t) =>
        `<line class="grid" x1="${m.l}" x2="${w - m.r}" y1="${Y(t)}" y2="${Y(t)}"/><text x="${m.l - 5}" y="${Y(t) + 4}" text-anchor="end">${fmt(t)}</text>`,
    ),
  ].join('');
  const drawn = o.series
    .map((s) => {
      const ok = s.points.filter((p): p is [number, number] => p[1] !== null && Number.isFinite(p[1]));
      if (s.mode === 'points')
        return ok
          .map(
            ([x, y]) =>
              `<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="4" fill="${s.color}" fill-opacity="0.8"><title>${esc(s.label)}: ${fmt(x)}, ${fmt(y)}</title></circle>`,
          )
          .join('');
      const d = ok.map(([x, y], i) => `${i ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join('');
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.faint ? 1 : 2}" stroke-opacity="${s.faint ? 0.45 : 1}"><title>${esc(s.label)}</title></path>`;
    })
    .join('');
  const labels = [...new Map(o.series.map((s) => [s.label.split(' (')[0], s.color])).entries()];
  const legend = labels
    .map(([l, c]) => `<span class="key"><i style="background:${c}"></i>${esc(l)}</span>`)
    .join(' ');
  return `<div class="chart" id="${esc(o.id)}"><svg class="plot" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(o.title)}"><text class="title" x="${m.l}" y="16">${esc(o.title)}</text>${grid}<line class="axis" x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${h - m.b}"/><line class="axis" x1="${m.l}" x2="${w - m.r}" y1="${h - m.b}" y2="${h - m.b}"/>${drawn}<text x="${(m.l + w - m.r) / 2}" y="${h - 6}" text-anchor="middle">${esc(o.xlabel)}</text><text transform="translate(12 ${(m.t + h - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.ylabel)}</text></svg><div class="legend">${legend}</div></div>`;
}
