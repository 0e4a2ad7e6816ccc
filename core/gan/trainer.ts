// GAN training with the hinge loss: D steps on every batch, a G step every n_critic D steps.
// One class for both uses: the shared supernet (an architecture per step from a sampler, dynamic
// reset detection) and derived-architecture training (fixed architecture, linear LR decay, EMA of
// G's weights). All randomness comes from seeded generators that are saved in checkpoints.
import * as tf from '@tensorflow/tfjs';
import { leanVariableGrads } from '../nn/lean-grads';
import { parseArch, vectorLength } from '../arch/encoding';
import { loadModel, saveModel, type ModelParts } from '../checkpoint/model';
import { TRAIN_DEFAULTS } from '../defaults';
import { Adam } from '../nn/adam';
import { FlatCopy, flatten } from '../nn/flat-vars';
import { applyUpdates, BN_MOMENTUM, evalContext, trainingContext } from '../nn/layers';
import { ParamStore } from '../nn/params';
import { Rng, type RngState } from '../rng';
import { imageSizeAt, type GanConfig } from './config';
import {
  canStackPair,
  discriminate,
  discriminatePair,
  discriminatorSpecs,
  refreshSpectralNorm,
} from './discriminator';
import { generate, generatorSpecs } from './generator';
import { ResetDetector, DEFAULT_RESET, type ResetConfig, type ResetState } from './reset-detector';

// The D step's real and fake batches in one stacked pass where the backend allows (see
// discriminatePair) and the networks are small; off: two passes, as the reference runs them. For
// tests and benchmarks.
let stackedPair = process.env.AUTOGAN_STACKED_D !== '0';

/**
 * The largest D pass (images × pixels × df²) that runs stacked. One stacked pass halves the D
 * step's op dispatches but scales every layer's output (and its gradient) per row, passes over
 * whole activations: at the demo's size (2 M) the dispatches weigh more (stacked D step ~15%
 * faster), at the paper's search size (270 M) the passes do (two passes ~10% faster).
 */
export const STACKED_D_MAX_WORK = 2 ** 24;

/** Turns the stacked real+fake D pass on or off (tests, benchmarks). */
export function setStackedDiscriminator(on: boolean): void {
  stackedPair = on;
}

export interface TrainConfig {
  /** G's Adam learning rate. @default 2e-4 */
  gLr: number;
  /** D's Adam learning rate. @default 2e-4 */
  dLr: number;
  /** @default 0 */
  beta1: number;
  /** @default 0.9 */
  beta2: number;
  /** D steps per G step (reference search 5). @default 5 */
  nCritic: number;
  /** Batch size of G steps (reference 128). @default 128 */
  genBatchSize: number;
  /** Batch size of real images in D steps (reference 64). @default 64 */
  disBatchSize: number;
  /** Dynamic reset (ResetConfig). @default window 500, threshold 1e-3, variance */
  reset: ResetConfig;
  /** Derived training: EMA decay of G's weights (reference 0.999); 0 disables. @default 0 */
  emaDecay: number;
  /** Derived training: LR decays linearly to 0 over this many D steps (reference max_iter × n_critic); 0 disables. @default 0 */
  lrDecaySteps: number;
  /**
   * EMA warm-up as TensorFlow's ExponentialMovingAverage with num_updates: the decay used at G step
   * n is min(emaDecay, (1 + n) / (10 + n)), so a short run's average is not mostly its random
   * initialisation. false: a constant decay from the start (the reference).
   * @default true
   */
  emaWarmup?: boolean;
  /**
   * Batch-norm statistics used when sampling with the EMA weights: 'recompute' re-estimates them
   * for those weights from generated batches (the live running statistics belong to the live
   * weights); 'live' uses the live ones (the reference).
   * @default 'recompute'
   */
  emaBnStats?: 'recompute' | 'live';
  /**
   * Spectral-norm power iterations: 'per-forward' runs one per D forward pass as
   * torch.nn.utils.spectral_norm does in training mode (two per D step: real, then fake; one per G
   * step); 'per-step' one per D step.
   * @default 'per-forward'
   */
  snIterations?: 'per-forward' | 'per-step';
  /**
   * Adam on supernet weights off the sampled path (they had gradients before): 'zero-grad' steps
   * them with a zero gradient as PyTorch 1.1 (the reference) does; 'skip' freezes them.
   * @default 'zero-grad'
   */
  adamOffPath?: 'zero-grad' | 'skip';
}

