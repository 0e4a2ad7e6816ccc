// Adam with its state in plain named tensors (for checkpoints). Like PyTorch, a parameter that got
// no gradient this step (off the sampled path) is left alone, moments and step count included.
import * as tf from '@tensorflow/tfjs';

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export interface AdamSlot {
  m: tf.Variable;
  v: tf.Variable;
  step: number;
}

export class Adam {
  readonly slots = new Map<string, AdamSlot>();

  constructor(public config: AdamConfig) {}

  /** Applies gradients keyed by parameter name. `lr` overrides the configured rate (decay). */
  apply(params: (name: string) => tf.Variable, grads: Record<string, tf.Tensor>, lr = this.config.lr): void {
    const { beta1, beta2, eps } = this.config;
    for (const [name, g] of Object.entries(grads)) {
      const p = params(name);
      let slot = this.slots.get(name);
      if (!slot) {
        slot = { m: tf.variable(tf.zerosLike(p), false), v: tf.variable(tf.zerosLike(p), false), step: 0 };
        this.slots.set(name, slot);
      }
      slot.step++;
      const s = slot;
      tf.tidy(() => {
        const m = s.m.mul(beta1).add(g.mul(1 - beta1));
        const v = s.v.mul(beta2).add(g.square().mul(1 - beta2));
        const mHat = m.div(1 - beta1 ** s.step);
        const vHat = v.div(1 - beta2 ** s.step);
        s.m.assign(m);
        s.v.assign(v);
        p.assign(p.sub(mHat.div(vHat.sqrt().add(eps)).mul(lr)));
      });
    }
  }

  /** Tensors for a checkpoint: `<prefix>.<param>.m|v`, and steps as JSON. */
  state(prefix: string): { tensors: Record<string, tf.Tensor>; steps: Record<string, number> } {
    const tensors: Record<string, tf.Tensor> = {};
    const steps: Record<string, number> = {};
    for (const [name, s] of this.slots) {
      tensors[`${prefix}.${name}.m`] = s.m;
      tensors[`${prefix}.${name}.v`] = s.v;
      steps[name] = s.step;
    }
    return { tensors, steps };
  }

  restore(prefix: string, tensors: Map<string, tf.Tensor>, steps: Record<string, number>): void {
    this.dispose();
    for (const [name, step] of Object.entries(steps)) {
      const m = tensors.get(`${prefix}.${name}.m`);
      const v = tensors.get(`${prefix}.${name}.v`);
      if (!m || !v) throw new Error(`optimizer state for ${name} is missing its moments`);
      this.slots.set(name, { m: tf.variable(m, false), v: tf.variable(v, false), step });
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.clear();
  }
}
