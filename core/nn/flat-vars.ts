// Many parameter tensors handled as one vector: flatten, split back, and a kept flat copy.
//
// Why: on tfjs-node every op costs a dispatch (~20–40 µs) whatever its size, so an update written
// per parameter tensor (Adam, the generator's EMA) costs ops × tensors. Written on one vector it
// costs a few ops, plus one Reshape per non-vector tensor to go back. Flattening the weights again
// every step would cost those Reshapes again: a FlatCopy keeps the vector last written and uses it
// while every variable still holds exactly that data. Any other write (a restore, a reset, a copy)
// gives a variable a new data buffer (tfjs variables are reassigned, never mutated in place), so the
// check is exact.
import * as tf from '@tensorflow/tfjs';

/** The tensors as one vector, in order (a new tensor). */
export function flatten(ts: readonly tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => {
    const rows = ts.map((t) => (t.rank === 1 ? t : tf.reshape(t, [-1])));
    return (rows.length === 1 ? tf.clone(rows[0]) : tf.concat(rows)) as tf.Tensor1D;
  });
}

/** `flat` split into the given shapes (new tensors; a vector part is not reshaped). */
export function unflatten(flat: tf.Tensor1D, shapes: readonly number[][]): tf.Tensor[] {
  return tf.tidy(() => {
    const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
    const parts = shapes.length === 1 ? [tf.clone(flat)] : tf.split(flat, sizes);
    return parts.map((t, i) => (shapes[i].length === 1 ? t : tf.reshape(t, shapes[i])));
  });
}

/** A flat copy of an ordered list of variables, valid while each still holds the data it was given. */
export class FlatCopy {
  private kept?: { flat: tf.Tensor1D; ids: tf.DataId[] };

  /** The kept vector if `vars` are exactly the variables it was written to, in order; else undefined. */
  peek(vars: readonly tf.Variable[]): tf.Tensor1D | undefined {
    const k = this.kept;
    if (!k || k.ids.length !== vars.length) return undefined;
    return vars.every((v, i) => v.dataId === k.ids[i]) ? k.flat : undefined;
  }

  /** The variables as one vector: the kept one when valid (owned here), else a new concatenation (tracked by the caller's scope). */
  of(vars: readonly tf.Variable[]): tf.Tensor1D {
    return this.peek(vars) ?? flatten(vars);
  }

  /** Writes `flat` into the variables (split and reshaped) and keeps it as their copy; takes ownership of `flat`. */
  assign(vars: readonly tf.Variable[], flat: tf.Tensor1D): void {
    const parts = unflatten(
      flat,
      vars.map((v) => v.shape),
    );
    vars.forEach((v, i) => v.assign(parts[i]));
    tf.dispose(parts);
    this.drop();
    this.kept = { flat: tf.keep(flat), ids: vars.map((v) => v.dataId) };
  }

  drop(): void {
    this.kept?.flat.dispose();
    this.kept = undefined;
  }
}
