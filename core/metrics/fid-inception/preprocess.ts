// Image preparation exactly as the original IS and FID code feeds the 2015 Inception graph: 8-bit
// pixels, bilinear resize to 299×299 inside the graph with TensorFlow 1's legacy semantics, then
// (x − 128) / 128 (the graph's own Sub and Mul nodes).
//
// The resize mode matters for comparability: pytorch-fid resizes with
// F.interpolate(bilinear, align_corners=False), i.e. half-pixel centres, which is NOT what the TF
// graph did; torch-fidelity reimplements the TF1 behaviour. We follow the TF1 graph.
import * as tf from '@tensorflow/tfjs';
import { INPUT_SIZE } from './spec';

/**
 * TF1 `tf.image.resize_bilinear(align_corners=False)` (before half_pixel_centers existed): output
 * pixel d samples the input at d · (in / out), interpolating between floor and ceil of that
 * position (clamped to the last row/column); the image's corners are not aligned. tfjs implements
 * this mode on every backend when both flags are false; they are spelled out so nobody "fixes"
 * them to the modern default.
 */
export function resizeBilinearTf1Legacy(images: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  if (images.shape[1] === height && images.shape[2] === width) return images.clone();
  const alignCorners = false;
  const halfPixelCenters = false;
  return tf.image.resizeBilinear(images, [height, width], alignCorners, halfPixelCenters);
}

/**
 * Images in [-1, 1] that are already 8-bit values (what `quantize` leaves, as the evaluator
 * passes them) → the 0..255 pixel values they stand for. Rounding, not truncation, recovers the
 * integer exactly although q / 127.5 − 1 is not exact in float32; the truncation to 8 bits itself
 * is `quantize`'s job, as in the AutoGAN code.
 */
export function pixelsFromUnit(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.round(tf.mul(tf.add(images, 1), 127.5)), 0, 255) as tf.Tensor4D);
}

/**
 * 0..255 pixel values, NHWC with 1 or 3 channels, any size → the network's input: 3 channels,
 * 299×299 by TF1 legacy bilinear, scaled to (x − 128) / 128.
 */
export function networkInputFromPixels(pixels: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    let x = tf.cast(pixels, 'float32') as tf.Tensor4D;
    if (x.shape[3] === 1) x = tf.tile(x, [1, 1, 1, 3]);
    else if (x.shape[3] !== 3)
      throw new Error(`fid-inception: images need 1 or 3 channels, got ${x.shape[3]}`);
    x = resizeBilinearTf1Legacy(x, INPUT_SIZE, INPUT_SIZE);
    return tf.div(tf.sub(x, 128), 128) as tf.Tensor4D;
  });
}
