// Fixtures of the FID Inception tests (test/fixtures/fid-inception/, written by
// tools/reference-fixtures/make_fid_inception_fixtures.py) and a float32 comparison.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { syntheticPixels } from '../../core/metrics/fid-inception';
import { readNpz } from '../../core/metrics/npz';
import { projectRoot } from '../../core/paths';

const FIXTURES = path.join(projectRoot(), 'test', 'fixtures', 'fid-inception');

export interface Reference {
  parameterCount: number;
  stateDictFloats: number;
  stateDict: Array<[string, number[]]>;
  images: { count: number; size: number; seeds: string[] };
  e2e: { seed: string; size: number };
  blocks: Array<{ name: string; shape: number[]; mean: number; absMean: number }>;
  resize: Array<{ name: string; in: number[]; out: number[] }>;
}

export const reference = (): Reference =>
  JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reference.json'), 'utf8'));
export const outputs = () => readNpz(path.join(FIXTURES, 'outputs.npz'));

/**
 * Float32 agreement: |a − b| ≤ rtol·|b| + atol·max|b| for every element. The absolute part, scaled
 * to the vector, keeps near-zero entries (where any rounding is a large relative error) fair.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
  rtol = 1e-4,
  atol = 1e-5,
): { maxAbs: number; maxRel: number } {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let maxAbs = 0;
  let maxRel = 0;
  let worst = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    maxAbs = Math.max(maxAbs, d);
    if (Math.abs(expected[i]) > 1e-3 * scale) maxRel = Math.max(maxRel, d / Math.abs(expected[i]));
    if (d > rtol * Math.abs(expected[i]) + atol * scale && worst < 0) worst = i;
  }
  assert.ok(
    worst < 0,
    `${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (max abs diff ${maxAbs}, scale ${scale})`,
  );
  return { maxAbs, maxRel };
}

/** The fixture's network images: uint8 noise at 299×299, scaled (x − 128)/128. */
export function networkImages(ref: Reference): tf.Tensor4D {
  const s = ref.images.size;
  const px = new Float32Array(ref.images.count * s * s * 3);
  ref.images.seeds.forEach((seed, i) => px.set(syntheticPixels(seed, s, s, 3), i * s * s * 3));
  return tf.tidy(() => tf.div(tf.sub(tf.tensor4d(px, [ref.images.count, s, s, 3]), 128), 128) as tf.Tensor4D);
}
