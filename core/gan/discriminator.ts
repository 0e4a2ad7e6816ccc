// The discriminator: residual blocks with average-pool downsampling, spectral norm on every conv and
// on the final linear, ReLU, global sum pooling. It grows with the generator's stage the way the
// reference's does: stage k runs the first k+1 growing blocks, then a last fixed block.
import * as tf from '@tensorflow/tfjs';
import { avgPool2, conv2d, conv2dSpecs, linearSpecs } from '../nn/layers';
import { addActivations } from '../nn/lean-ops';
import type { ParamSpec, ParamStore } from '../nn/params';
import { biasAdd, matMul2d } from '../nn/native-ops';
import {
  normalizedWeight,
  powerIterate,
  scaleRowsBySigma,
  sigmaState,
  spectralNormOnHost,
  spectralNormSpecs,
  type SigmaState,
} from '../nn/spectral-norm';
import type { GanConfig } from './config';

interface BlockPlan {
  name: string;
  optimized: boolean;
  downsample: boolean;
  learnableShortcut: boolean;
}

/** Growing blocks: the first is the optimized block (downsamples); block i ≥ 1 downsamples unless last. */
function blocks(config: GanConfig): { growing: BlockPlan[]; last: BlockPlan } {
  const growing: BlockPlan[] = [];
  for (let i = 0; i < config.cells; i++) {
    const optimized = i === 0;
    const downsample = optimized || i < config.cells - 1;
    growing.push({ name: `d.block${i}`, optimized, downsample, learnableShortcut: optimized || downsample });
  }
  return {
    growing,
    last: { name: `d.block${config.cells}`, optimized: false, downsample: false, learnableShortcut: false },
  };
}

/** Names of the weights that carry spectral norm (every conv and the final linear). */
export function snLayers(config: GanConfig): string[] {
  const { growing, last } = blocks(config);
  const names: string[] = [];
  for (const b of [...growing, last]) {
    names.push(`${b.name}.c1`, `${b.name}.c2`);
    if (b.learnableShortcut) names.push(`${b.name}.sc`);
  }
  names.push('d.out');
  return names;
}

export function discriminatorSpecs(config: GanConfig): ParamSpec[] {
  const ch = config.dfDim;
  const specs: ParamSpec[] = [];
  const { growing, last } = blocks(config);
  for (const b of [...growing, last]) {
    const cin = b.optimized ? config.channels : ch;
    specs.push(...conv2dSpecs(`${b.name}.c1`, 3, cin, ch), ...conv2dSpecs(`${b.name}.c2`, 3, ch, ch));
    if (b.learnableShortcut) specs.push(...conv2dSpecs(`${b.name}.sc`, 1, cin, ch));
  }
  specs.push(...linearSpecs('d.out', ch, 1, false));
  if (config.dSpectralNorm) {
    for (const name of snLayers(config)) {
      const shape = specs.find((s) => s.name === `${name}.w`)!.shape;
      specs.push(...spectralNormSpecs(name, shape));
    }
  }
  return specs;
}

function weight(p: ParamStore, config: GanConfig, name: string): tf.Tensor {
  return config.dSpectralNorm ? normalizedWeight(p, name) : p.get(`${name}.w`);
}

/**
 * Spectral norm of batches stacked in one pass: per layer, the rows of each batch and the σ that
 * batch's own training-mode pass would have used.
 */
type StackedSigmas = (layer: string) => Array<{ rows: number; state: SigmaState }>;

