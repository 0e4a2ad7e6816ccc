// Deterministic stand-in weights and images for tests and benchmarks, since the real weights may
// not be committed or downloaded. The recipe is integer hashing (identical in every language) and
// a handful of correctly rounded float64 operations rounded once to float32, so
// tools/reference-fixtures/make_fid_inception_fixtures.py builds bit-identical tensors in numpy and
// the golden outputs it stores apply to the network built here.
import { stateDictSpec } from './spec';

/** A state-dict tensor in torch layout (row-major, the shape as torch states it). */
export interface StateTensor {
  shape: number[];
  data: Float32Array;
}

export type StateDict = Map<string, StateTensor>;

/** FNV-1a over the UTF-8 bytes: the per-tensor seed. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** n values in [0, 1), multiples of 2^-24: lowbias32(seed + i·0x9E3779B1). */
export function uniform(seedText: string, n: number): Float64Array {
  const seed = fnv1a32(seedText);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = (seed + Math.imul(i, 0x9e3779b1)) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    x ^= x >>> 16;
    out[i] = (x >>> 8) / 16777216;
  }
  return out;
}

/** One tensor of the recipe: He-uniform conv/fc weights, batch-norm values near identity. */
export function syntheticTensor(name: string, shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const u = uniform(name, n);
  const out = new Float32Array(n);
  let f: (v: number) => number;
  if (name.endsWith('conv.weight') || name === 'fc.weight') {
    const a = Math.sqrt(6 / shape.slice(1).reduce((x, y) => x * y, 1));
    f = (v) => (2 * v - 1) * a;
  } else if (name.endsWith('bn.weight')) f = (v) => 0.8 + 0.4 * v;
  else if (name.endsWith('bn.bias') || name.endsWith('bn.running_mean')) f = (v) => 0.2 * (2 * v - 1);
  else if (name.endsWith('bn.running_var')) f = (v) => 0.5 + v;
  else if (name === 'fc.bias') f = (v) => 0.1 * (2 * v - 1);
  else throw new Error(`no synthetic recipe for ${name}`);
  for (let i = 0; i < n; i++) out[i] = f(u[i]);
  return out;
}

/** The whole state dict with the published file's names and shapes, filled by the recipe. */
export function syntheticStateDict(): StateDict {
  return new Map(
    stateDictSpec().map((e) => [e.name, { shape: e.shape, data: syntheticTensor(e.name, e.shape) }]),
  );
}

/** 8-bit pixel values (as floats) of an h×w×c image, flat index over H, W, C. */
export function syntheticPixels(seedText: string, h: number, w: number, c: number): Float32Array {
  const u = uniform(seedText, h * w * c);
  return Float32Array.from(u, (v) => Math.floor(v * 256));
}
