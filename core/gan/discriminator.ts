// The discriminator: residual blocks with average-pool downsampling, spectral norm on every conv and
// on the final linear, ReLU, global sum pooling. It grows with the generator's stage the way the
// reference's does: stage k runs the first k+1 growing blocks, then a last fixed block.
import * as tf from '@tensorflow/tfjs';
import { avgPool2, conv2d, conv2dSpecs, linearSpecs } from '../nn/layers';
import { addActivations } from '../nn/lean-ops';
import type { ParamSpec, ParamStore } from '../nn/params';
import { normalizedWeight, powerIterate, spectralNormSpecs } from '../nn/spectral-norm';
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

function conv(p: ParamStore, config: GanConfig, name: string, x: tf.Tensor4D): tf.Tensor4D {
  return conv2d(p, name, x, weight(p, config, name));
}

function block(p: ParamStore, config: GanConfig, b: BlockPlan, x: tf.Tensor4D): tf.Tensor4D {
  let h = b.optimized ? x : tf.relu(x);
  h = conv(p, config, `${b.name}.c1`, h);
  h = conv(p, config, `${b.name}.c2`, tf.relu(h));
  if (b.downsample) h = avgPool2(h);
  let sc = x;
  if (b.optimized) sc = conv(p, config, `${b.name}.sc`, avgPool2(x));
  else if (b.learnableShortcut) {
    sc = conv(p, config, `${b.name}.sc`, x);
    if (b.downsample) sc = avgPool2(sc);
  }
  return addActivations(h, sc);
}

/** D(x) for images at the resolution of `stage`: [n, 1] scores. */
export function discriminate(p: ParamStore, config: GanConfig, stage: number, x: tf.Tensor4D): tf.Tensor2D {
  const { growing, last } = blocks(config);
  let h = x;
  // A scope per block: its intermediate maps go when it returns (see nn/layers.ts).
  for (const b of growing.slice(0, stage + 1)) h = tf.tidy(() => block(p, config, b, h));
  h = tf.relu(tf.tidy(() => block(p, config, last, h)));
  const pooled = tf.sum(h, [1, 2]) as tf.Tensor2D;
  return tf.matMul(pooled, weight(p, config, 'd.out') as tf.Tensor2D) as tf.Tensor2D;
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
