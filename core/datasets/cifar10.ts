// CIFAR-10 "binary version": data_batch_1..5.bin, each 10,000 records of 1 label byte + 3072 CHW bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetError, type Dataset } from './types';

const RECORD = 1 + 3 * 32 * 32;
export const CIFAR10_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR10_FILE_BYTES = 10000 * RECORD;

export function openCifar10(dir: string): Dataset {
  const files = CIFAR10_FILES.map((f) => path.join(dir, f));
  for (const file of files) {
    if (!fs.existsSync(file)) {
      throw new DatasetError(
        `CIFAR-10: missing file ${file} (expected data_batch_1..5.bin of the binary version)`,
      );
    }
    const size = fs.statSync(file).size;
    if (size !== CIFAR10_FILE_BYTES) {
      throw new DatasetError(
        `CIFAR-10: ${file} has ${size} bytes, expected ${CIFAR10_FILE_BYTES} (10000 records of ${RECORD} bytes)`,
      );
    }
  }
  const perFile = 10000;
  const fds: number[] = [];
  const buf = Buffer.alloc(RECORD);
  // Reads one record on demand: the 150 MB of images never sit in memory at once.
  const record = (i: number): Buffer => {
    const f = Math.floor(i / perFile);
    fds[f] ??= fs.openSync(files[f], 'r');
    fs.readSync(fds[f], buf, 0, RECORD, (i % perFile) * RECORD);
    return buf;
  };
  return {
    name: `cifar10 (${dir})`,
    count: files.length * perFile,
    height: 32,
    width: 32,
    channels: 3,
    files,
    label: (i) => record(i)[0],
    read(start, n) {
      const out = new Float32Array(n * 3072);
      for (let k = 0; k < n; k++) {
        const rec = record(start + k);
        for (let c = 0; c < 3; c++)
          for (let p = 0; p < 1024; p++) out[k * 3072 + p * 3 + c] = rec[1 + c * 1024 + p] / 127.5 - 1;
      }
      return out;
    },
  };
}
