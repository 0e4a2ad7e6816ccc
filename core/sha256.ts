// The sha256 of a file, read in 1 MiB pieces: checkpoints and the FID Inception weights (~100 MB)
// are never held in memory twice to be hashed.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

const CHUNK = 1 << 20;

/** The file's sha256 as 64 hex digits. */
export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n; (n = fs.readSync(fd, buf, 0, CHUNK, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}
