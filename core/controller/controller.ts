// The AutoGAN controller: an LSTM that emits an architecture one decision at a time (a softmax per
// decision; the chosen token's embedding is the next input), trained with REINFORCE. Multi-level
// search uses one controller per stage that decides only that stage's cell and starts from the
// hidden state of a beam kept from the previous stage; single-level search uses one controller that
// decides every cell.
import * as tf from '@tensorflow/tfjs';
import { leanVariableGrads } from '../nn/lean-grads';
import { cellChoiceCounts } from '../arch/encoding';
import { loadModel, saveModel, type ModelParts } from '../checkpoint/model';
import { CONTROLLER_DEFAULTS } from '../defaults';
import { Adam } from '../nn/adam';
import { ParamStore, type ParamSpec } from '../nn/params';
import { Rng, type RngState } from '../rng';

export interface ControllerConfig {
  /** LSTM hidden size (reference 100). @default 100 */
  hiddenSize: number;
  /** Cells this controller decides: [k] for stage k of multi-level search, [0..n-1] for single-level. */
  cells: number[];
  /** Adam learning rate (reference ctrl_lr). @default 3.5e-4 */
  lr: number;
  /** @default 0 */
  beta1: number;
  /** @default 0.9 */
  beta2: number;
  /** Weight of the entropy bonus in the reward (paper 1e-4; reference code default 1e-3). @default 1e-3 */
  entropyCoeff: number;
  /** Moving-average baseline decay (reference 0.9). @default 0.9 */
  baselineDecay: number;
  /**
   * The REINFORCE loss. 'reference': the reference code's arithmetic, where rewards and baseline
   * are per decision (score + entropyCoeff·entropy_i, a [decisions, 1] tensor) and broadcast
   * against the summed log-probability: loss = −Σ_j log π(a_j) · Σ_i (reward_i − baseline_i), with
   * the entropies left in the graph as the reference leaves them. 'per-sample': the textbook form,
   * reward = score + entropyCoeff·Σ_i entropy_i, loss = −Σ log π(a) · (reward − baseline).
   * @default 'reference'
   */
  reinforce?: 'reference' | 'per-sample';
  /**
   * When the moving-average baseline starts afresh: 'call' at every controller-training call (one
   * per search iteration, as the reference's train_controller does), 'search' never (it carries
   * over iterations and dynamic resets).
   * @default 'call'
   */
  baselineScope?: 'call' | 'search';
}

export const DEFAULT_CONTROLLER: Omit<ControllerConfig, 'cells'> = { ...CONTROLLER_DEFAULTS };

/** An architecture prefix kept from the previous stage, with the LSTM state it ended in. */
export interface Beam {
  arch: number[];
  h: number[];
  c: number[];
}

export interface ControllerSample {
  /** Full architecture: the beam's prefix (if any) followed by this controller's decisions. */
  arch: number[];
  /** This controller's decisions only. */
  actions: number[];
  beam: number | null;
  logProb: number;
  /** Sum of the per-decision softmax entropies. */
  entropy: number;
  /** The softmax entropy of each decision. */
  entropies: number[];
  /** LSTM state after the last decision (what a beam keeps). */
  h: number[];
  c: number[];
}

export interface UpdateResult {
  loss: number;
  /** Per sample: score + entropyCoeff × its summed entropy. */
  rewards: number[];
  /** The baseline after this step (the mean over decisions in 'reference' mode). */
  baseline: number;
  meanEntropy: number;
}

export const CONTROLLER_CHECKPOINT_KIND = 'autogan.controller';

interface ControllerState {
  config: ControllerConfig;
  /** Per decision ('reference') or a single value; a number in checkpoints written before that. */
  baseline: number[] | number | null;
  steps: number;
  rng: RngState;
  extra: unknown;
}

