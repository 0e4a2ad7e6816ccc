// The generator: linear from the latent to a bottom_width² map, then cells that double the
// resolution, then BN → ReLU → 3×3 conv → tanh. The supernet holds the weights of every candidate
// operation and runs the path an architecture selects; a derived generator holds only its path.
import * as tf from '@tensorflow/tfjs';
import { CONV, NORM, UP, parseArch, type CellArch } from '../arch/encoding';
import {
  batchNorm,
  batchNormSpecs,
  conv2d,
  conv2dSpecs,
  deconv2x,
  deconvSpecs,
  instanceNorm,
  linear,
  linearSpecs,
  upsampleBilinear,
  upsampleNearest,
  type ForwardContext,
} from '../nn/layers';
import { addActivations } from '../nn/lean-ops';
import type { ParamSpec, ParamStore } from '../nn/params';
import type { GanConfig } from './config';

const cellName = (s: number) => `g.cell${s}`;

/** Weights one cell needs for the given choices (or for every choice when `arch` is undefined). */
function cellSpecs(config: GanConfig, s: number, arch?: CellArch): ParamSpec[] {
  const C = config.gfDim;
  const n = cellName(s);
  const specs: ParamSpec[] = [];
  const convs = arch ? [arch.conv] : [...CONV];
  const norms = arch ? [arch.norm] : [...NORM];
  const ups = arch ? [arch.up] : [...UP];
  for (const conv of convs) {
    const b = `${n}.${conv}`;
    specs.push(...conv2dSpecs(`${b}1.conv`, 3, C, C), ...conv2dSpecs(`${b}2.conv`, 3, C, C));
    if (norms.includes('bn')) specs.push(...batchNormSpecs(`${b}1.bn`, C), ...batchNormSpecs(`${b}2.bn`, C));
    if (ups.includes('deconv')) specs.push(...deconvSpecs(`${b}1.deconv`, C, C));
  }
  const shortcut = arch ? arch.shortcut : true;
  if (shortcut) {
    specs.push(...conv2dSpecs(`${n}.sc`, 1, C, C));
    if (ups.includes('deconv')) specs.push(...deconvSpecs(`${n}.sc_deconv`, C, C));
  }
  const skips = arch
    ? arch.skipIns.map((on, i) => (on ? i : -1)).filter((i) => i >= 0)
    : Array.from({ length: s }, (_, i) => i);
  for (const i of skips) specs.push(...conv2dSpecs(`${n}.skip${i}`, 1, C, C));
  if (ups.includes('deconv')) {
    // Skip-in features come from `s - i` cells back: scale 2^(s-i), one shared deconv chain per scale.
    const scales = new Set(skips.map((i) => s - i));
    for (const m of scales)
      for (let j = 0; j < m; j++) specs.push(...deconvSpecs(`${n}.skip_up${2 ** m}.${j}`, C, C));
  }
  return specs;
}

/** All generator weights: for the supernet (no arch) or a derived architecture vector. */
export function generatorSpecs(config: GanConfig, arch?: readonly number[]): ParamSpec[] {
  const cells = arch ? parseArch(arch) : undefined;
  const nCells = cells ? cells.length : config.cells;
  const B = config.bottomWidth;
  const specs: ParamSpec[] = [...linearSpecs('g.l1', config.latentDim, B * B * config.gfDim)];
  for (let s = 0; s < nCells; s++) specs.push(...cellSpecs(config, s, cells?.[s]));
  specs.push(
    ...batchNormSpecs('g.out.bn', config.gfDim),
    ...conv2dSpecs('g.out.conv', 3, config.gfDim, config.channels),
  );
  return specs;
}

function normalize(
  p: ParamStore,
  name: string,
  norm: CellArch['norm'],
  x: tf.Tensor4D,
  ctx: ForwardContext,
): tf.Tensor4D {
  if (norm === 'bn') return batchNorm(p, name, x, ctx);
  if (norm === 'in') return instanceNorm(x);
  return x;
}

function upsample(p: ParamStore, deconvName: string, up: CellArch['up'], x: tf.Tensor4D): tf.Tensor4D {
  if (up === 'deconv') return deconv2x(p, deconvName, x);
  return up === 'bilinear' ? upsampleBilinear(x, 2) : upsampleNearest(x, 2);
}

/**
 * One cell: returns its skip-out feature map (after the first conv; with or without this cell's
 * skip-ins, see GanConfig.skipOut) and its output.
 */
