import { strict as assert } from 'node:assert';

/** ‖ours − ref‖₂ / ‖ref‖₂ (the fidelity fixtures' measure of agreement). */
export function relErr(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(ours.length, ref.length, 'sizes differ');
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (ours[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