function specs(cfg: ControllerConfig, tokens: number[]): ParamSpec[] {
  const H = cfg.hiddenSize;
  const k = { kind: 'fanIn' as const, fanIn: H };
  const out: ParamSpec[] = [
    { name: 'lstm.wih', shape: [H, 4 * H], init: k, trainable: true },
    { name: 'lstm.whh', shape: [H, 4 * H], init: k, trainable: true },
    { name: 'lstm.bih', shape: [4 * H], init: k, trainable: true },
    { name: 'lstm.bhh', shape: [4 * H], init: k, trainable: true },
    {
      name: 'embed',
      shape: [tokens.reduce((a, b) => a + b, 0), H],
      init: { kind: 'normal', mean: 0, std: 1 },
      trainable: true,
    },
  ];
  tokens.forEach((t, i) => {
    out.push(
      { name: `dec${i}.w`, shape: [H, t], init: k, trainable: true },
      { name: `dec${i}.b`, shape: [t], init: k, trainable: true },
    );
  });
  return out;
}

/** Runs fn in a tidy scope and returns its plain-JS result (tf.tidy only returns tensors). */
function plain<T>(fn: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = fn();
  });
  return out as T;
}

export class Controller {
  readonly tokens: number[];
  readonly offsets: number[];
  readonly params: ParamStore;
  readonly opt: Adam;
  /** Moving-average baseline: one value per decision ('reference') or a single value; null before the first step. */
  baseline: number[] | null = null;
  steps = 0;

  constructor(
    readonly config: ControllerConfig,
    readonly rng: Rng,
    /** false: zero weights, for a controller about to be loaded from a checkpoint. */
    randomInit = true,
  ) {
    this.tokens = config.cells.flatMap((s) => cellChoiceCounts(s));
    this.offsets = this.tokens.map((_, i) => this.tokens.slice(0, i).reduce((a, b) => a + b, 0));
    this.params = new ParamStore(specs(config, this.tokens), randomInit ? rng.fork() : null);
    this.opt = new Adam({ lr: config.lr, beta1: config.beta1, beta2: config.beta2, eps: 1e-8 });
  }

  static create(config: Partial<ControllerConfig> & { cells: number[] }, seed: number): Controller {
    return new Controller({ ...DEFAULT_CONTROLLER, ...config }, new Rng(seed));
  }

  /** Number of decisions per sample. */
  get length(): number {
    return this.tokens.length;
  }

