// The FID Inception (the 2015-12-05 Inception graph as pytorch-fid and torch-fidelity port it)
// from tfjs ops: NHWC, batch norm folded into the convolutions, pool_3 features and the IS code's
// unbiased 1008-class logits. Quirks of the 2015 graph that differ from a stock Inception-v3:
// average pools in the mixed blocks leave the zero padding out of the mean (TF's SAME average pool
// does that; tfjs follows TF on every backend), the last mixed block (Mixed_7c) pools with max
// instead of average, batch norm eps is 1e-3, and the logits carry no bias.
import * as tf from '@tensorflow/tfjs';
import type { FeatureNetwork } from '../features';
import { networkInputFromPixels, pixelsFromUnit } from './preprocess';
import {
  BN_EPS,
  CLASSES,
  CONVS,
  FEATURE_DIM,
  compareStateDict,
  describeMismatch,
  type BlockName,
  type ConvSpec,
} from './spec';
import type { StateDict } from './synthetic';

export interface FidInceptionOptions {
  /**
   * Images per forward pass; larger inputs are split so memory stays bounded (on the native
   * backend about 40 MB of process memory per image of a pass; throughput is flat from ~25 up).
   * @default 32
   */
  maxBatch?: number;
  /**
   * Fold each batch norm into its convolution's filter and bias (faster). Off applies the affine
   * after the convolution, in the order torch evaluates it; the results agree to float32 rounding.
   * @default true
   */
  foldBatchNorm?: boolean;
  /**
   * Run the 1x1 convolutions that read the same block input as one wider convolution and split
   * the result (fewer, larger matrix products). Only with folded batch norm.
   * @default true
   */
  mergeHeads?: boolean;
  /** Shown in results and logs. @default 'fid-inception' */
  name?: string;
}

interface Conv {
  spec: ConvSpec;
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  /** Present when batch norm is not folded: multiplies the convolution's output per channel. */
  scale?: tf.Tensor1D;
}

interface MergedHeads {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  sizes: number[];
}

/** The 1x1 convolutions of each mixed block that share the block's input. */
function headGroups(): string[][] {
  const groups: string[][] = [];
  for (const p of ['Mixed_5b', 'Mixed_5c', 'Mixed_5d'])
    groups.push([`${p}.branch1x1`, `${p}.branch5x5_1`, `${p}.branch3x3dbl_1`]);
  for (const p of ['Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e'])
    groups.push([`${p}.branch1x1`, `${p}.branch7x7_1`, `${p}.branch7x7dbl_1`]);
  groups.push(['Mixed_7a.branch3x3_1', 'Mixed_7a.branch7x7x3_1']);
  for (const p of ['Mixed_7b', 'Mixed_7c'])
    groups.push([`${p}.branch1x1`, `${p}.branch3x3_1`, `${p}.branch3x3dbl_1`]);
  return groups;
}

export interface FidInceptionOutput {
  /** [N, 2048] pool_3 features (FID). */
  pool3: tf.Tensor2D;
  /** [N, 1008] pool_3 · Wᵀ without the bias (the IS code's logits). */
  logits: tf.Tensor2D;
}

export class FidInception implements FeatureNetwork {
  readonly name: string;
  readonly classes = CLASSES;
  readonly featureDim = FEATURE_DIM;
  private readonly convs = new Map<string, Conv>();
  private readonly merged = new Map<string, MergedHeads>();
  /** fc weight transposed to [2048, 1008]. */
  private readonly fc: tf.Tensor2D;
  private readonly maxBatch: number;
  private disposed = false;

  /**
   * Builds the network from a state dict with the published names and shapes (torch layout);
   * throws naming every missing, unknown or mis-shaped tensor. The dict's arrays are copied.
   */
  static fromStateDict(state: StateDict, o: FidInceptionOptions = {}): FidInception {
    const problems = describeMismatch(compareStateDict([...state].map(([k, v]) => [k, v.shape])));
    if (problems) throw new Error(`fid-inception: the weights do not match the network:\n${problems}`);
    return new FidInception(state, o);
  }

