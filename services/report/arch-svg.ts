// A drawing of a generator architecture in the style of the paper's figures: the latent vector and
// linear stem, then one box per cell (upsampling, the two conv blocks with their normalization and
// activation order, the in-cell shortcut), skip connections from earlier cells drawn as arcs, and
// the output head. Plain SVG text: a layout of boxes and arrows, which no chart library draws.
import { parseArch, type CellArch } from '../../core/arch/encoding';
import { esc } from './html-text';

const NORM_LABEL = { none: '', bn: 'BN', in: 'IN' } as const;
const UP_LABEL = { bilinear: 'bilinear ×2', nearest: 'nearest ×2', deconv: 'deconv ×2' } as const;

function convBlock(c: CellArch): string {
  const norm = NORM_LABEL[c.norm];
  const act = norm ? `${norm}, ReLU` : 'ReLU';
  return c.conv === 'pre' ? `${act} → conv3×3` : `conv3×3 → ${act}`;
}

let drawings = 0;

export interface ArchDrawingOptions {
  /** Spatial size of the stem's output (bottom width). @default 4 */
  bottomWidth?: number;
  /** A title above the drawing. */
  title?: string;
}

/** An SVG drawing of `vector` (the reference encoding); a text error box if it does not parse. */
export function archSvg(vector: readonly number[], opts: ArchDrawingOptions = {}): string {
  let cells: CellArch[];
  try {
    cells = parseArch(vector);
  } catch (err) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="420" height="30" role="img"><text x="4" y="20" font-size="12">${esc((err as Error).message)}</text></svg>`;
  }
  const bw = opts.bottomWidth ?? 4;
  const marker = `arr${++drawings}`; // ids are page-wide: one marker per drawing
  const cellW = 176;
  const gap = 34;
  const stemW = 92;
  const top = opts.title ? 26 : 8;
  const cellTop = top + 10;
  const cellH = 186;
  const arcSpace = 26 + 18 * Math.max(0, cells.length - 1);
  const width = 16 + stemW + gap + cells.length * (cellW + gap) + stemW + 16;
  const height = cellTop + cellH + arcSpace + 10;
  const out: string[] = [];
  const box = (x: number, y: number, w: number, h: number, text: string[], cls: string) => {
    out.push(`<rect class="${cls}" x="${x}" y="${y}" width="${w}" height="${h}" rx="6"/>`);
    text.forEach((t, i) =>
      out.push(
        `<text x="${x + w / 2}" y="${y + h / 2 + (i - (text.length - 1) / 2) * 14 + 4}" text-anchor="middle">${esc(t)}</text>`,
      ),
    );
  };
  const arrow = (x1: number, y1: number, x2: number, y2: number, cls = 'flow') =>
    out.push(
      `<line class="${cls}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" marker-end="url(#${marker})"/>`,
    );

  if (opts.title) out.push(`<text class="title" x="16" y="18">${esc(opts.title)}</text>`);
  const midY = cellTop + cellH / 2;
  let x = 16;
  box(x, midY - 34, stemW, 68, ['z', 'linear', `→ ${bw}×${bw}`], 'stem');
  let prevRight = x + stemW;
  x += stemW + gap;
  // Where each cell's skip-out leaves (after its first conv block, as in the reference cell).
  const skipOut: Array<{ x: number; y: number }> = [];
  const skipIn: Array<{ x: number; y: number }> = [];
  cells.forEach((c, s) => {
    const size = bw * 2 ** (s + 1);
    arrow(prevRight, midY, x, midY);
    out.push(`<rect class="cell" x="${x}" y="${cellTop}" width="${cellW}" height="${cellH}" rx="8"/>`);
    out.push(`<text class="cellname" x="${x + 10}" y="${cellTop + 16}">cell ${s} · ${size}×${size}</text>`);
    const bx = x + 12;
    const bwid = cellW - 40;
    const rows = [
      { y: cellTop + 26, text: `up: ${UP_LABEL[c.up]}`, cls: 'up' },
      { y: cellTop + 64, text: convBlock(c), cls: `conv ${c.conv}` },
      { y: cellTop + 102, text: c.skipIns.some(Boolean) ? '+ skip-ins' : 'no skip-in', cls: 'skip' },
      { y: cellTop + 140, text: convBlock(c), cls: `conv ${c.conv}` },
    ];
    rows.forEach((r, i) => {
      box(bx, r.y, bwid, 28, [r.text], r.cls);
      if (i) arrow(bx + bwid / 2, rows[i - 1].y + 28, bx + bwid / 2, r.y);
    });
    // Skip wires run along the cells' left margins, clear of the boxes.
    skipOut.push({ x: bx, y: rows[1].y + 14 });
    skipIn.push({ x: bx, y: rows[2].y + 14 });
    // The in-cell shortcut: the cell's input, upsampled, added to its output.
    const sx = x + cellW - 16;
    if (c.shortcut) {
      out.push(
        `<path class="shortcut" d="M ${bx + bwid} ${rows[0].y + 14} H ${sx} V ${rows[3].y + 14} H ${bx + bwid + 4}" marker-end="url(#${marker})"/>`,
        `<text class="small" x="${sx + 2}" y="${cellTop + cellH / 2}" transform="rotate(90 ${sx + 2} ${cellTop + cellH / 2})" text-anchor="middle">shortcut</text>`,
      );
    }
    prevRight = x + cellW;
    x += cellW + gap;
  });
  // Skip connections: from cell i's skip-out to cell s's "+ skip-ins", routed below the cells.
  let lane = 0;
  cells.forEach((c, s) =>
    c.skipIns.forEach((on, i) => {
      if (!on) return;
      const from = skipOut[i];
      const to = skipIn[s];
      const y = cellTop + cellH + 14 + 18 * lane;
      const off = 4 + 2 * lane++;
      out.push(
        `<path class="skipline" d="M ${from.x} ${from.y} H ${from.x - off} V ${y} H ${to.x - off} V ${to.y} H ${to.x}" marker-end="url(#${marker})"/>`,
        `<text class="small" x="${(from.x + to.x) / 2}" y="${y - 3}" text-anchor="middle">skip ${i} → ${s}</text>`,
      );
    }),
  );
  arrow(prevRight, midY, x, midY);
  box(x, midY - 34, stemW, 68, ['BN, ReLU', 'conv3×3, tanh', 'image'], 'stem');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="arch" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(`architecture ${vector.join(' ')}`)}">`,
    `<defs><marker id="${marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>`,
    ...out,
    '</svg>',
  ].join('\n');
}
