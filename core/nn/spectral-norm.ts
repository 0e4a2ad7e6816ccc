// Spectral normalisation (Miyato et al.): W / σ(W), σ estimated by power iteration with persistent
// u and v vectors, as torch.nn.utils.spectral_norm does (u, v are constants for the gradient).
import * as tf from '@tensorflow/tfjs';
import { matMul2d } from './native-ops';
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

// x / (‖x‖ + 1e-12), the norm as √Σx²: tf.norm goes through Abs and two Pows (with four casts
// each on tfjs-node), ~4× the dispatch of these three ops.
function normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.add(tf.sqrt(tf.sum(tf.square(x))), 1e-12)) as tf.Tensor2D;
}

/** The weight as [everything else, out] (no transpose: W = Mᵀ), and u, v as columns. */
function operands(p: ParamStore, name: string) {
  const w = p.get(`${name}.w`);
  const out = w.shape[w.shape.length - 1];
  return {
    m: tf.reshape(w, [-1, out]) as tf.Tensor2D,
    u: tf.reshape(p.get(`${name}.sn_u`), [-1, 1]) as tf.Tensor2D,
    v: tf.reshape(p.get(`${name}.sn_v`), [-1, 1]) as tf.Tensor2D,
  };
}

/**
 * Where the power iteration and σ run: on the host (JS, float64 accumulation) or as tensor ops.
 * Host is the default for CPU backends: per layer and D step the tensor form is ~80 small ops
 * (reshapes, two mat-vec products, normalisations, σ and its gradient), which on tfjs-node cost more
 * than the convolutions at demo size (measured: a demo D step went from 1,311 to 487 kernels), while on the host they are a few µs of arithmetic over
 * weights the CPU already holds. GPU workers use the tensor form (reading weights back each step
 * would stall the device). Both agree with torch.nn.utils.spectral_norm to float32 rounding.
 */
let onHost = true;

export function setSpectralNormOnHost(enabled: boolean): void {
  onHost = enabled;
}

/** Whether σ is kept on the host (CPU backends): what `sigmaState` and `scaleRowsBySigma` need. */
export function spectralNormOnHost(): boolean {
  return onHost;
}

/** σ and the vectors it was computed with, as they stand now (host form only). */
export interface SigmaState {
  sigma: number;
  u: Float32Array;
  v: Float32Array;
}

/** The layer's σ, u and v now: a snapshot a later power iteration does not change. */
export function sigmaState(p: ParamStore, name: string): SigmaState {
  if (!onHost) throw new Error('sigmaState: spectral norm runs as tensor ops on this backend');
  return hostState(p, name);
}

/**
 * y · (1/σ_g) for each group g of rows (leading-axis entries), where y = op(x, W) is linear in the
 * raw weight W and σ_g = u_gᵀ W v_g was taken with group g's vectors: the same values as op(x, W/σ_g)
 * per group, from one op over all groups. This is how one discriminator pass serves the real and
 * the fake batch although torch's spectral norm gives them different σ (a power iteration between
 * its two forward passes). The gradient is the one of W/σ_g: dy = dz/σ_g, and through σ_g,
 * dW += −⟨dz_g, y_g⟩/σ_g² · u_g v_gᵀ (u, v constant, as in torch).
 */
export function scaleRowsBySigma(
  y: tf.Tensor,
  w: tf.Tensor,
  groups: Array<{ rows: number; state: SigmaState }>,
): tf.Tensor {
  const n = y.shape[0];
  if (groups.reduce((a, g) => a + g.rows, 0) !== n)
    throw new Error(`scaleRowsBySigma: groups cover ${groups.map((g) => g.rows).join('+')} rows of ${n}`);
  const per = new Float32Array(n);
  let at = 0;
  for (const g of groups) per.fill(1 / g.state.sigma, at, (at += g.rows));
  const f = tf.customGrad((yIn, wIn, save) => {
    const scale = tf.tensor(per, [n, ...y.shape.slice(1).map(() => 1)]);
    (save as tf.GradSaveFunc)([yIn as tf.Tensor, scale]);
    return {
      value: tf.mul(yIn as tf.Tensor, scale),
      gradFunc: (dz, saved) => {
        const g = Array.isArray(dz) ? dz[0] : dz;
        const [ySaved, scaleSaved] = saved;
        const rowDots = tf.tidy(() =>
          tf.sum(
            tf.mul(g, ySaved),
            y.shape.slice(1).map((_, i) => i + 1),
          ),
        );
        if (!readsInGradients)
          return [tf.mul(g, scaleSaved), sigmaGradOnDevice(rowDots, wIn as tf.Tensor, groups)];
        // ⟨dz, y⟩ per row on the host, then per group: a few numbers, not a tensor op per group.
        const dots = rowDots.dataSync();
        rowDots.dispose();
        const wShape = (wIn as tf.Tensor).shape;
        const dW = new Float32Array((wIn as tf.Tensor).size);
        let row = 0;
        for (const grp of groups) {
          let dot = 0;
          for (let i = 0; i < grp.rows; i++) dot += dots[row + i];
          row += grp.rows;
          const c = -dot / (grp.state.sigma * grp.state.sigma);
          const { u, v } = grp.state;
          for (let r = 0; r < v.length; r++) {
            const cv = c * v[r];
            for (let o = 0; o < u.length; o++) dW[r * u.length + o] += cv * u[o];
          }
        }
        return [tf.mul(g, scaleSaved), tf.tensor(dW, wShape)];
      },
    };
  });
  return f(y, w);
}