  private constructor(state: StateDict, o: FidInceptionOptions) {
    this.name = o.name ?? 'fid-inception';
    this.maxBatch = o.maxBatch ?? 32;
    const fold = o.foldBatchNorm ?? true;
    const get = (k: string) => state.get(k)!.data;
    for (const spec of CONVS) {
      const w = get(`${spec.name}.conv.weight`);
      const gamma = get(`${spec.name}.bn.weight`);
      const beta = get(`${spec.name}.bn.bias`);
      const mean = get(`${spec.name}.bn.running_mean`);
      const variance = get(`${spec.name}.bn.running_var`);
      const O = spec.outChannels;
      const I = spec.inChannels;
      const [KH, KW] = spec.kernel;
      // Batch norm at inference is a per-channel affine: y = conv·α + (β − μα), α = γ/√(σ²+ε).
      const alpha = new Float64Array(O);
      const bias = new Float32Array(O);
      for (let c = 0; c < O; c++) {
        alpha[c] = gamma[c] / Math.sqrt(variance[c] + BN_EPS);
        bias[c] = beta[c] - mean[c] * alpha[c];
      }
      // torch OIHW → tfjs HWIO.
      const filter = new Float32Array(w.length);
      for (let oc = 0; oc < O; oc++)
        for (let ic = 0; ic < I; ic++)
          for (let kh = 0; kh < KH; kh++)
            for (let kw = 0; kw < KW; kw++) {
              const v = w[((oc * I + ic) * KH + kh) * KW + kw];
              filter[((kh * KW + kw) * I + ic) * O + oc] = fold ? v * alpha[oc] : v;
            }
      this.convs.set(spec.name, {
        spec,
        filter: tf.tensor4d(filter, [KH, KW, I, O]),
        bias: tf.tensor1d(bias),
        ...(fold ? {} : { scale: tf.tensor1d(Float32Array.from(alpha)) }),
      });
    }
    if ((o.mergeHeads ?? true) && fold) {
      for (const group of headGroups()) {
        const parts = group.map((n) => this.convs.get(n)!);
        this.merged.set(group.join('+'), {
          filter: tf.concat(
            parts.map((p) => p.filter),
            3,
          ),
          bias: tf.concat(parts.map((p) => p.bias)),
          sizes: parts.map((p) => p.spec.outChannels),
        });
        for (const p of parts) {
          p.filter.dispose();
          p.bias.dispose();
          this.convs.delete(p.spec.name);
        }
      }
    }
    const fcw = state.get('fc.weight')!;
    this.fc = tf.tidy(() => tf.transpose(tf.tensor2d(fcw.data, [CLASSES, FEATURE_DIM])));
  }

  private conv(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const c = this.convs.get(name);
    if (!c) throw new Error(`fid-inception: no convolution ${name}`);
    const strides: [number, number] = [c.spec.stride, c.spec.stride];
    if (!c.scale)
      return tf.fused.conv2d({
        x,
        filter: c.filter,
        strides,
        pad: c.spec.padding,
        bias: c.bias,
        activation: 'relu',
      });
    return tf.relu(
      tf.add(tf.mul(tf.conv2d(x, c.filter, strides, c.spec.padding), c.scale), c.bias),
    ) as tf.Tensor4D;
  }

  /** Several 1x1 convolutions of the same input, merged when the network was built that way. */
  private heads(x: tf.Tensor4D, names: string[]): tf.Tensor4D[] {
    const m = this.merged.get(names.join('+'));
    if (!m) return names.map((n) => this.conv(n, x));
    const y = tf.fused.conv2d({
      x,
      filter: m.filter,
      strides: 1,
      pad: 'valid',
      bias: m.bias,
      activation: 'relu',
    });
    return tf.split(y, m.sizes, 3);
  }

  private avgPool3(x: tf.Tensor4D): tf.Tensor4D {
    // TF's SAME average pool divides by the number of real (non-padding) inputs in the window:
    // count_include_pad=False in the torch port.
    return tf.avgPool(x, 3, 1, 'same');
  }

