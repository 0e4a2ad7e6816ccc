// Mini-batches for training: seeded shuffling per epoch, resizing to the stage's resolution and
// channel conversion. Its state (epoch, cursor, the RNG state the epoch's order came from) goes into
// checkpoints so a resumed run sees the same batches.
import * as tf from '@tensorflow/tfjs';
import { Rng, type RngState } from '../rng';
import type { Dataset } from './types';

export interface LoaderState {
  epoch: number;
  cursor: number;
  /** RNG state from which this epoch's permutation was drawn. */
  epochRng: RngState;
  /** RNG state for the next epoch. */
  rng: RngState;
}

export interface LoaderOptions {
  batchSize: number;
  imageSize: number;
  channels: number;
  /** Use only the first N images. */
  limit?: number;
}

/** Converts HWC float images of one size to [n, size, size, channels] (area average when shrinking by a whole factor). */
export function prepareImages(
  data: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
  size: number,
  channels: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    let x = tf.tensor4d(data, [n, h, w, c]);
    if (h === 28 && w === 28)
      x = tf.pad(
        x,
        [
          [0, 0],
          [2, 2],
          [2, 2],
          [0, 0],
        ],
        -1,
      ); // digits: 28 → 32 with background
    const side = x.shape[1];
    if (side !== size) {
      x =
        side % size === 0
          ? tf.avgPool(x, side / size, side / size, 'valid')
          : tf.image.resizeBilinear(x, [size, size], false, true);
    }
    if (c === 1 && channels === 3) x = tf.tile(x, [1, 1, 1, 3]);
    else if (c === 3 && channels === 1) x = tf.mean(x, 3, true);
    return x as tf.Tensor4D;
  });
}

export class BatchLoader {
  private order: Uint32Array;
  private st: LoaderState;
  readonly count: number;

  constructor(
    readonly dataset: Dataset,
    readonly opts: LoaderOptions,
    seedOrState: number | LoaderState,
  ) {
    this.count = Math.min(dataset.count, opts.limit ?? dataset.count);
    if (this.count < opts.batchSize) {
      throw new Error(
        `dataset ${dataset.name} has ${this.count} images, fewer than one batch of ${opts.batchSize}`,
      );
    }
    if (typeof seedOrState === 'number') {
      const rng = new Rng(seedOrState);
      const epochRng = rng.state();
      this.order = rng.permutation(this.count);
      this.st = { epoch: 0, cursor: 0, epochRng, rng: rng.state() };
    } else {
      this.st = structuredClone(seedOrState);
      this.order = new Rng(this.st.epochRng).permutation(this.count);
    }
  }

  state(): LoaderState {
    return structuredClone(this.st);
  }

  /** Batches per epoch (the last incomplete batch is dropped). */
  get batchesPerEpoch(): number {
    return Math.floor(this.count / this.opts.batchSize);
  }

  next(): tf.Tensor4D {
    const b = this.opts.batchSize;
    if (this.st.cursor + b > this.count) {
      const rng = new Rng(this.st.rng);
      this.st.epochRng = rng.state();
      this.order = rng.permutation(this.count);
      this.st = { epoch: this.st.epoch + 1, cursor: 0, epochRng: this.st.epochRng, rng: rng.state() };
    }
    const { height: h, width: w, channels: c } = this.dataset;
    const per = h * w * c;
    const data = new Float32Array(b * per);
    for (let k = 0; k < b; k++) data.set(this.dataset.read(this.order[this.st.cursor + k], 1), k * per);
    this.st.cursor += b;
    return prepareImages(data, b, h, w, c, this.opts.imageSize, this.opts.channels);
  }
}
