// The artifact store: a directory, content-addressed. An object is written to a temp file, hashed,
// and renamed to objects/<sha256>.<ext>; its reference is "<sha256>.<ext>", small enough for
// workflow history. Reading verifies the hash, so a corrupt or swapped file is caught.
// This is the local primitive; services/artifact-store.ts puts it (or S3-compatible storage with
// it as a read-through cache) behind the interface the services use.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointError } from './checkpoint/format';

export type ArtifactRef = string;

/** Where a reference's file lives in the store at `root` (the reference checked first). */
export function artifactPath(root: string, ref: ArtifactRef): string {
  if (!/^[0-9a-f]{64}\.[a-z0-9]+$/.test(ref))
    throw new CheckpointError(`"${ref}" is not an artifact reference`);
  return path.join(root, 'objects', ref.slice(0, 2), ref);
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** A fresh temp file name on the store's filesystem (renamed into objects/ when complete). */
export function tempPath(root: string, ext: string): string {
  const tmpDir = path.join(root, 'tmp');
  fs.mkdirSync(tmpDir, { recursive: true });
  return path.join(tmpDir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.${ext}`);
}

/** Stores what `write(tmpFile)` writes (atomically) and returns its content reference. */
export function putArtifact(root: string, ext: string, write: (tmpFile: string) => void): ArtifactRef {
  const tmp = tempPath(root, ext);
  write(tmp);
  const ref = `${sha256File(tmp)}.${ext}`;
  const dest = artifactPath(root, ref);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (fs.existsSync(dest)) fs.rmSync(tmp);
  else fs.renameSync(tmp, dest);
  return ref;
}

/** The file of a reference, after checking it exists and still has its hash. */
export function getArtifact(root: string, ref: ArtifactRef): string {
  const file = artifactPath(root, ref);
  if (!fs.existsSync(file))
    throw new CheckpointError(`artifact ${ref} is missing from the store ${root} (${file})`);
  const got = sha256File(file);
  if (`${got}.${ref.split('.').pop()}` !== ref)
    throw new CheckpointError(`artifact ${file} is corrupt: its sha256 is ${got}`);
  return file;
}

/** A run's human-facing output folder (results, sample grids, state): <root>/<workflow id>. */
export function runDir(root: string, runId: string): string {
  const dir = path.join(root, runId.replace(/[^A-Za-z0-9._-]/g, '_'));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
