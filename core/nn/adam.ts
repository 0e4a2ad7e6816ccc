// Adam over all of a network's parameters at once. A parameter that has never had a gradient has
// no state and is left alone. One that had a gradient before but is off this step's sampled path
// is, by default, stepped with a zero gradient: PyTorch 1.1's zero_grad() (the reference's version)
// zeroes existing gradients instead of dropping them, so its Adam keeps moving such parameters by
// momentum and decays their moments. 'skip' freezes them instead (PyTorch ≥ 2's set_to_none).
//
// Why flat: on the native backend every tensor op costs ~40 µs of dispatch whatever its size, and a
// per-parameter Adam is ~18 of them per tensor (12 ops and 6 scalar uploads): about 40% of a
// demo-size training step for the supernet's ~110 tensors. Here the moments live in one flat
// vector per optimizer, the gradients are concatenated once, the update is ~12 ops on the flat
// vectors and the new weights are split back; the weights' vector is kept for the next step
// (flat-vars.ts): ~2 ops per non-vector parameter tensor, none per vector. Every element sees
// the same float32 operations in the same order as before (PyTorch's arithmetic, eps outside the
// bias correction, the per-parameter step size computed in double and rounded once), so results are
// bit-identical to the per-tensor form.
import * as tf from '@tensorflow/tfjs';
import { FlatCopy, flatten } from './flat-vars';

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /**
   * Parameters with optimizer state but no gradient this step: 'zero-grad' steps them with a zero
   * gradient (the reference), 'skip' leaves them and their moments alone.
   * @default 'zero-grad'
   */
  offPath?: 'zero-grad' | 'skip';
}

interface Entry {
  name: string;
  shape: number[];
  size: number;
  offset: number;
  step: number;
}

export class Adam {
  private entries: Entry[] = [];
  private index = new Map<string, Entry>();
  private total = 0;
  /** First and second moments of every parameter with state, concatenated in `entries` order. */
  private m?: tf.Variable;
  private v?: tf.Variable;
  /** Kept constants: the betas, their complements, eps, and zero gradients by size. */
  private consts?: { b1: tf.Scalar; c1: tf.Scalar; b2: tf.Scalar; c2: tf.Scalar; eps: tf.Scalar };
  private zeros = new Map<number, tf.Tensor1D>();
  /** The weights as the last step wrote them, as one vector (core/nn/flat-vars.ts). */
  private params = new FlatCopy();

  constructor(public config: AdamConfig) {}

  /** Names of the parameters with optimizer state, in state order. */
  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /** Adam steps taken by a parameter (0 when it has no state). */
  stepOf(name: string): number {
    return this.index.get(name)?.step ?? 0;
  }

  /** Applies gradients keyed by parameter name. `lr` overrides the configured rate (decay). */
  apply(params: (name: string) => tf.Variable, grads: Record<string, tf.Tensor>, lr = this.config.lr): void {
    const fresh = Object.keys(grads).filter((n) => !this.index.has(n));
    if (fresh.length) this.grow(fresh.map((n) => [n, params(n).shape]));
    if (!this.entries.length) return;
    const skip = (this.config.offPath ?? 'zero-grad') === 'skip';
    const { beta1, beta2 } = this.config;
    const stepSizes = new Float32Array(this.total);
    const onPath = skip ? new Uint8Array(this.total) : undefined;
    for (const e of this.entries) {
      const has = e.name in grads;
      if (skip && !has) continue; // stepSize 0 keeps the weight; the mask keeps the moments
      e.step++;
      // PyTorch's arithmetic: p -= lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + eps).
      stepSizes.fill(
        (lr * Math.sqrt(1 - beta2 ** e.step)) / (1 - beta1 ** e.step),
        e.offset,
        e.offset + e.size,
      );
      onPath?.fill(1, e.offset, e.offset + e.size);
    }
    const c = this.constants();
    const m0 = this.m!;
    const v0 = this.v!;
    const updated = tf.tidy(() => {
      const g = flatten(this.entries.map((e) => (e.name in grads ? grads[e.name] : this.zerosOf(e.size))));
      // The weights as this optimizer wrote them last step (kept), unless something else wrote since.
      const p = this.params.of(this.entries.map((e) => params(e.name)));
      // β1 = 0 (the reference's GAN optimizers) makes PyTorch's m = 0·m + 1·g exactly g.
      let m = beta1 === 0 ? g : tf.add(tf.mul(m0, c.b1), tf.mul(g, c.c1));
      let v = tf.add(tf.mul(v0, c.b2), tf.mul(tf.square(g), c.c2));
      const step = tf.tensor1d(stepSizes);
      const next = tf.sub(p, tf.mul(tf.div(m, tf.add(tf.sqrt(v), c.eps)), step));
      if (onPath) {
        const mask = tf.tensor1d(onPath, 'bool');
        m = tf.where(mask, m, m0);
        v = tf.where(mask, v, v0);
      }
      return { m, v, next: next as tf.Tensor1D };
    });
    m0.assign(updated.m);
    v0.assign(updated.v);
    tf.dispose([updated.m, updated.v]);
    this.params.assign(
      this.entries.map((e) => params(e.name)),
      updated.next,
    );
  }