function cell(
  p: ParamStore,
  s: number,
  a: CellArch,
  x: tf.Tensor4D,
  skipFeatures: tf.Tensor4D[],
  ctx: ForwardContext,
  skipOutMode: NonNullable<GanConfig['skipOut']>,
): { skipOut: tf.Tensor4D; out: tf.Tensor4D } {
  const n = cellName(s);
  const b = `${n}.${a.conv}`;
  let h: tf.Tensor4D;
  // A post-activation cell with a shortcut resizes x on both paths: the same op on the same input,
  // so it is done once (one resize and one resize gradient fewer, and one upsampled activation
  // saved for both convolutions instead of two copies). A deconv has its own weights per path.
  const sharedUp =
    a.conv === 'post' && a.shortcut && a.up !== 'deconv' ? upsample(p, `${b}1.deconv`, a.up, x) : undefined;
  if (a.conv === 'post') {
    h = conv2d(p, `${b}1.conv`, sharedUp ?? upsample(p, `${b}1.deconv`, a.up, x));
    h = tf.relu(normalize(p, `${b}1.bn`, a.norm, h, ctx));
  } else {
    h = tf.relu(normalize(p, `${b}1.bn`, a.norm, x, ctx));
    h = conv2d(p, `${b}1.conv`, upsample(p, `${b}1.deconv`, a.up, h));
  }
  const beforeSkipIns = h;
  a.skipIns.forEach((on, i) => {
    if (!on) return;
    const scale = h.shape[1] / skipFeatures[i].shape[1];
    let ft = skipFeatures[i];
    if (a.up === 'deconv') {
      for (let j = 0; 2 ** j < scale; j++) ft = deconv2x(p, `${n}.skip_up${scale}.${j}`, ft);
    } else {
      ft = a.up === 'bilinear' ? upsampleBilinear(ft, scale) : upsampleNearest(ft, scale);
    }
    h = addActivations(h, conv2d(p, `${n}.skip${i}`, ft));
  });
  // The reference returns `h_skip_out = h` and then adds the skip-ins to `h` in place, so the
  // tensor later cells receive already holds them.
  const skipOut = skipOutMode === 'with-skip-ins' ? h : beforeSkipIns;
  let out: tf.Tensor4D;
  if (a.conv === 'post') out = tf.relu(normalize(p, `${b}2.bn`, a.norm, conv2d(p, `${b}2.conv`, h), ctx));
  else out = conv2d(p, `${b}2.conv`, tf.relu(normalize(p, `${b}2.bn`, a.norm, h, ctx)));
  if (a.shortcut) {
    const up = sharedUp ?? upsample(p, `${n}.sc_deconv`, a.up, x);
    out = addActivations(out, conv2d(p, `${n}.sc`, up));
  }
  return { skipOut, out };
}

/**
 * G(z) for an architecture vector; its length sets the stage (first stage+1 cells), and the
 * output has that stage's resolution. Images in [-1, 1], NHWC.
 */
export function generate(
  p: ParamStore,
  config: GanConfig,
  arch: readonly number[],
  z: tf.Tensor2D,
  ctx: ForwardContext,
): tf.Tensor4D {
  const cells = parseArch(arch);
  const B = config.bottomWidth;
  let h = tf.reshape(linear(p, 'g.l1', z), [z.shape[0], B, B, config.gfDim]) as tf.Tensor4D;
  const skips: tf.Tensor4D[] = [];
  cells.forEach((a, s) => {
    // A scope per cell: its intermediate sums and maps go when it returns (see nn/layers.ts).
    const r = tf.tidy(() => cell(p, s, a, h, skips, ctx, config.skipOut ?? 'with-skip-ins'));
    skips.push(r.skipOut);
    h = r.out;
  });
  // A scope for the output head too: the BN output, which no gradient reads (ReLU saves its own
  // output), goes before D's forward pass starts.
  const last = h;
  return tf.tidy(() =>
    tf.tanh(conv2d(p, 'g.out.conv', tf.relu(batchNorm(p, 'g.out.bn', last, ctx)))),
  ) as tf.Tensor4D;
}

/** Trainable weight names on the path of an architecture (what should receive gradients). */
export function pathWeights(config: GanConfig, arch: readonly number[]): string[] {
  return generatorSpecs(config, arch)
    .filter((s) => s.trainable)
    .map((s) => s.name);
}