  private mixedA(p: string, x: tf.Tensor4D): tf.Tensor4D {
    const [b1, b5, b3] = this.heads(x, [`${p}.branch1x1`, `${p}.branch5x5_1`, `${p}.branch3x3dbl_1`]);
    return tf.concat(
      [
        b1,
        this.conv(`${p}.branch5x5_2`, b5),
        this.conv(`${p}.branch3x3dbl_3`, this.conv(`${p}.branch3x3dbl_2`, b3)),
        this.conv(`${p}.branch_pool`, this.avgPool3(x)),
      ],
      3,
    );
  }

  private mixedB(p: string, x: tf.Tensor4D): tf.Tensor4D {
    const dbl = this.conv(`${p}.branch3x3dbl_2`, this.conv(`${p}.branch3x3dbl_1`, x));
    return tf.concat(
      [this.conv(`${p}.branch3x3`, x), this.conv(`${p}.branch3x3dbl_3`, dbl), tf.maxPool(x, 3, 2, 'valid')],
      3,
    );
  }

  private mixedC(p: string, x: tf.Tensor4D): tf.Tensor4D {
    const [b1, b7, bd] = this.heads(x, [`${p}.branch1x1`, `${p}.branch7x7_1`, `${p}.branch7x7dbl_1`]);
    let dbl = bd;
    for (const k of [2, 3, 4, 5]) dbl = this.conv(`${p}.branch7x7dbl_${k}`, dbl);
    return tf.concat(
      [
        b1,
        this.conv(`${p}.branch7x7_3`, this.conv(`${p}.branch7x7_2`, b7)),
        dbl,
        this.conv(`${p}.branch_pool`, this.avgPool3(x)),
      ],
      3,
    );
  }

  private mixedD(p: string, x: tf.Tensor4D): tf.Tensor4D {
    const [b3, b7] = this.heads(x, [`${p}.branch3x3_1`, `${p}.branch7x7x3_1`]);
    let b7x3 = b7;
    for (const k of [2, 3, 4]) b7x3 = this.conv(`${p}.branch7x7x3_${k}`, b7x3);
    return tf.concat([this.conv(`${p}.branch3x3_2`, b3), b7x3, tf.maxPool(x, 3, 2, 'valid')], 3);
  }

  /** Mixed_7b pools with average (padding excluded), Mixed_7c with max: the 2015 graph's quirk. */
  private mixedE(p: string, x: tf.Tensor4D, pool: 'avg' | 'max'): tf.Tensor4D {
    const [b1, b3, bd] = this.heads(x, [`${p}.branch1x1`, `${p}.branch3x3_1`, `${p}.branch3x3dbl_1`]);
    const dbl = this.conv(`${p}.branch3x3dbl_2`, bd);
    const pooled = pool === 'avg' ? this.avgPool3(x) : tf.maxPool(x, 3, 1, 'same');
    return tf.concat(
      [
        b1,
        this.conv(`${p}.branch3x3_2a`, b3),
        this.conv(`${p}.branch3x3_2b`, b3),
        this.conv(`${p}.branch3x3dbl_3a`, dbl),
        this.conv(`${p}.branch3x3dbl_3b`, dbl),
        this.conv(`${p}.branch_pool`, pooled),
      ],
      3,
    );
  }