  /**
   * The weights as this optimizer last wrote them, as one vector in `names` order, if `names` is its
   * parameters in its own order and none has been written since; else undefined. Owned here.
   */
  lastWritten(names: readonly string[], params: (name: string) => tf.Variable): tf.Tensor1D | undefined {
    if (names.length !== this.entries.length || names.some((n, i) => n !== this.entries[i].name))
      return undefined;
    return this.params.peek(names.map(params));
  }

  /** Tensors for a checkpoint: `<prefix>.<param>.m|v` (new tensors: the caller disposes them), and steps. */
  state(prefix: string): { tensors: Record<string, tf.Tensor>; steps: Record<string, number> } {
    const tensors: Record<string, tf.Tensor> = {};
    const steps: Record<string, number> = {};
    for (const e of this.entries) {
      tensors[`${prefix}.${e.name}.m`] = this.slice(this.m!, e);
      tensors[`${prefix}.${e.name}.v`] = this.slice(this.v!, e);
      steps[e.name] = e.step;
    }
    return { tensors, steps };
  }

  /** One parameter's moments as new tensors (tests, inspection). */
  moments(name: string): { m: tf.Tensor; v: tf.Tensor } | undefined {
    const e = this.index.get(name);
    return e && { m: this.slice(this.m!, e), v: this.slice(this.v!, e) };
  }

  restore(prefix: string, tensors: Map<string, tf.Tensor>, steps: Record<string, number>): void {
    this.dispose();
    const ms: tf.Tensor[] = [];
    const vs: tf.Tensor[] = [];
    for (const [name, step] of Object.entries(steps)) {
      const m = tensors.get(`${prefix}.${name}.m`);
      const v = tensors.get(`${prefix}.${name}.v`);
      if (!m || !v) throw new Error(`optimizer state for ${name} is missing its moments`);
      this.addEntry(name, m.shape, step);
      ms.push(m);
      vs.push(v);
    }
    if (!this.entries.length) return;
    const fm = flatten(ms);
    const fv = flatten(vs);
    this.m = tf.variable(fm, false);
    this.v = tf.variable(fv, false);
    tf.dispose([fm, fv]);
  }

  dispose(): void {
    this.params.drop();
    this.m?.dispose();
    this.v?.dispose();
    this.m = this.v = undefined;
    if (this.consts) tf.dispose(Object.values(this.consts));
    this.consts = undefined;
    for (const z of this.zeros.values()) z.dispose();
    this.zeros.clear();
    this.entries = [];
    this.index.clear();
    this.total = 0;
  }

  private addEntry(name: string, shape: number[], step: number): Entry {
    const size = shape.reduce((a, b) => a * b, 1);
    const e: Entry = { name, shape: [...shape], size, offset: this.total, step };
    this.entries.push(e);
    this.index.set(name, e);
    this.total += size;
    return e;
  }

  /** Appends zero moments for parameters getting their first gradient. */
  private grow(added: Array<[string, number[]]>): void {
    const before = this.total;
    this.params.drop(); // its layout has no place for the new parameters
    for (const [name, shape] of added) this.addEntry(name, shape, 0);
    const extend = (old: tf.Variable | undefined) => {
      const z = tf.zeros([this.total - before]);
      const joined = old ? tf.concat([old, z]) : z;
      const out = tf.variable(joined, false);
      tf.dispose([z, joined]);
      old?.dispose();
      return out;
    };
    this.m = extend(this.m);
    this.v = extend(this.v);
  }

  private slice(flat: tf.Tensor, e: Entry): tf.Tensor {
    return tf.tidy(() => tf.reshape(tf.slice(flat, e.offset, e.size), e.shape));
  }

  private zerosOf(size: number): tf.Tensor1D {
    const cached = this.zeros.get(size);
    if (cached) return cached;
    const z = tf.keep(tf.zeros([size]) as tf.Tensor1D);
    this.zeros.set(size, z);
    return z;
  }

  private constants() {
    if (!this.consts) {
      const { beta1, beta2, eps } = this.config;
      this.consts = tf.tidy(() => ({
        b1: tf.keep(tf.scalar(beta1)),
        c1: tf.keep(tf.scalar(1 - beta1)),
        b2: tf.keep(tf.scalar(beta2)),
        c2: tf.keep(tf.scalar(1 - beta2)),
        eps: tf.keep(tf.scalar(eps)),
      }));
    }
    return this.consts;
  }
}