function conv(
  p: ParamStore,
  config: GanConfig,
  name: string,
  x: tf.Tensor4D,
  stacked?: StackedSigmas,
): tf.Tensor4D {
  if (!stacked || !config.dSpectralNorm) return conv2d(p, name, x, weight(p, config, name));
  const w = p.get(`${name}.w`);
  return tf.tidy(() =>
    biasAdd(
      scaleRowsBySigma(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'), w, stacked(name)),
      p.get(`${name}.b`),
    ),
  ) as tf.Tensor4D;
}

function block(
  p: ParamStore,
  config: GanConfig,
  b: BlockPlan,
  x: tf.Tensor4D,
  stacked?: StackedSigmas,
): tf.Tensor4D {
  let h = b.optimized ? x : tf.relu(x);
  h = conv(p, config, `${b.name}.c1`, h, stacked);
  h = conv(p, config, `${b.name}.c2`, tf.relu(h), stacked);
  if (b.downsample) h = avgPool2(h);
  let sc = x;
  if (b.optimized) sc = conv(p, config, `${b.name}.sc`, avgPool2(x), stacked);
  else if (b.learnableShortcut) {
    sc = conv(p, config, `${b.name}.sc`, x, stacked);
    if (b.downsample) sc = avgPool2(sc);
  }
  return addActivations(h, sc);
}

/** D(x) for images at the resolution of `stage`: [n, 1] scores. */
export function discriminate(
  p: ParamStore,
  config: GanConfig,
  stage: number,
  x: tf.Tensor4D,
  stacked?: StackedSigmas,
): tf.Tensor2D {
  const { growing, last } = blocks(config);
  let h = x;
  // A scope per block: its intermediate maps go when it returns (see nn/layers.ts).
  for (const b of growing.slice(0, stage + 1)) h = tf.tidy(() => block(p, config, b, h, stacked));
  h = tf.relu(tf.tidy(() => block(p, config, last, h, stacked)));
  const pooled = tf.sum(h, [1, 2]) as tf.Tensor2D;
  if (!stacked || !config.dSpectralNorm) return matMul2d(pooled, weight(p, config, 'd.out') as tf.Tensor2D);
  const w = p.get('d.out.w');
  return scaleRowsBySigma(matMul2d(pooled, w as tf.Tensor2D), w, stacked('d.out')) as tf.Tensor2D;
}

/** Whether discriminatePair can run here (spectral norm on the host, or none). */
export function canStackPair(config: GanConfig): boolean {
  return !config.dSpectralNorm || spectralNormOnHost();
}

/**
 * The scores of a training-mode D on `real`, then on `fake`, as two torch forward passes give them
 * (with spectral norm each pass first makes a power iteration; `iterations` 1: only the first
 * does): [real rows; fake rows]. One pass over the stacked batch does it, each layer's output rows
 * scaled by the σ of their own pass: half the kernels of two passes, each convolution on twice the
 * rows, equal to the two passes up to float rounding. Needs canStackPair(config).
 */
export function discriminatePair(
  p: ParamStore,
  config: GanConfig,
  stage: number,
  real: tf.Tensor4D,
  fake: tf.Tensor4D,
  iterations: 1 | 2,
): tf.Tensor2D {
  const x = tf.concat([real, fake], 0) as tf.Tensor4D;
  if (!config.dSpectralNorm) return discriminate(p, config, stage, x);
  if (!spectralNormOnHost()) throw new Error('discriminatePair: spectral norm runs as tensor ops here');
  const layers = snLayersAt(config, stage);
  const snapshot = () => new Map(layers.map((n) => [n, sigmaState(p, n)]));
  refreshSpectralNorm(p, config, stage);
  const first = snapshot();
  if (iterations === 2) refreshSpectralNorm(p, config, stage);
  const second = iterations === 2 ? snapshot() : first;
  const [nr, nf] = [real.shape[0], fake.shape[0]];
  return discriminate(p, config, stage, x, (layer) => [
    { rows: nr, state: first.get(layer)! },
    { rows: nf, state: second.get(layer)! },
  ]);
}

/** The layers a stage uses (only their u/v are refreshed). */
function snLayersAt(config: GanConfig, stage: number): string[] {
  const { growing, last } = blocks(config);
  const used = [...growing.slice(0, stage + 1), last];
  return snLayers(config).filter((n) => n === 'd.out' || used.some((b) => n.startsWith(`${b.name}.`)));
}

/** One power iteration for every spectrally normalised layer a stage uses. */
export function refreshSpectralNorm(p: ParamStore, config: GanConfig, stage: number): void {
  if (!config.dSpectralNorm) return;
  for (const name of snLayersAt(config, stage)) powerIterate(p, name);
}

/** Multiply-accumulates of one D forward pass per image at a stage (for FLOP accounting in benchmarks). */
export function discriminatorMacs(config: GanConfig, stage: number, imageSize: number): number {
  const { growing, last } = blocks(config);
  const ch = config.dfDim;
  let res = imageSize;
  let macs = 0;
  for (const b of [...growing.slice(0, stage + 1), last]) {
    const cin = b.optimized ? config.channels : ch;
    macs += res * res * 9 * cin * ch + res * res * 9 * ch * ch;
    const scRes = b.optimized ? res / 2 : res;
    if (b.learnableShortcut) macs += scRes * scRes * cin * ch;
    if (b.downsample) res /= 2;
  }
  return macs + ch;
}
