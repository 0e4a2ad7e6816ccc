// Adam with its state in plain named tensors (for checkpoints). A parameter that has never had a
// gradient has no state and is left alone. One that had a gradient before but is off this step's
// sampled path is, by default, stepped with a zero gradient: PyTorch 1.1's zero_grad() (the
// reference's version) zeroes existing gradients instead of dropping them, so its Adam keeps moving
// such parameters by momentum and decays their moments. 'skip' freezes them instead (PyTorch ≥ 2's
// set_to_none behaviour).
import * as tf from '@tensorflow/tfjs';

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

export interface AdamSlot {
  m: tf.Variable;
  v: tf.Variable;
  step: number;
}

/** A variable of zeros shaped like `like`, without leaving the initial tensor behind. */
function zerosVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
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
        slot = { m: zerosVariable(p), v: zerosVariable(p), step: 0 };
        this.slots.set(name, slot);
      }
      slot.step++;
      const s = slot;
      tf.tidy(() => {
        const m = s.m.mul(beta1).add(g.mul(1 - beta1));
        const v = s.v.mul(beta2).add(g.square().mul(1 - beta2));
        this.step(p, s, m, v, lr, eps);
      });
    }
    if ((this.config.offPath ?? 'zero-grad') === 'zero-grad') {
      for (const [name, s] of this.slots) {
        if (name in grads) continue;
        s.step++;
        tf.tidy(() => this.step(params(name), s, s.m.mul(beta1), s.v.mul(beta2), lr, eps));
      }
    }
  }

  /** PyTorch's arithmetic: p -= lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + eps) (eps outside the bias correction). */
  private step(p: tf.Variable, s: AdamSlot, m: tf.Tensor, v: tf.Tensor, lr: number, eps: number): void {
    const stepSize = (lr * Math.sqrt(1 - this.config.beta2 ** s.step)) / (1 - this.config.beta1 ** s.step);
    s.m.assign(m);
    s.v.assign(v);
    p.assign(p.sub(m.div(v.sqrt().add(eps)).mul(stepSize)));
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
