import * as fs from 'node:fs';
import * as path from 'node:path';

/** A write that failed for lack of space or a read-only filesystem: what to tell the operator. */
export function storageFailure(err: unknown, file: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOSPC'
      ? 'no space left on the device'
      : code === 'EROFS'
        ? 'the filesystem is read-only'
        : code === 'EDQUOT'
          ? 'the disk quota is exhausted'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : undefined;
  if (!why) return err as Error;
  const e = new Error(
    `cannot write ${file}: ${why} (${code}); nothing was replaced: the previous version, if any, is intact`,
  );
  e.name = 'StorageFullError';
  (e as NodeJS.ErrnoException).code = code;
  return e;
}

/** Writes a file so readers see the old or the new content, never half of it: temp, fsync, rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      // writeSync may write less than asked (a filling disk writes what fits and says so only on
      // the next call): loop until all is written, so a short write becomes ENOSPC, not a short file.
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      for (let off = 0; off < buf.length;) off += fs.writeSync(fd, buf, off, buf.length - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    // A full or read-only disk: leave no half-written temp file behind, and say what happened.
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // a read-only filesystem: nothing was written there either
    }
    throw storageFailure(err, file);
  }
  // fsync the directory so the rename itself survives a crash.
  const dfd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}
