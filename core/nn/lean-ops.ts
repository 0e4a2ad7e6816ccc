// Ops whose gradient needs only shapes, written so the backward pass keeps no tensor alive for them.
//
// Why: tfjs saves a kernel's inputs for its gradient even where the gradient reads only their shape
// (Add saves both summands, AvgPool its input). Each saved tensor keeps a forward activation in
// memory until the backward pass reaches it. Here the gradient closes over the shapes and the tape
// saves nothing. Values and gradients are bit-identical to the ops they replace.
import * as tf from '@tensorflow/tfjs';

const addSame = tf.customGrad((a, b) => ({
  value: tf.add(a as tf.Tensor, b as tf.Tensor),
  // Clones share the data: one gradient tensor per input, as the engine expects.
  gradFunc: (dy) => {
    const g = Array.isArray(dy) ? dy[0] : dy;
    return [tf.clone(g), tf.clone(g)];
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
