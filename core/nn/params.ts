// Named tf.Variables with seeded initialisation. Models are plain functions that look weights up
// here by name, so a parameter-shared supernet and a derived network share one code path.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';

export type Init =
  | { kind: 'xavier'; fanIn: number; fanOut: number }
  /** PyTorch's default for Linear/ConvTranspose weights and all biases: U(±1/sqrt(fanIn)). */
  | { kind: 'fanIn'; fanIn: number }
  | { kind: 'normal'; mean: number; std: number }
  | { kind: 'const'; value: number };

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
  /** Buffers (BN running stats, spectral-norm vectors) are not trained. */
  trainable: boolean;
}

function initValues(spec: ParamSpec, rng: Rng): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const init = spec.init;
  switch (init.kind) {
    case 'xavier': {
      const bound = Math.sqrt(6 / (init.fanIn + init.fanOut));
      return rng.uniforms(n, -bound, bound);
    }
    case 'fanIn': {
      const bound = 1 / Math.sqrt(init.fanIn);
      return rng.uniforms(n, -bound, bound);
    }
    case 'normal': {
      const out = rng.normals(n, init.std);
      for (let i = 0; i < n; i++) out[i] += init.mean;
      return out;
    }
    case 'const':
      return new Float32Array(n).fill(init.value);
  }
}

let storeCounter = 0;

export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();
  readonly specs = new Map<string, ParamSpec>();
  private readonly id = ++storeCounter;

  /**
   * `rng` null allocates zeros instead of drawing an initialisation: for stores whose values are
   * about to be loaded from a checkpoint.
   */
  constructor(
    specs: ParamSpec[],
    rng: Rng | null,
    private readonly overrides?: Map<string, tf.Variable>,
  ) {
    for (const spec of specs) {
      if (this.specs.has(spec.name)) throw new Error(`duplicate parameter ${spec.name}`);
      this.specs.set(spec.name, spec);
      if (overrides?.has(spec.name)) continue;
      const initial = rng ? tf.tensor(initValues(spec, rng), spec.shape) : tf.zeros(spec.shape);
      // Unique variable names per store: several models may live in one process. The variable
      // holds its own reference to the data, so the initial tensor is freed right away.
      this.vars.set(spec.name, tf.variable(initial, spec.trainable, `p${this.id}/${spec.name}`));
      initial.dispose();
    }
  }

  has(name: string): boolean {
    return this.specs.has(name);
  }

  get(name: string): tf.Variable {
    const v = this.overrides?.get(name) ?? this.vars.get(name);
    if (!v) throw new Error(`model has no parameter ${name}`);
    return v;
  }

  names(): string[] {
    return [...this.specs.keys()];
  }

  trainableNames(): string[] {
    return this.names().filter((n) => this.specs.get(n)!.trainable);
  }

  trainable(): tf.Variable[] {
    return this.trainableNames().map((n) => this.get(n));
  }

  /** Name of a store variable from its tf.Variable name. */
  nameOf(v: tf.Variable): string {
    return v.name.slice(v.name.indexOf('/') + 1);
  }

  /** Copies values from another store (same names and shapes). */
  copyFrom(other: ParamStore, names = this.names()): void {
    for (const n of names) this.get(n).assign(other.get(n));
  }

  /** A store whose trainable weights are `weights` and whose buffers are this store's. */
  withWeights(weights: Map<string, tf.Variable>): ParamStore {
    const view = Object.create(ParamStore.prototype) as ParamStore;
    Object.assign(view, { vars: this.vars, specs: this.specs, id: this.id, overrides: weights });
    return view;
  }

  count(names = this.trainableNames()): number {
    return names.reduce((acc, n) => acc + this.specs.get(n)!.shape.reduce((a, b) => a * b, 1), 0);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