export const DEFAULT_TRAIN: TrainConfig = {
  ...TRAIN_DEFAULTS,
  reset: DEFAULT_RESET,
  emaDecay: 0,
  lrDecaySteps: 0,
  emaWarmup: true,
  emaBnStats: 'recompute',
};

/** A weight given by name (imports). */
export interface NamedValues {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Generated batches used to re-estimate batch-norm statistics for the EMA weights. */
const EMA_BN_BATCHES = 8;

export interface StepResult {
  dLoss: number;
  gLoss?: number;
  /** The dynamic-reset detector fired on this step. */
  reset: boolean;
}

interface TrainerState {
  gan: GanConfig;
  train: TrainConfig;
  /** Fixed architecture of a derived generator; null for the supernet. */
  arch: number[] | null;
  stage: number;
  dSteps: number;
  gSteps: number;
  resets: number;
  rng: RngState;
  windows: ResetState;
  /** Caller's extra state (data loader, sampler RNG, …). */
  extra: unknown;
}

export const GAN_CHECKPOINT_KIND = 'autogan.gan';

/** Gradients keyed by parameter name (only the weights the loss reached). */
function named(grads: tf.NamedTensorMap): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [varName, g] of Object.entries(grads)) if (g) out[varName.slice(varName.indexOf('/') + 1)] = g;
  return out;
}

export class GanTrainer {
  G!: ParamStore;
  D!: ParamStore;
  ema: Map<string, tf.Variable> | undefined;
  /** The EMA weights as updateEma last wrote them, as one vector. */
  private readonly emaFlat = new FlatCopy();
  /** Batch-norm statistics re-estimated for the EMA weights; dropped whenever G changes. */
  private emaBn: { arch: string; stats: Map<string, tf.Variable> } | undefined;
  gOpt!: Adam;
  dOpt!: Adam;
  readonly detector: ResetDetector;
  dSteps = 0;
  gSteps = 0;
  resets = 0;

  constructor(
    readonly gan: GanConfig,
    readonly train: TrainConfig,
    public stage: number,
    readonly rng: Rng,
    /** Fixed architecture (derived training); undefined for the shared supernet. */
    readonly arch?: number[],
    /** false: zero weights, for a trainer about to be loaded from a checkpoint. */
    randomInit = true,
  ) {
    if (arch) {
      parseArch(arch);
      this.stage = (arch.length - 4) / 5;
    }
    this.detector = new ResetDetector(train.reset);
    this.build(randomInit);
  }

  static create(
    gan: GanConfig,
    train: TrainConfig,
    opts: { seed: number; stage?: number; arch?: number[] },
  ): GanTrainer {
    return new GanTrainer(gan, train, opts.stage ?? 0, new Rng(opts.seed), opts.arch);
  }

  /**
   * (Re)creates the weights and optimizers from the trainer's RNG: start, and dynamic reset. With
   * `random` false the weights are zeros, about to be overwritten by a checkpoint.
   */
  private build(random = true): void {
    const init = random ? this.rng.fork() : null;
    this.G = new ParamStore(generatorSpecs(this.gan, this.arch), init);
    this.D = new ParamStore(discriminatorSpecs(this.gan), init);
    const adam = { beta1: this.train.beta1, beta2: this.train.beta2, eps: 1e-8 };
    const offPath = this.train.adamOffPath ?? 'zero-grad';
    this.gOpt = new Adam({ lr: this.train.gLr, ...adam, offPath });
    this.dOpt = new Adam({ lr: this.train.dLr, ...adam, offPath });
    this.emaBn = undefined;
    if (this.train.emaDecay > 0) {
      // tf.variable keeps its own reference to the data: assigning the copy, not a clone, leaks nothing.
      this.ema = new Map(this.G.trainableNames().map((n) => [n, tf.variable(this.G.get(n), false)]));
    }
  }

  /** Dynamic reset: fresh G, D and optimizers (the controller is not the trainer's business). */
  reset(): void {
    this.disposeModels();
    this.build();
    this.detector.clear();
    this.resets++;
  }

  /** Grow to the next stage (the supernet holds every cell already; D grows by stage). */
  setStage(stage: number): void {
    if (this.arch) throw new Error('a derived generator has a fixed architecture');
    if (stage < 0 || stage >= this.gan.cells)
      throw new Error(`stage ${stage} is outside 0..${this.gan.cells - 1}`);
    this.stage = stage;
  }

  private currentLr(base: number): number {
    if (!this.train.lrDecaySteps) return base;
    return base * Math.max(0, 1 - this.dSteps / this.train.lrDecaySteps);
  }

  private latent(n: number): tf.Tensor2D {
    return tf.tensor2d(this.rng.normals(n * this.gan.latentDim), [n, this.gan.latentDim]);
  }

