// The artifact store: a directory, content-addressed. An object is written to a temp file, hashed,
// and renamed to objects/<sha256>.<ext>; its reference is "<sha256>.<ext>", small enough for
// workflow history. Reading verifies the hash, so a corrupt or swapped file is caught.
// This is the local primitive; services/artifact-store.ts puts it (or S3-compatible storage with
// it as a read-through cache) behind the interface the services use.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { storageFailure } from './atomic-write';
import { CheckpointError } from './checkpoint/format';
import { sha256File } from './sha256';

export type ArtifactRef = string;

/** An artifact reference, whole: "<sha256>.<ext>". */
export const REF_PATTERN = /^[0-9a-f]{64}\.[a-z0-9]+$/;

/** A reference whose object is not in the store (deleted by `autogan gc`, or never there). */
export class ArtifactMissingError extends CheckpointError {
  constructor(
    message: string,
    readonly ref: ArtifactRef,
  ) {
    super(message);
  }
}

/** Where a reference's file lives in the store at `root` (the reference checked first). */
export function artifactPath(root: string, ref: ArtifactRef): string {
  if (!REF_PATTERN.test(ref)) throw new CheckpointError(`"${ref}" is not an artifact reference`);
  return path.join(root, 'objects', ref.slice(0, 2), ref);
}

function sha256OrNull(file: string): string | null {
  try {
    return sha256File(file);
  } catch {
    return null; // vanished (collected) or unreadable
  }
}

/** A fresh temp file name on the store's filesystem (renamed into objects/ when complete). */
export function tempPath(root: string, ext: string): string {
  const tmpDir = path.join(root, 'tmp');
  fs.mkdirSync(tmpDir, { recursive: true });
  return path.join(tmpDir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.${ext}`);
}

/**
 * Stores what `write(tmpFile)` writes (atomically); returns its content reference and whether this
 * call created the object (false: the same bytes were already stored). An object that was already
 * there gets a fresh mtime: the store's clock of "last stored", which `autogan gc` reads as its
 * age, so an object a writer just handed out is never collected as old. If the object vanishes
 * between the check and the touch (collected that instant), the new copy is renamed in instead.
 */
export function storeArtifact(
  root: string,
  ext: string,
  write: (tmpFile: string) => void,
): { ref: ArtifactRef; created: boolean } {
  const what = `a new ${ext} object in the artifact store ${root}`;
  let tmp: string;
  try {
    tmp = tempPath(root, ext);
  } catch (err) {
    throw storageFailure(err, what);
  }
  try {
    write(tmp);
  } catch (err) {
    // A full or read-only store: no half-written temp file stays, and the error says which it was.
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // read-only: nothing was written there either
    }
    throw storageFailure(err, what);
  }
  const ref = `${sha256File(tmp)}.${ext}`;
  const dest = artifactPath(root, ref);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  // The same bytes are stored already, unless that copy went bad (a disk fault, a stray write):
  // then the fresh, verified copy replaces it, so recomputing a result heals its stored object.
  const intact = fs.existsSync(dest) && sha256OrNull(dest) === ref.slice(0, 64);
  if (fs.existsSync(dest) && !intact)
    console.error(`[autogan] ${dest} was corrupt; replaced by a freshly written copy of the same content`);
  if (intact) {
    let touched = false;
    try {
      const now = new Date();
      fs.utimesSync(dest, now, now);
      touched = true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another user's object in a shared store: it stays as it is (only its owner may set times).
      if (code === 'EPERM' || code === 'EACCES') touched = true;
      else if (code !== 'ENOENT') throw err;
    }
    if (touched) {
      fs.rmSync(tmp);
      return { ref, created: false };
    }
  }
  fs.renameSync(tmp, dest);
  return { ref, created: true };
}

/** Stores what `write(tmpFile)` writes (atomically) and returns its content reference. */
export function putArtifact(root: string, ext: string, write: (tmpFile: string) => void): ArtifactRef {
  return storeArtifact(root, ext, write).ref;
}

/**
 * Removes one object by its exact reference (nothing else: no patterns). For scratch objects that
 * their writer created and nothing references (a finished activity's intermediate checkpoints).
 */
export function removeArtifact(root: string, ref: ArtifactRef): number {
  const file = artifactPath(root, ref);
  try {
    const bytes = fs.statSync(file).size;
    fs.unlinkSync(file);
    return bytes;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/** The file of a reference, after checking it exists and still has its hash. */
export function getArtifact(root: string, ref: ArtifactRef): string {
  const file = artifactPath(root, ref);
  if (!fs.existsSync(file))
    throw new ArtifactMissingError(`artifact ${ref} is missing from the store ${root} (${file})`, ref);
  const got = sha256File(file);
  if (`${got}.${ref.split('.').pop()}` !== ref)
    throw new CheckpointError(`artifact ${file} is corrupt: its sha256 is ${got}`);
  return file;
}

/**
 * An id as a file or folder name: every character but letters, digits, `.`, `_` and `-` becomes
 * `_`. One rule for every run folder, so whoever looks for a run's files finds them.
 */
export function safeName(id: string): string {
  const name = id.replace(/[^A-Za-z0-9._-]/g, '_');
  // "", "." and ".." name no folder of their own (".." would be the store's parent).
  return /^\.*$/.test(name) ? `_${name.replace(/\./g, '_')}` : name;
}

/** Where a run's folder is, without creating it (for readers). */
export function runFolderOf(root: string, runId: string): string {
  return path.join(root, safeName(runId));
}

/** A run's human-facing output folder (results, sample grids, state): <root>/<workflow id>, created. */
export function runDir(root: string, runId: string): string {
  const dir = runFolderOf(root, runId);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
