// A folder of PNG images (any names ending in .png, sorted), all of one size; grey or colour.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { DatasetError, type Dataset } from './types';

function decode(file: string): PNG {
  try {
    return PNG.sync.read(fs.readFileSync(file));
  } catch (err) {
    throw new DatasetError(`PNG folder: ${file} is not a readable PNG (${(err as Error).message})`);
  }
}

export function openPngFolder(dir: string, channels: 1 | 3 = 3): Dataset {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new DatasetError(`PNG folder: ${dir} is not a directory`);
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.png'))
    .sort()
    .map((f) => path.join(dir, f));
  if (files.length === 0) throw new DatasetError(`PNG folder: ${dir} has no .png files`);
  const first = decode(files[0]);
  const { width, height } = first;
  return {
    name: `png folder (${dir})`,
    count: files.length,
    height,
    width,
    channels,
    files,
    label: () => undefined,
    read(start, n) {
      const out = new Float32Array(n * height * width * channels);
      for (let k = 0; k < n; k++) {
        const file = files[start + k];
        const png = decode(file);
        if (png.width !== width || png.height !== height) {
          throw new DatasetError(
            `PNG folder: ${file} is ${png.width}×${png.height}, expected ${width}×${height} like ${files[0]}`,
          );
        }
        for (let p = 0; p < width * height; p++) {
          const [r, g, b] = [png.data[p * 4], png.data[p * 4 + 1], png.data[p * 4 + 2]];
          if (channels === 1) out[k * width * height + p] = (r + g + b) / 3 / 127.5 - 1;
          else
            for (const [c, v] of [r, g, b].entries()) out[(k * width * height + p) * 3 + c] = v / 127.5 - 1;
        }
      }
      return out;
    },
  };
}

/** Writes images in [-1, 1] (NHWC float data) as PNG files, quantized like the reference. */
export function encodePng(
  data: Float32Array | Uint8Array,
  width: number,
  height: number,
  channels: number,
  offset = 0,
): Buffer {
  const png = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const v = data[offset + p * channels + (channels === 1 ? 0 : c)];
      png.data[p * 4 + c] =
        data instanceof Uint8Array ? v : Math.min(255, Math.max(0, Math.trunc(v * 127.5 + 127.5)));
    }
    png.data[p * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}