  private archOrDefault(arch?: readonly number[]): readonly number[] {
    const a = this.arch ?? arch;
    if (!a) throw new Error('the shared generator needs an architecture for each step');
    if (a.length !== vectorLength(this.stage)) {
      throw new Error(
        `architecture [${a.join(' ')}] has ${a.length} integers; stage ${this.stage} needs ${vectorLength(this.stage)}`,
      );
    }
    return a;
  }

  /**
   * The hinge loss of D on a real and a fake batch and its gradients by parameter name, with the
   * spectral-norm power iterations a reference D step makes (they update u and v).
   */
  discriminatorGradients(
    real: tf.Tensor4D,
    fake: tf.Tensor4D,
  ): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
    const perForward = (this.train.snIterations ?? 'per-forward') === 'per-forward';
    const side = imageSizeAt(this.gan, this.stage);
    const work = real.shape[0] * side * side * this.gan.dfDim ** 2;
    const stacked = stackedPair && canStackPair(this.gan) && work <= STACKED_D_MAX_WORK;
    if (!stacked) refreshSpectralNorm(this.D, this.gan, this.stage);
    const { value, grads } = leanVariableGrads(() => {
      let realScore: tf.Tensor;
      let fakeScore: tf.Tensor;
      if (stacked) {
        // One pass over [real; fake] with each half's own σ (see discriminatePair).
        const scores = discriminatePair(this.D, this.gan, this.stage, real, fake, perForward ? 2 : 1);
        [realScore, fakeScore] = tf.split(scores, [real.shape[0], fake.shape[0]]) as [tf.Tensor, tf.Tensor];
      } else {
        realScore = discriminate(this.D, this.gan, this.stage, real);
        // torch's spectral_norm iterates once per training-mode forward: the fake pass sees u, v
        // after a second iteration. (σ reads u, v into fresh tensors, so the real pass's gradient
        // keeps the vectors it used.)
        if (perForward) refreshSpectralNorm(this.D, this.gan, this.stage);
        fakeScore = discriminate(this.D, this.gan, this.stage, fake);
      }
      return tf.add(
        tf.mean(tf.relu(tf.sub(1, realScore))),
        tf.mean(tf.relu(tf.add(1, fakeScore))),
      ) as tf.Scalar;
    }, this.D.trainable());
    return { loss: value, grads: named(grads) };
  }

  /** One D step on `real` (and a G step when it is due). `real` must match the stage's resolution. */
  step(real: tf.Tensor4D, arch?: readonly number[]): StepResult {
    const a = this.archOrDefault(arch);
    const dLoss = this.dStep(real, a);
    let gLoss: number | undefined;
    if (this.dSteps % this.train.nCritic === 0) gLoss = this.gStep(a);
    this.dSteps++;
    const reset = !this.arch && this.detector.check();
    return { dLoss, ...(gLoss !== undefined ? { gLoss } : {}), reset };
  }

  /**
   * The D half of a step: a fake batch from G (its BN running statistics updated, no gradient),
   * D's hinge loss on real and fake, one Adam step of D. Returns the loss. (step() is the training
   * loop's entry; this and gStep are public for benchmarks that time the halves apart.)
   */
  dStep(real: tf.Tensor4D, arch: readonly number[]): number {
    const n = real.shape[0];
    const gCtx = trainingContext();
    const fake = tf.tidy(() => generate(this.G, this.gan, arch, this.latent(n), gCtx));
    applyUpdates(gCtx);
    if (fake.shape[1] !== real.shape[1] || fake.shape[3] !== real.shape[3]) {
      fake.dispose();
      throw new Error(
        `real images are ${real.shape.slice(1).join('×')}, the generator makes ${fake.shape.slice(1).join('×')} at stage ${this.stage}`,
      );
    }
    const dLr = this.currentLr(this.train.dLr);
    const dLoss = tf.tidy(() => {
      const { loss, grads } = this.discriminatorGradients(real, fake);
      this.dOpt.apply((name) => this.D.get(name), grads, dLr);
      return loss.dataSync()[0];
    });
    fake.dispose();
    this.detector.pushD(dLoss);
    return dLoss;
  }

  /** The G half of a step: G's loss −mean D(G(z)) on a fresh batch, one Adam step of G, the EMA. */
  gStep(arch: readonly number[]): number {
    refreshSpectralNorm(this.D, this.gan, this.stage);
    const gLr = this.currentLr(this.train.gLr);
    const ctx = trainingContext();
    const gLoss = tf.tidy(() => {
      const z = this.latent(this.train.genBatchSize);
      const { value, grads } = leanVariableGrads(() => {
        const img = generate(this.G, this.gan, arch, z, ctx);
        ctx.updates.forEach((u) => tf.keep(u.value));
        return tf.neg(tf.mean(discriminate(this.D, this.gan, this.stage, img))) as tf.Scalar;
      }, this.G.trainable());
      this.gOpt.apply((name) => this.G.get(name), named(grads), gLr);
      return value.dataSync()[0];
    });
    applyUpdates(ctx);
    this.updateEma();
    this.dropEmaBn();
    this.gSteps++;
    this.detector.pushG(gLoss);
    return gLoss;
  }

  /** The EMA decay at the current G step (with TF's num_updates warm-up unless disabled). */
  emaDecayNow(): number {
    const d = this.train.emaDecay;
    if (this.train.emaWarmup === false) return d;
    return Math.min(d, (1 + this.gSteps) / (10 + this.gSteps));
  }

  private updateEma(): void {
    if (!this.ema) return;
    const d = this.emaDecayNow();
    // On one vector (core/nn/flat-vars.ts): 3 ops a step instead of 3 per generator tensor. The
    // generator's weights come as G's optimizer just wrote them; the EMA as this wrote it last.
    const names = [...this.ema.keys()];
    const emaVars = names.map((n) => this.ema!.get(n)!);
    const next = tf.tidy(() => {
      const e = this.emaFlat.of(emaVars);
      const g =
        this.gOpt.lastWritten(names, (n) => this.G.get(n)) ?? flatten(names.map((n) => this.G.get(n)));
      return tf.add(tf.mul(e, d), tf.mul(g, 1 - d)) as tf.Tensor1D;
    });
    this.emaFlat.assign(emaVars, next);
  }

  private dropEmaBn(): void {
    this.emaBn?.stats.forEach((v) => v.dispose());
    this.emaBn = undefined;
  }

  /**
   * Batch-norm statistics for the EMA weights: the average over EMA_BN_BATCHES generated batches
   * of the batch statistics those weights produce (a fixed seed, so sampling stays deterministic).
   */
  private emaBatchNormStats(arch: readonly number[]): Map<string, tf.Variable> {
    if (this.emaBn?.arch === arch.join(' ')) return this.emaBn.stats;
    this.dropEmaBn();
    const names = this.G.names().filter((n) => /\.(mean|var)$/.test(n) && !this.G.specs.get(n)!.trainable);
    const sums = new Map(names.map((n) => [n, tf.zerosLike(this.G.get(n)) as tf.Tensor]));
    const store = this.G.withWeights(this.ema!);
    const rng = new Rng(0x5eed);
    const batch = Math.max(this.train.genBatchSize, 64);
    for (let b = 0; b < EMA_BN_BATCHES; b++) {
      const ctx = trainingContext();
      tf.tidy(() => {
        const z = tf.tensor2d(rng.normals(batch * this.gan.latentDim), [batch, this.gan.latentDim]);
        generate(store, this.gan, arch, z, ctx);
        // Keep what the batch-norm layers computed: value = (1−m)·running + m·batch; recover the batch part.
        ctx.updates.forEach((u) => tf.keep(u.value));
      });
      for (const u of ctx.updates) {
        const name = this.G.nameOf(u.variable);
        const acc = sums.get(name);
        if (acc) {
          const batchPart = tf.tidy(() =>
            u.value
              .sub(u.variable.mul(1 - BN_MOMENTUM))
              .div(BN_MOMENTUM)
              .div(EMA_BN_BATCHES),
          );
          sums.set(name, acc.add(batchPart));
          acc.dispose();
          batchPart.dispose();
        }
        u.value.dispose();
      }
    }
    // Layers off the architecture's path keep the live statistics.
    const onPath = new Set(generatorSpecs(this.gan, arch).map((spec) => spec.name));
    const stats = new Map<string, tf.Variable>();
    for (const [name, sum] of sums) {
      stats.set(name, tf.variable(onPath.has(name) ? sum : this.G.get(name), false));
      sum.dispose();
    }
    this.emaBn = { arch: arch.join(' '), stats };
    return stats;
  }

  /** Images from the generator in eval mode (running BN stats), optionally with EMA weights. */
  sample(n: number, opts: { arch?: readonly number[]; rng?: Rng; ema?: boolean } = {}): tf.Tensor4D {
    const rng = opts.rng ?? this.rng;
    return tf.tidy(() =>
      this.generateFrom(tf.tensor2d(rng.normals(n * this.gan.latentDim), [n, this.gan.latentDim]), opts),
    );
  }

  /**
   * G(z) for given latents: eval mode (running BN statistics) unless `training`, which uses batch
   * statistics and leaves the running ones untouched.
   */
  generateFrom(
    z: tf.Tensor2D,
    opts: { arch?: readonly number[]; ema?: boolean; training?: boolean } = {},
  ): tf.Tensor4D {
    const a = this.archOrDefault(opts.arch);
    if (z.shape[1] !== this.gan.latentDim)
      throw new Error(`latents have ${z.shape[1]} dimensions; the generator takes ${this.gan.latentDim}`);
    let store = this.G;
    if (opts.ema && this.ema) {
      const weights = new Map(this.ema);
      if ((this.train.emaBnStats ?? 'recompute') === 'recompute')
        for (const [name, v] of this.emaBatchNormStats(a)) weights.set(name, v);
      store = this.G.withWeights(weights);
    }
    return tf.tidy(() => {
      const ctx = opts.training ? trainingContext() : evalContext();
      const out = generate(store, this.gan, a, z, ctx);
      ctx.updates.forEach((u) => u.value.dispose());
      return out;
    });
  }

  /**
   * Overwrites weights with given values (an import): `g` must cover every generator weight and
   * buffer, `d` (optional) every discriminator one; names and shapes are checked.
   */
  assignWeights(w: { g: NamedValues[]; d?: NamedValues[]; ema?: NamedValues[] }): void {
    const assign = (
      store: Map<string, tf.Variable>,
      values: NamedValues[],
      what: string,
      complete: boolean,
    ) => {
      const given = new Set(values.map((v) => v.name));
      if (complete) {
        const missing = [...store.keys()].filter((n) => !given.has(n));
        if (missing.length) throw new Error(`${what}: no values for ${missing.join(', ')}`);
      }
      for (const v of values) {
        const target = store.get(v.name);
        if (!target) throw new Error(`${what}: the model has no parameter ${v.name}`);
        if (target.shape.join() !== v.shape.join())
          throw new Error(`${what}: ${v.name} is [${v.shape}], the model's is [${target.shape}]`);
        const t = tf.tensor(v.values, v.shape);
        target.assign(t);
        t.dispose();
      }
    };
    assign(this.G.vars, w.g, 'generator', true);
    if (w.d) assign(this.D.vars, w.d, 'discriminator', true);
    if (this.ema) {
      if (w.ema) assign(this.ema, w.ema, 'EMA generator', false);
      else for (const [n, e] of this.ema) e.assign(this.G.get(n));
    }
    this.dropEmaBn();
  }

  /** What a checkpoint holds besides the state: weights, EMA weights and both optimizers. */
  private parts(): ModelParts {
    return {
      variables: { g: this.G.vars, d: this.D.vars, ...(this.ema ? { ema: this.ema } : {}) },
      optimizers: { g: this.gOpt, d: this.dOpt },
    };
  }

  save(file: string, extra: unknown = null): string {
    const state: Omit<TrainerState, 'adam'> = {
      gan: this.gan,
      train: this.train,
      arch: this.arch ?? null,
      stage: this.stage,
      dSteps: this.dSteps,
      gSteps: this.gSteps,
      resets: this.resets,
      rng: this.rng.state(),
      windows: this.detector.state(),
      extra,
    };
    return saveModel(file, GAN_CHECKPOINT_KIND, this.parts(), state);
  }

  /** Restores a trainer exactly as it was saved; returns it with the caller's extra state. */
  static load(file: string): { trainer: GanTrainer; extra: unknown } {
    const { model: t, state: s } = loadModel<TrainerState, GanTrainer>(
      file,
      GAN_CHECKPOINT_KIND,
      (s) =>
        s.gan && s.train && Array.isArray(s.rng)
          ? new GanTrainer(s.gan, s.train, s.stage, new Rng(0), s.arch ?? undefined, false)
          : undefined,
      (t) => t.parts(),
    );
    Object.assign(t, { dSteps: s.dSteps, gSteps: s.gSteps, resets: s.resets });
    t.rng.setState(s.rng);
    t.detector.restore(s.windows);
    return { trainer: t, extra: s.extra };
  }

  private disposeModels(): void {
    this.dropEmaBn();
    this.G?.dispose();
    this.D?.dispose();
    this.gOpt?.dispose();
    this.dOpt?.dispose();
    this.ema?.forEach((v) => v.dispose());
    this.emaFlat.drop();
  }

  dispose(): void {
    this.disposeModels();
  }
}
