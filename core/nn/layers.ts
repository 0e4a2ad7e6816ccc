// Layer functions over a ParamStore, NHWC. Each has a matching `*Specs` that declares its weights.
import * as tf from '@tensorflow/tfjs';
import { fusedConvBias } from './fused-conv';
import { avgPool2Lean } from './lean-ops';
import {
  biasAdd,
  fusedBatchNormTrain,
  matMul2d,
  nativeOpsActive,
  resizeBilinearHalfPixel,
} from './native-ops';
import type { ParamSpec, ParamStore } from './params';

export interface ForwardContext {
  training: boolean;
  /** Batch-norm running-stat updates collected during a training forward pass, applied after it. */
  updates: Array<{ variable: tf.Variable; value: tf.Tensor }>;
}

export function trainingContext(): ForwardContext {
  return { training: true, updates: [] };
}

export function evalContext(): ForwardContext {
  return { training: false, updates: [] };
}

/** Applies and frees the collected running-stat updates. */
export function applyUpdates(ctx: ForwardContext): void {
  for (const u of ctx.updates) {
    u.variable.assign(u.value);
    u.value.dispose();
  }
  ctx.updates.length = 0;
}

export function conv2dSpecs(
  name: string,
  k: number,
  cin: number,
  cout: number,
  weightInit: 'xavier' | 'fanIn' = 'xavier',
): ParamSpec[] {
  const fanIn = cin * k * k;
  return [
    {
      name: `${name}.w`,
      shape: [k, k, cin, cout],
      init:
        weightInit === 'xavier' ? { kind: 'xavier', fanIn, fanOut: cout * k * k } : { kind: 'fanIn', fanIn },
      trainable: true,
    },
    { name: `${name}.b`, shape: [cout], init: { kind: 'fanIn', fanIn }, trainable: true },
  ];
}

// The tidy scopes in layers free what the backward pass does not need (the convolution's output
// before its bias, intermediate sums) when the layer returns instead of when the whole forward pass
// does: under a gradient tape, what a gradient needs is kept by the tape's own saved copies.

export function conv2d(p: ParamStore, name: string, x: tf.Tensor4D, weight?: tf.Tensor): tf.Tensor4D {
  const w = (weight ?? p.get(`${name}.w`)) as tf.Tensor4D;
  const b = p.get(`${name}.b`) as tf.Tensor1D;
  return tf.tidy(() => fusedConvBias(x, w, b) ?? biasAdd(tf.conv2d(x, w, 1, 'same'), b));
}

/** Stride-2, kernel-2 transposed convolution (doubles the resolution). Weight [2, 2, cout, cin]. */
export function deconvSpecs(name: string, cin: number, cout: number): ParamSpec[] {
  // PyTorch computes fan-in of a ConvTranspose weight [cin, cout, k, k] from dim 1: cout * k * k.
  const fanIn = cout * 4;
  return [
    { name: `${name}.w`, shape: [2, 2, cout, cin], init: { kind: 'fanIn', fanIn }, trainable: true },
    { name: `${name}.b`, shape: [cout], init: { kind: 'fanIn', fanIn }, trainable: true },
  ];
}

export function deconv2x(p: ParamStore, name: string, x: tf.Tensor4D): tf.Tensor4D {
  const w = p.get(`${name}.w`) as tf.Tensor4D;
  const [n, h, wd] = x.shape;
  return tf.tidy(() =>
    biasAdd(tf.conv2dTranspose(x, w, [n, h * 2, wd * 2, w.shape[2]], 2, 'valid'), p.get(`${name}.b`)),
  );
}

export function linearSpecs(name: string, cin: number, cout: number, bias = true): ParamSpec[] {
  const specs: ParamSpec[] = [
    { name: `${name}.w`, shape: [cin, cout], init: { kind: 'fanIn', fanIn: cin }, trainable: true },
  ];
  if (bias)
    specs.push({ name: `${name}.b`, shape: [cout], init: { kind: 'fanIn', fanIn: cin }, trainable: true });
  return specs;
}

export function linear(p: ParamStore, name: string, x: tf.Tensor2D, weight?: tf.Tensor): tf.Tensor2D {
  const y = matMul2d(x, (weight ?? p.get(`${name}.w`)) as tf.Tensor2D);
  return p.has(`${name}.b`) ? biasAdd(y, p.get(`${name}.b`)) : y;
}

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

export function batchNormSpecs(name: string, c: number): ParamSpec[] {
  return [
    { name: `${name}.gamma`, shape: [c], init: { kind: 'normal', mean: 1, std: 0.02 }, trainable: true },
    { name: `${name}.beta`, shape: [c], init: { kind: 'const', value: 0 }, trainable: true },
    { name: `${name}.mean`, shape: [c], init: { kind: 'const', value: 0 }, trainable: false },
    { name: `${name}.var`, shape: [c], init: { kind: 'const', value: 1 }, trainable: false },
  ];
}