  /**
   * The network on prepared input ([N, 299, 299, 3], values (x − 128)/128). Each block runs in its
   * own tidy and the previous block's output is released at once, so only one block's
   * activations are alive at a time. `onBlock` sees every block's output before it is released.
   * The caller owns (and disposes) the result; `input` is left alone.
   */
  forward(input: tf.Tensor4D, onBlock?: (name: BlockName, output: tf.Tensor4D) => void): FidInceptionOutput {
    if (this.disposed) throw new Error('fid-inception: the network was disposed');
    let x = input;
    const step = (name: BlockName, f: (t: tf.Tensor4D) => tf.Tensor4D) => {
      const y = tf.tidy(() => f(x));
      if (x !== input) x.dispose();
      x = y;
      onBlock?.(name, x);
    };
    step('Conv2d_1a_3x3', (t) => this.conv('Conv2d_1a_3x3', t));
    step('Conv2d_2a_3x3', (t) => this.conv('Conv2d_2a_3x3', t));
    step('Conv2d_2b_3x3', (t) => this.conv('Conv2d_2b_3x3', t));
    step('MaxPool_3a_3x3', (t) => tf.maxPool(t, 3, 2, 'valid'));
    step('Conv2d_3b_1x1', (t) => this.conv('Conv2d_3b_1x1', t));
    step('Conv2d_4a_3x3', (t) => this.conv('Conv2d_4a_3x3', t));
    step('MaxPool_5a_3x3', (t) => tf.maxPool(t, 3, 2, 'valid'));
    step('Mixed_5b', (t) => this.mixedA('Mixed_5b', t));
    step('Mixed_5c', (t) => this.mixedA('Mixed_5c', t));
    step('Mixed_5d', (t) => this.mixedA('Mixed_5d', t));
    step('Mixed_6a', (t) => this.mixedB('Mixed_6a', t));
    step('Mixed_6b', (t) => this.mixedC('Mixed_6b', t));
    step('Mixed_6c', (t) => this.mixedC('Mixed_6c', t));
    step('Mixed_6d', (t) => this.mixedC('Mixed_6d', t));
    step('Mixed_6e', (t) => this.mixedC('Mixed_6e', t));
    step('Mixed_7a', (t) => this.mixedD('Mixed_7a', t));
    step('Mixed_7b', (t) => this.mixedE('Mixed_7b', t, 'avg'));
    step('Mixed_7c', (t) => this.mixedE('Mixed_7c', t, 'max'));
    step('pool_3', (t) => tf.mean(t, [1, 2], true));
    const last = x;
    const out = tf.tidy(() => {
      const pool3 = tf.reshape(last, [last.shape[0], FEATURE_DIM]) as tf.Tensor2D;
      return { pool3, logits: tf.matMul(pool3, this.fc) as tf.Tensor2D };
    });
    if (last !== input) last.dispose();
    return out;
  }

  /** 0..255 pixel values (NHWC, 1 or 3 channels, any size) → pool_3 and logits, in batches. */
  runPixels(pixels: tf.Tensor4D): FidInceptionOutput {
    const n = pixels.shape[0];
    const parts: FidInceptionOutput[] = [];
    for (let at = 0; at < n; at += this.maxBatch) {
      const k = Math.min(this.maxBatch, n - at);
      const x = tf.tidy(() =>
        networkInputFromPixels(k === n ? pixels : tf.slice(pixels, [at, 0, 0, 0], [k, -1, -1, -1])),
      );
      try {
        parts.push(this.forward(x));
      } finally {
        x.dispose();
      }
    }
    if (parts.length === 1) return parts[0];
    const out = tf.tidy(() => ({
      pool3: tf.concat(parts.map((p) => p.pool3)),
      logits: tf.concat(parts.map((p) => p.logits)),
    }));
    for (const p of parts) tf.dispose([p.pool3, p.logits]);
    return out;
  }

  /**
   * FeatureNetwork: images in [-1, 1] holding 8-bit values (evaluateImages quantizes them first)
   * → softmax of the unbiased logits (IS) and pool_3 (FID).
   */
  run(images: tf.Tensor4D): { probs: tf.Tensor2D; features: tf.Tensor2D } {
    const pixels = pixelsFromUnit(images);
    const { pool3, logits } = this.runPixels(pixels);
    pixels.dispose();
    const probs = tf.softmax(logits);
    logits.dispose();
    return { probs, features: pool3 };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.convs.values()) tf.dispose([c.filter, c.bias, ...(c.scale ? [c.scale] : [])]);
    for (const m of this.merged.values()) tf.dispose([m.filter, m.bias]);
    this.fc.dispose();
    this.convs.clear();
    this.merged.clear();
  }
}
