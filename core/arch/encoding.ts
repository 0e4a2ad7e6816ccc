// The AutoGAN reference encoding of generator architectures. Per cell: conv, norm, up, shortcut;
// from the second cell on also skip-ins as one integer bitmask. Bit j (value 2^j) of cell s's mask
// means a skip-in from cell s-1-j, i.e. the lowest bit is the nearest earlier cell, as in the
// reference's decimal2binary(n)[::-1] assignment.
import type { Rng } from '../rng';

export const CONV = ['post', 'pre'] as const;
export const NORM = ['none', 'bn', 'in'] as const;
export const UP = ['bilinear', 'nearest', 'deconv'] as const;

export type ConvType = (typeof CONV)[number];
export type NormType = (typeof NORM)[number];
export type UpType = (typeof UP)[number];

export interface CellArch {
  conv: ConvType;
  norm: NormType;
  up: UpType;
  shortcut: boolean;
  /** skipIns[i]: a skip-in from earlier cell i (length = this cell's index). */
  skipIns: boolean[];
}

export class ArchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchError';
  }
}

/** Number of integers that encode the first `stage + 1` cells. */
export function vectorLength(stage: number): number {
  return 4 + 5 * stage;
}

/** The choice count of each position of a cell's encoding (the controller's softmax sizes). */
export function cellChoiceCounts(cellIndex: number): number[] {
  return cellIndex === 0
    ? [CONV.length, NORM.length, UP.length, 2]
    : [CONV.length, NORM.length, UP.length, 2, 2 ** cellIndex];
}

const FIELD_NAMES = ['conv', 'norm', 'up', 'shortcut', 'skip-ins'];

/** Parses a reference vector into cells; the stage is implied by the length. */
export function parseArch(vector: readonly number[]): CellArch[] {
  if (vector.length < 4 || (vector.length - 4) % 5 !== 0) {
    throw new ArchError(
      `architecture vector has ${vector.length} integers; expected 4 for one cell, 9 for two, 14 for three (4 + 5 per further cell)`,
    );
  }
  const cells: CellArch[] = [];
  let at = 0;
  for (let s = 0; at < vector.length; s++) {
    const counts = cellChoiceCounts(s);
    const fields = vector.slice(at, at + counts.length);
    fields.forEach((v, k) => {
      if (!Number.isInteger(v) || v < 0 || v >= counts[k]) {
        throw new ArchError(
          `cell ${s} ${FIELD_NAMES[k]} (position ${at + k}) is ${v}; expected an integer in 0..${counts[k] - 1}`,
        );
      }
    });
    const mask = s === 0 ? 0 : fields[4];
    cells.push({
      conv: CONV[fields[0]],
      norm: NORM[fields[1]],
      up: UP[fields[2]],
      shortcut: fields[3] === 1,
      skipIns: Array.from({ length: s }, (_, i) => ((mask >> (s - 1 - i)) & 1) === 1),
    });
    at += counts.length;
  }
  return cells;
}

export function formatArch(cells: readonly CellArch[]): number[] {
  return cells.flatMap((c, s) => {
    const base = [CONV.indexOf(c.conv), NORM.indexOf(c.norm), UP.indexOf(c.up), c.shortcut ? 1 : 0];
    if (s === 0) return base;
    let mask = 0;
    c.skipIns.forEach((on, i) => {
      if (on) mask |= 1 << (s - 1 - i);
    });
    return [...base, mask];
  });
}

/** Parses "0 1 0 1 1 ..." or "[0, 1, ...]" or "0,1,0,1". */
export function parseArchText(text: string): number[] {
  const parts = text
    .replace(/[[\]]/g, ' ')
    .split(/[\s,]+/)
    .filter(Boolean);
  const nums = parts.map((p) => {
    if (!/^-?\d+$/.test(p)) throw new ArchError(`"${p}" is not an integer in architecture "${text}"`);
    return Number(p);
  });
  return nums;
}

/** Uniform random architecture for the first stage+1 cells (random search and tests). */
export function randomArch(stage: number, rng: Rng): number[] {
  const out: number[] = [];
  for (let s = 0; s <= stage; s++) for (const n of cellChoiceCounts(s)) out.push(rng.int(n));
  return out;
}

export function describeCell(c: CellArch, s: number): string {
  const conv = c.conv === 'pre' ? 'pre-activation conv block' : 'post-activation conv block';
  const norm = { none: 'no normalization', bn: 'batch norm', in: 'instance norm' }[c.norm];
  const up = {
    bilinear: 'bilinear upsampling',
    nearest: 'nearest-neighbour upsampling',
    deconv: 'stride-2 deconvolution',
  }[c.up];
  const skips = c.skipIns.map((on, i) => (on ? i : -1)).filter((i) => i >= 0);
  const skip =
    s === 0
      ? ''
      : skips.length
        ? `, skip-ins from cell${skips.length > 1 ? 's' : ''} ${skips.join(' and ')}`
        : ', no skip-ins';
  return `cell ${s}: ${conv}, ${norm}, ${up}, ${c.shortcut ? 'with' : 'no'} in-cell shortcut${skip}`;
}