  private lstm(x: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    const p = this.params;
    const H = this.config.hiddenSize;
    const gates = tf.add(
      tf.add(tf.matMul(x, p.get('lstm.wih') as tf.Tensor2D), tf.matMul(h, p.get('lstm.whh') as tf.Tensor2D)),
      tf.add(p.get('lstm.bih'), p.get('lstm.bhh')),
    ) as tf.Tensor2D;
    // PyTorch's gate order: input, forget, cell, output.
    const [i, f, g, o] = tf.split(gates, [H, H, H, H], 1);
    const c2 = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g))) as tf.Tensor2D;
    const h2 = tf.mul(tf.sigmoid(o), tf.tanh(c2)) as tf.Tensor2D;
    return [h2, c2];
  }

  /**
   * Runs the decision sequence for a batch: with `actions` given, scores those decisions (teacher
   * forcing); otherwise samples each decision from the softmax with the controller's RNG.
   * Returns per-sample log-probability and entropy tensors and the final states.
   */
  private unroll(
    n: number,
    start: { h: number[][]; c: number[][] } | null,
    given?: number[][],
    rng: Rng = this.rng,
  ) {
    const H = this.config.hiddenSize;
    let h = start ? tf.tensor2d(start.h) : tf.zeros([n, H]);
    let c = start ? tf.tensor2d(start.c) : tf.zeros([n, H]);
    let x: tf.Tensor2D = tf.zeros([n, H]);
    const actions: number[][] = Array.from({ length: n }, () => []);
    const logps: tf.Tensor1D[] = [];
    const ents: tf.Tensor1D[] = [];
    for (let d = 0; d < this.tokens.length; d++) {
      [h, c] = this.lstm(x, h as tf.Tensor2D, c as tf.Tensor2D);
      const logits = tf.add(
        tf.matMul(h, this.params.get(`dec${d}.w`) as tf.Tensor2D),
        this.params.get(`dec${d}.b`),
      ) as tf.Tensor2D;
      const logp = tf.logSoftmax(logits);
      const p = tf.exp(logp);
      ents.push(tf.neg(tf.sum(tf.mul(p, logp), 1)) as tf.Tensor1D);
      let chosen: number[];
      if (given) chosen = given.map((a) => a[d]);
      else {
        const probs = p.arraySync() as number[][];
        chosen = probs.map((row) => {
          let u = rng.next();
          for (let j = 0; j < row.length; j++) {
            u -= row[j];
            if (u < 0) return j;
          }
          return row.length - 1;
        });
      }
      chosen.forEach((a, i) => actions[i].push(a));
      const oneHot = tf.oneHot(tf.tensor1d(chosen, 'int32'), this.tokens[d]);
      logps.push(tf.sum(tf.mul(logp, oneHot), 1) as tf.Tensor1D);
      // Decision d's input embedding row is offset by the token counts before it.
      x = tf.gather(
        this.params.get('embed'),
        tf.tensor1d(
          chosen.map((a) => a + this.offsets[d]),
          'int32',
        ),
      ) as tf.Tensor2D;
    }
    return {
      actions,
      logProb: tf.addN(logps) as tf.Tensor1D,
      /** [n, decisions] */
      entropies: tf.stack(ents, 1) as tf.Tensor2D,
      h,
      c,
    };
  }

  private startStates(
    n: number,
    beams: Beam[] | undefined,
    rng: Rng,
  ): { picks: Array<number | null>; start: { h: number[][]; c: number[][] } | null } {
    if (!beams || beams.length === 0) return { picks: new Array(n).fill(null), start: null };
    const picks = Array.from({ length: n }, () => rng.int(beams.length));
    return { picks, start: { h: picks.map((i) => beams[i].h), c: picks.map((i) => beams[i].c) } };
  }

  /**
   * Samples n architectures (each from a random beam when beams are given). `rng` defaults to the
   * controller's own; shared training passes its own stream so it never advances the controller's.
   */
  sample(n: number, beams?: Beam[], rng: Rng = this.rng): ControllerSample[] {
    const { picks, start } = this.startStates(n, beams, rng);
    return plain(() => {
      const r = this.unroll(n, start, undefined, rng);
      const lp = r.logProb.arraySync();
      const en = r.entropies.arraySync() as number[][];
      const hs = r.h.arraySync() as number[][];
      const cs = r.c.arraySync() as number[][];
      return r.actions.map((actions, i) => ({
        arch: [...(picks[i] !== null ? beams![picks[i]!].arch : []), ...actions],
        actions,
        beam: picks[i],
        logProb: lp[i],
        entropy: en[i].reduce((a, b) => a + b, 0),
        entropies: en[i],
        h: hs[i],
        c: cs[i],
      }));
    });
  }

  /** Log-probabilities and entropies of given decisions from given starts (for tests and updates). */
  evaluate(
    samples: Array<Pick<ControllerSample, 'actions' | 'beam'>>,
    beams?: Beam[],
  ): { logProb: number[]; entropy: number[]; entropies: number[][] } {
    return plain(() => {
      const start =
        beams && beams.length
          ? { h: samples.map((s) => beams[s.beam!].h), c: samples.map((s) => beams[s.beam!].c) }
          : null;
      const r = this.unroll(
        samples.length,
        start,
        samples.map((s) => s.actions),
      );
      return {
        logProb: r.logProb.arraySync(),
        entropy: tf.sum(r.entropies, 1).arraySync() as number[],
        entropies: r.entropies.arraySync() as number[][],
      };
    });
  }

  /** Forgets the moving-average baseline: the start of a controller-training call ('call' scope). */
  resetBaseline(): void {
    this.baseline = null;
  }

  /**
   * One REINFORCE step on scored samples (see ControllerConfig.reinforce). The baseline is a
   * moving average of the batch's mean rewards, started from the first batch; on that first step
   * the advantage, and so the gradient, is zero, as in the reference.
   */
  update(samples: ControllerSample[], scores: number[], beams?: Beam[]): UpdateResult {
    if (samples.length !== scores.length)
      throw new Error(`${samples.length} samples but ${scores.length} scores`);
    const mode = this.config.reinforce ?? 'reference';
    const { entropyCoeff: coeff, baselineDecay: decay } = this.config;
    const start =
      beams && beams.length
        ? { h: samples.map((s) => beams[s.beam!].h), c: samples.map((s) => beams[s.beam!].c) }
        : null;
    const previous = this.baseline;
    let next: number[] = [];
    const loss = tf.tidy(() => {
      const { value, grads } = leanVariableGrads(() => {
        const r = this.unroll(
          samples.length,
          start,
          samples.map((s) => s.actions),
        );
        const score = tf.tensor2d(scores, [scores.length, 1]);
        // Rewards per sample and decision ('reference') or per sample ([n, 1]).
        const rewards =
          mode === 'reference'
            ? tf.add(score, tf.mul(coeff, r.entropies))
            : tf.tensor2d(
                samples.map((smp, i) => scores[i] + coeff * smp.entropy),
                [samples.length, 1],
              );
        const batchMean = tf.mean(rewards, 0);
        // Like the reference, the first baseline is the rewards tensor itself (advantage 0);
        // later ones mix the stored (detached) values with the live rewards.
        const baseline =
          previous === null
            ? batchMean
            : tf.add(tf.mul(decay, tf.tensor1d(previous)), tf.mul(1 - decay, batchMean));
        next = Array.from(baseline.dataSync());
        const adv = tf.sub(rewards, baseline);
        const perSample = mode === 'reference' ? tf.sum(adv, 1) : tf.reshape(adv, [-1]);
        return tf.neg(tf.sum(tf.mul(r.logProb, perSample))) as tf.Scalar;
      }, this.params.trainable());
      const named: Record<string, tf.Tensor> = {};
      for (const [k, g] of Object.entries(grads)) named[k.slice(k.indexOf('/') + 1)] = g;
      this.opt.apply((n) => this.params.get(n), named);
      return value.dataSync()[0];
    });
    this.baseline = next;
    this.steps++;
    return {
      loss,
      rewards: samples.map((s, i) => scores[i] + coeff * s.entropy),
      baseline: next.reduce((a, b) => a + b, 0) / next.length,
      meanEntropy: samples.reduce((a, s) => a + s.entropy, 0) / samples.length,
    };
  }

  /**
   * Derive: sample M candidates, score each, keep the top K with their LSTM states (ties rank the
   * later sample first, as the reference's reversed stable sort does). Returns the beams and every
   * candidate's score.
   */
  async topK(
    m: number,
    k: number,
    score: (arch: number[]) => Promise<number> | number,
    beams?: Beam[],
    rng: Rng = this.rng,
  ) {
    const candidates = this.sample(m, beams, rng);
    const scored: Array<{ sample: ControllerSample; score: number }> = [];
    for (const s of candidates) scored.push({ sample: s, score: await score(s.arch) });
    const ranked = scored.map((x, i) => ({ ...x, i })).sort((a, b) => b.score - a.score || b.i - a.i);
    return {
      beams: ranked
        .slice(0, k)
        .map((r) => ({ arch: r.sample.arch, h: r.sample.h, c: r.sample.c, score: r.score })),
      candidates: scored.map((r) => ({ arch: r.sample.arch, score: r.score })),
    };
  }

  save(file: string, extra: unknown = null): string {
    const state: ControllerState = {
      config: this.config,
      baseline: this.baseline,
      steps: this.steps,
      rng: this.rng.state(),
      extra,
    };
    return saveModel(file, CONTROLLER_CHECKPOINT_KIND, this.parts(), state);
  }

  private parts(): ModelParts {
    return { variables: { ctrl: this.params.vars }, optimizers: { ctrl: this.opt } };
  }

  static load(file: string): { controller: Controller; extra: unknown } {
    const { model: ctrl, state: s } = loadModel<ControllerState, Controller>(
      file,
      CONTROLLER_CHECKPOINT_KIND,
      (s) => (s.config && Array.isArray(s.rng) ? new Controller(s.config, new Rng(s.rng), false) : undefined),
      (c) => c.parts(),
    );
    ctrl.baseline = typeof s.baseline === 'number' ? [s.baseline] : s.baseline;
    ctrl.steps = s.steps;
    ctrl.rng.setState(s.rng);
    return { controller: ctrl, extra: s.extra };
  }

  dispose(): void {
    this.params.dispose();
    this.opt.dispose();
  }
}