/** Batch norm: batch statistics in training (running stats updated as PyTorch does), running stats in eval. */
export function batchNorm(p: ParamStore, name: string, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
  const gamma = p.get(`${name}.gamma`);
  const beta = p.get(`${name}.beta`);
  if (!ctx.training) {
    return tf.batchNorm(x, p.get(`${name}.mean`), p.get(`${name}.var`), beta, gamma, BN_EPS) as tf.Tensor4D;
  }
  const runMean = p.get(`${name}.mean`);
  const runVar = p.get(`${name}.var`);
  const fused = fusedBatchNormTrain(x, gamma, beta, runMean, runVar, BN_EPS, BN_MOMENTUM);
  if (fused) {
    // The kernel's mean/variance outputs are already the updated running statistics.
    ctx.updates.push(
      { variable: runMean, value: tf.keep(fused.mean) },
      { variable: runVar, value: tf.keep(fused.variance) },
    );
    return fused.y;
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  ctx.updates.push(
    {
      variable: runMean,
      value: tf.keep(tf.tidy(() => runMean.mul(1 - BN_MOMENTUM).add(mean.mul(BN_MOMENTUM)))),
    },
    {
      variable: runVar,
      value: tf.keep(
        tf.tidy(() => runVar.mul(1 - BN_MOMENTUM).add(variance.mul((BN_MOMENTUM * n) / Math.max(1, n - 1)))),
      ),
    },
  );
  return tf.batchNorm(x, mean, variance, beta, gamma, BN_EPS) as tf.Tensor4D;
}

/**
 * Instance norm without affine parameters (PyTorch InstanceNorm2d defaults). On the native backend
 * with its gradient written out (see instanceNormWithGrad); elsewhere via moments and autodiff.
 */
export function instanceNorm(x: tf.Tensor4D): tf.Tensor4D {
  if (nativeOpsActive() && x.dtype === 'float32') return instanceNormWithGrad(x) as tf.Tensor4D;
  const { mean, variance } = tf.moments(x, [1, 2], true);
  return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, BN_EPS))) as tf.Tensor4D;
}

// Why written out: autodiff through moments, the division and the square root is ~30 small ops per
// layer and step; per (sample, channel) over H×W, with y = (x − μ)·r and r = 1/√(σ² + eps),
//   dx = r · (dy − mean(dy) − y · mean(dy · y)),
// 7 ops each way. Saves y and r only (the moments form keeps x, the centred x and more).
const instanceNormWithGrad = tf.customGrad((x, save) => {
  const input = x as tf.Tensor4D;
  const mean = tf.mean(input, [1, 2], true);
  const centred = tf.sub(input, mean);
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), [1, 2], true), BN_EPS));
  const y = tf.mul(centred, rstd);
  (save as tf.GradSaveFunc)([y, rstd]);
  return {
    value: y,
    gradFunc: (dy, saved) => {
      const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor4D;
      const [ys, r] = saved;
      const dyMean = tf.mean(g, [1, 2], true);
      const dyYMean = tf.mean(tf.mul(g, ys), [1, 2], true);
      return tf.mul(tf.sub(tf.sub(g, dyMean), tf.mul(ys, dyYMean)), r);
    },
  };
});

/**
 * Bilinear upsampling by an integer factor with PyTorch's align_corners=False geometry (half-pixel
 * centres, edge clamping), written with slices so its gradient is exact on every backend.
 */
export function upsampleBilinear(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  const native = resizeBilinearHalfPixel(x, [x.shape[1] * factor, x.shape[2] * factor]);
  if (native) return native;
  return resizeAxis(resizeAxis(x, 1, factor), 2, factor);
}

function resizeAxis(x: tf.Tensor4D, axis: 1 | 2, f: number): tf.Tensor4D {
  const len = x.shape[axis];
  const prev = len > 1 ? tf.concat([sliceAxis(x, axis, 0, 1), sliceAxis(x, axis, 0, len - 1)], axis) : x;
  const next =
    len > 1 ? tf.concat([sliceAxis(x, axis, 1, len - 1), sliceAxis(x, axis, len - 1, 1)], axis) : x;
  const phases: tf.Tensor[] = [];
  for (let r = 0; r < f; r++) {
    const d = (2 * r + 1 - f) / (2 * f);
    phases.push(
      d < 0 ? tf.add(tf.mul(x, 1 + d), tf.mul(prev, -d)) : tf.add(tf.mul(x, 1 - d), tf.mul(next, d)),
    );
  }
  const stacked = tf.stack(phases, axis + 1); // [n, h, f, w, c] or [n, h, w, f, c]
  const shape = [...x.shape] as [number, number, number, number];
  shape[axis] = len * f;
  return tf.reshape(stacked, shape);
}

function sliceAxis(x: tf.Tensor4D, axis: 1 | 2, begin: number, size: number): tf.Tensor4D {
  const b = [0, 0, 0, 0];
  const s = [-1, -1, -1, -1];
  b[axis] = begin;
  s[axis] = size;
  return tf.slice(x, b, s);
}

/**
 * Nearest-neighbour upsampling by an integer factor (PyTorch 'nearest': source index floor(i/f)),
 * TensorFlow's ResizeNearestNeighbor without corner alignment or half-pixel centres, which is that
 * same rule. Its gradient saves only the small input; the former stack-and-reshape form saved the
 * stacked copies (up to 2× the output) until the backward pass.
 */
export function upsampleNearest(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  return tf.image.resizeNearestNeighbor(x, [x.shape[1] * factor, x.shape[2] * factor], false, false);
}

export function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  return avgPool2Lean(x);
}
