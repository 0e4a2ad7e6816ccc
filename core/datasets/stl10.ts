// STL-10 binary version: train_X.bin (5,000 images) and unlabeled_X.bin (100,000), uint8, each
// image 3×96×96 stored channel by channel, each channel column-major. Read lazily from disk so the
// 100k images never sit in memory; resized to 48×48 (2×2 average) for the paper's transfer setting.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetError, type Dataset } from './types';

const SIDE = 96;
const IMAGE_BYTES = 3 * SIDE * SIDE;
export const STL10_FILES = ['train_X.bin', 'unlabeled_X.bin'];

export function openStl10(dir: string, opts: { files?: string[]; size?: number } = {}): Dataset {
  const names = opts.files ?? STL10_FILES;
  const size = opts.size ?? 48;
  if (SIDE % size !== 0)
    throw new DatasetError(`STL-10: image size ${size} must divide 96 (48 for the paper's setting)`);
  const parts = names.map((n) => {
    const file = path.join(dir, n);
    if (!fs.existsSync(file))
      throw new DatasetError(
        `STL-10: missing file ${file} (expected ${names.join(' and ')} of the binary version)`,
      );
    const bytes = fs.statSync(file).size;
    if (bytes === 0 || bytes % IMAGE_BYTES !== 0) {
      throw new DatasetError(
        `STL-10: ${file} has ${bytes} bytes, expected a non-zero multiple of ${IMAGE_BYTES} (3×96×96 per image)`,
      );
    }
    return { file, count: bytes / IMAGE_BYTES };
  });
  const count = parts.reduce((a, p) => a + p.count, 0);
  const f = SIDE / size;
  const fds = new Map<string, number>();
  const fd = (file: string) => {
    let d = fds.get(file);
    if (d === undefined) fds.set(file, (d = fs.openSync(file, 'r')));
    return d;
  };
  const buf = Buffer.alloc(IMAGE_BYTES);
  return {
    name: `stl10 (${dir})`,
    count,
    height: size,
    width: size,
    channels: 3,
    files: parts.map((p) => p.file),
    label: () => undefined,
    read(start, n) {
      const out = new Float32Array(n * size * size * 3);
      for (let k = 0; k < n; k++) {
        let i = start + k;
        const part = parts.find((p) => (i < p.count ? true : ((i -= p.count), false)))!;
        fs.readSync(fd(part.file), buf, 0, IMAGE_BYTES, i * IMAGE_BYTES);
        const base = k * size * size * 3;
        for (let c = 0; c < 3; c++) {
          for (let y = 0; y < size; y++) {
            for (let x = 0; x < size; x++) {
              let sum = 0;
              for (let dy = 0; dy < f; dy++)
                for (let dx = 0; dx < f; dx++)
                  sum += buf[c * SIDE * SIDE + (x * f + dx) * SIDE + (y * f + dy)];
              out[base + (y * size + x) * 3 + c] = sum / (f * f) / 127.5 - 1;
            }
          }
        }
      }
      return out;
    },
  };
}