/**
 * Whether gradients may read tensors back to the host mid-backward. Off when TensorFlow runs ops on
 * its own executor thread (AUTOGAN_TFE_ASYNC): a read there waits for every queued kernel, so the
 * backward pass's per-layer σ terms are computed as tensor ops instead.
 */
let readsInGradients = true;

export function setHostReadsInGradients(on: boolean): void {
  readsInGradients = on;
}

/**
 * dW through σ for the row groups, as tensor ops: Σ_g −⟨dz_g, y_g⟩/σ_g² · v_g u_gᵀ in W's layout,
 * from the per-row dots. The group sums and their factors are one mat-vec product with a constant
 * [rows, groups] matrix; the outer products one product of [rest, groups] and [groups, out].
 */
function sigmaGradOnDevice(
  rowDots: tf.Tensor,
  w: tf.Tensor,
  groups: Array<{ rows: number; state: SigmaState }>,
): tf.Tensor {
  const n = rowDots.size;
  const k = groups.length;
  const rest = groups[0].state.v.length;
  const out = groups[0].state.u.length;
  const factors = new Float32Array(n * k);
  const vt = new Float32Array(rest * k);
  const us = new Float32Array(k * out);
  let row = 0;
  groups.forEach((grp, gi) => {
    const c = -1 / (grp.state.sigma * grp.state.sigma);
    for (let i = 0; i < grp.rows; i++) factors[(row + i) * k + gi] = c;
    row += grp.rows;
    for (let r = 0; r < rest; r++) vt[r * k + gi] = grp.state.v[r];
    us.set(grp.state.u, gi * out);
  });
  const coef = matMul2d(tf.reshape(rowDots, [1, n]) as tf.Tensor2D, tf.tensor2d(factors, [n, k])); // [1, k]
  const weighted = tf.mul(tf.tensor2d(vt, [rest, k]), coef) as tf.Tensor2D; // v_g · c_g as columns
  return tf.reshape(matMul2d(weighted, tf.tensor2d(us, [k, out])), w.shape);
}

/** One power iteration per call, updating the stored u and v (outside any gradient tape). */
export function powerIterate(p: ParamStore, name: string, iterations = 1): void {
  if (onHost) return powerIterateOnHost(p, name, iterations);
  tf.tidy(() => {
    const { m, u: u0, v: v0 } = operands(p, name);
    let u = u0;
    let v = v0;
    for (let i = 0; i < iterations; i++) {
      v = normalize(matMul2d(m, u)); // Wᵀu
      u = normalize(matMul2d(m, v, true)); // W v
    }
    p.get(`${name}.sn_u`).assign(tf.reshape(u, [-1]));
    p.get(`${name}.sn_v`).assign(tf.reshape(v, [-1]));
  });
}

/** σ = u · (W v) with the current vectors (torch's order); differentiable in W. */
export function sigma(p: ParamStore, name: string): tf.Scalar {
  const { m, u, v } = operands(p, name);
  return tf.reshape(matMul2d(u, matMul2d(m, v, true), true), []) as tf.Scalar;
}

/** W / σ(W), differentiable in W (u and v are constants, as in torch). */
export function normalizedWeight(p: ParamStore, name: string): tf.Tensor {
  if (!onHost) return tf.div(p.get(`${name}.w`), sigma(p, name));
  const st = hostState(p, name);
  // d(W/σ)/dW applied to G: G/σ − ⟨G, W⟩/σ² · u vᵀ, since ∂σ/∂W = u vᵀ (in W's layout: v[r]·u[o]).
  const f = tf.customGrad((w, save) => {
    (save as tf.GradSaveFunc)([w as tf.Tensor]);
    return {
      value: tf.div(w as tf.Tensor, st.sigma),
      gradFunc: (dy, saved) => {
        const g = Array.isArray(dy) ? dy[0] : dy;
        const c = tf.div(tf.sum(tf.mul(g, saved[0])), st.sigma * st.sigma);
        const outer = tf.tensor(outerProduct(st.v, st.u), saved[0].shape);
        return tf.sub(tf.div(g, st.sigma), tf.mul(outer, c));
      },
    };
  });
  return f(p.get(`${name}.w`));
}

