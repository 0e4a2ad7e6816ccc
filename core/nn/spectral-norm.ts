// Spectral normalisation (Miyato et al.): W / σ(W), σ estimated by power iteration with persistent
// u and v vectors, as torch.nn.utils.spectral_norm does (u, v are constants for the gradient).
import * as tf from '@tensorflow/tfjs';
import type { ParamSpec, ParamStore } from './params';

/** The weight as the matrix whose largest singular value is normalised: [out, everything else]. */
export function weightMatrix(w: tf.Tensor): tf.Tensor2D {
  const out = w.shape[w.shape.length - 1];
  return tf.transpose(tf.reshape(w, [-1, out])) as tf.Tensor2D;
}

export function spectralNormSpecs(name: string, weightShape: number[]): ParamSpec[] {
  const out = weightShape[weightShape.length - 1];
  const rest = weightShape.slice(0, -1).reduce((a, b) => a * b, 1);
  return [
    { name: `${name}.sn_u`, shape: [out], init: { kind: 'normal', mean: 0, std: 1 }, trainable: false },
    { name: `${name}.sn_v`, shape: [rest], init: { kind: 'normal', mean: 0, std: 1 }, trainable: false },
  ];
}

function normalize(x: tf.Tensor1D): tf.Tensor1D {
  return tf.div(x, tf.add(tf.norm(x), 1e-12)) as tf.Tensor1D;
}

/** One power iteration per call, updating the stored u and v (outside any gradient tape). */
export function powerIterate(p: ParamStore, name: string, iterations = 1): void {
  tf.tidy(() => {
    const m = weightMatrix(p.get(`${name}.w`));
    let u = p.get(`${name}.sn_u`) as tf.Tensor1D;
    let v = p.get(`${name}.sn_v`) as tf.Tensor1D;
    for (let i = 0; i < iterations; i++) {
      v = normalize(tf.squeeze(tf.matMul(m, tf.reshape(u, [-1, 1]), true, false), [1]) as tf.Tensor1D);
      u = normalize(tf.squeeze(tf.matMul(m, tf.reshape(v, [-1, 1])), [1]) as tf.Tensor1D);
    }
    p.get(`${name}.sn_u`).assign(u);
    p.get(`${name}.sn_v`).assign(v);
  });
}

/** σ = uᵀ W v with the current vectors; differentiable in W. */
export function sigma(p: ParamStore, name: string): tf.Scalar {
  const m = weightMatrix(p.get(`${name}.w`));
  const u = tf.reshape(p.get(`${name}.sn_u`), [1, -1]);
  const v = tf.reshape(p.get(`${name}.sn_v`), [-1, 1]);
  return tf.reshape(tf.matMul(tf.matMul(u, m), v), []) as tf.Scalar;
}

export function normalizedWeight(p: ParamStore, name: string): tf.Tensor {
  return tf.div(p.get(`${name}.w`), sigma(p, name));
}
