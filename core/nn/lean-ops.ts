// Ops whose gradient needs only shapes, written so the backward pass keeps no tensor alive for them.
//
// Why: tfjs saves a kernel's inputs for its gradient even where the gradient reads only their shape
// (Add saves both summands, AvgPool its input). Each saved tensor keeps a forward activation in
// memory until the backward pass reaches it. Here the gradient closes over the shapes and the tape
// saves nothing. Values and gradients are bit-identical to the ops they replace.
import * as tf from '@tensorflow/tfjs';

/**
 * A second tensor on t's data, as tf.clone gives, without running a kernel: tf.clone dispatches an
 * Identity op, ~10–20 µs each on tfjs-node, and a training step made ~200 of them (mostly the
 * engine's copies of tensors saved for gradients, see installLeanSaves). The engine counts
 * references per data buffer, so disposing one handle leaves the other valid, exactly as with clones.
 */
export function alias<T extends tf.Tensor>(t: T): T {
  const e = tf.engine();
  // makeTensorFromDataId counts the new handle in the engine; the backend's reference count on the
  // buffer is raised separately (what an Identity kernel does on the CPU backend).
  const out = e.makeTensorFromDataId(t.dataId, t.shape, t.dtype) as T;
  (e.backend as unknown as { incRef(id: tf.DataId): void }).incRef(t.dataId);
  return out;
}

/**
 * Makes the engine save tensors for gradients as aliases instead of Identity-kernel clones (its
 * saveTensorsForBackwardMode keeps `clone(t)` of each, which also records an Identity node on the
 * tape). Same tensors, same gradients; only the dispatch goes. Installed for the native backend.
 */
export function installLeanSaves(when: () => boolean): void {
  const e = tf.engine() as unknown as {
    saveTensorsForBackwardMode(tensors: tf.Tensor[]): tf.Tensor[];
    keep<T extends tf.Tensor>(t: T): T;
  };
  const original = e.saveTensorsForBackwardMode.bind(e);
  e.saveTensorsForBackwardMode = (tensors) =>
    when() ? tensors.map((t) => e.keep(alias(t))) : original(tensors);
}

const addSame = tf.customGrad((a, b) => ({
  value: tf.add(a as tf.Tensor, b as tf.Tensor),
  // Aliases share the data: one gradient tensor per input, as the engine expects.
  gradFunc: (dy) => {
    const g = Array.isArray(dy) ? dy[0] : dy;
    return [alias(g), alias(g)];
  },
}));

/** a + b for two tensors of the same shape (residual and skip sums); a plain tf.add otherwise. */
export function addActivations<T extends tf.Tensor>(a: T, b: T): T {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return tf.add(a, b) as T;
  return addSame(a, b) as T;
}

const pool2 = tf.customGrad((x) => {
  const [, h, w] = (x as tf.Tensor4D).shape;
  return {
    value: tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'),
    // Each input pixel receives a quarter of its window's gradient (0.25 is exact in float32, so
    // this equals AvgPoolGrad bit for bit).
    gradFunc: (dy) => {
      const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor4D;
      return tf.mul(tf.image.resizeNearestNeighbor(g, [h, w]), 0.25);
    },
  };
});

/** 2×2 average pooling, stride 2 (even sizes; odd ones take tf.avgPool, which saves its input). */
export function avgPool2Lean(x: tf.Tensor4D): tf.Tensor4D {
  if (x.shape[1] % 2 !== 0 || x.shape[2] % 2 !== 0) return tf.avgPool(x, 2, 2, 'valid');
  return pool2(x) as tf.Tensor4D;
}
