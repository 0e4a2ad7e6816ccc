import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../atomic-write';
import { encodePng } from '../datasets/png-folder';

/** Writes images in [-1, 1] as one PNG grid (quantized like the reference's saved samples). */
export function saveGrid(file: string, images: tf.Tensor4D, cols = 8, pad = 2): void {
  const [n, h, w, c] = images.shape;
  const rows = Math.ceil(n / cols);
  const H = rows * (h + pad) + pad;
  const W = cols * (w + pad) + pad;
  const src = images.dataSync();
  const out = new Float32Array(H * W * c).fill(-1);
  for (let i = 0; i < n; i++) {
    const oy = pad + Math.floor(i / cols) * (h + pad);
    const ox = pad + (i % cols) * (w + pad);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((oy + y) * W + ox + x) * c + k] = src[((i * h + y) * w + x) * c + k];
  }
  writeFileAtomic(file, encodePng(out, W, H, c));
}