// ---- host form ---------------------------------------------------------------------------------

interface HostState {
  /** The tensors whose values this state was computed from (a Variable's dataId changes on assign). */
  w: object;
  u: object;
  v: object;
  sigma: number;
  uData: Float32Array;
  vData: Float32Array;
}

const hostStates = new WeakMap<ParamStore, Map<string, HostState>>();

function dataIdOf(t: tf.Tensor): object {
  return t.dataId as object;
}

/** x / (‖x‖ + 1e-12) in float64, stored as float32 (torch keeps u, v in float32). */
function normalizeHost(x: Float64Array): Float32Array {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  const d = Math.sqrt(s) + 1e-12;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] / d;
  return out;
}

/** The weight is [..., out] row-major: element (r, o) of M = reshape(w, [rest, out]) is m[r·out + o]. */
function sigmaHost(m: Float32Array | Int32Array | Uint8Array, u: Float32Array, v: Float32Array): number {
  const out = u.length;
  const rest = v.length;
  let s = 0;
  for (let o = 0; o < out; o++) {
    let wv = 0; // (W v)[o] = Σ_r M[r, o] v[r]
    for (let r = 0; r < rest; r++) wv += m[r * out + o] * v[r];
    s += u[o] * wv;
  }
  return s;
}

function outerProduct(v: Float32Array, u: Float32Array): Float32Array {
  const out = new Float32Array(v.length * u.length);
  for (let r = 0; r < v.length; r++) for (let o = 0; o < u.length; o++) out[r * u.length + o] = v[r] * u[o];
  return out;
}

function powerIterateOnHost(p: ParamStore, name: string, iterations: number): void {
  const w = p.get(`${name}.w`);
  const uVar = p.get(`${name}.sn_u`);
  const vVar = p.get(`${name}.sn_v`);
  const m = w.dataSync() as Float32Array;
  let u = uVar.dataSync() as Float32Array;
  let v = vVar.dataSync() as Float32Array;
  const out = u.length;
  const rest = v.length;
  for (let i = 0; i < iterations; i++) {
    const wtu = new Float64Array(rest); // Wᵀu: (M u)[r]
    for (let r = 0; r < rest; r++) {
      let acc = 0;
      for (let o = 0; o < out; o++) acc += m[r * out + o] * u[o];
      wtu[r] = acc;
    }
    v = normalizeHost(wtu);
    const wv = new Float64Array(out); // W v: (Mᵀ v)[o]
    for (let r = 0; r < rest; r++) {
      const vr = v[r];
      for (let o = 0; o < out; o++) wv[o] += m[r * out + o] * vr;
    }
    u = normalizeHost(wv);
  }
  tf.tidy(() => {
    uVar.assign(tf.tensor1d(u));
    vVar.assign(tf.tensor1d(v));
  });
  remember(p, name, w, uVar, vVar, sigmaHost(m, u, v), u, v);
}

function remember(
  p: ParamStore,
  name: string,
  w: tf.Tensor,
  uVar: tf.Tensor,
  vVar: tf.Tensor,
  sigma: number,
  uData: Float32Array,
  vData: Float32Array,
): HostState {
  const st = { w: dataIdOf(w), u: dataIdOf(uVar), v: dataIdOf(vVar), sigma, uData, vData };
  let states = hostStates.get(p);
  if (!states) hostStates.set(p, (states = new Map()));
  states.set(name, st);
  return st;
}

/** σ, u and v for the weight and vectors the store holds now (recomputed when any changed). */
function hostState(p: ParamStore, name: string): { sigma: number; u: Float32Array; v: Float32Array } {
  const w = p.get(`${name}.w`);
  const uVar = p.get(`${name}.sn_u`);
  const vVar = p.get(`${name}.sn_v`);
  let st = hostStates.get(p)?.get(name);
  if (!st || st.w !== dataIdOf(w) || st.u !== dataIdOf(uVar) || st.v !== dataIdOf(vVar)) {
    const u = uVar.dataSync() as Float32Array;
    const v = vVar.dataSync() as Float32Array;
    st = remember(p, name, w, uVar, vVar, sigmaHost(w.dataSync() as Float32Array, u, v), u, v);
  }
  return { sigma: st.sigma, u: st.uData, v: st.vData };
}
