// One checkpoint format for every model: a single file holding a JSON manifest (tensor names,
// shapes, dtypes, byte ranges, sha256 of each blob, backend, versions, free-form state) followed by
// the raw little-endian tensor blobs. Written atomically; loading verifies everything it can.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../atomic-write';
import { currentBackend } from '../backend';

const MAGIC = Buffer.from('AGCKPT01');
const FORMAT_VERSION = 1;

export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  bytes: number;
  sha256: string;
}

export interface Manifest<S = unknown> {
  format: number;
  kind: string;
  /**
   * Written by earlier versions only (still read): a time inside the hashed bytes made every save
   * of the same state a new object. The file's mtime says when it was stored.
   */
  createdAt?: string;
  backend?: string;
  versions: Record<string, string>;
  tensors: TensorEntry[];
  state: S;
}

export interface LoadedCheckpoint<S = unknown> {
  file: string;
  manifest: Manifest<S>;
  tensors: Map<string, tf.Tensor>;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

export interface SaveOptions<S> {
  kind: string;
  state: S;
  tensors: Record<string, tf.Tensor>;
  /** Default: the backend this process selected, so every checkpoint records it. */
  backend?: string;
  versions?: Record<string, string>;
}

/**
 * Writes the checkpoint; returns its sha256 (used as the artifact's content address). The bytes are
 * a function of the content alone (tensors, state, kind, backend, versions; no time, no process
 * id), so saving the same state twice gives the same object and the store keeps it once.
 */
export function saveCheckpoint<S>(file: string, opts: SaveOptions<S>): string {
  const entries: TensorEntry[] = [];
  const blobs: Buffer[] = [];
  let offset = 0;
  for (const name of Object.keys(opts.tensors).sort()) {
    const t = opts.tensors[name];
    if (t.dtype !== 'float32' && t.dtype !== 'int32')
      throw new Error(`checkpoint tensor ${name} has unsupported dtype ${t.dtype}`);
    const data = t.dataSync() as Float32Array | Int32Array;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    entries.push({
      name,
      shape: [...t.shape],
      dtype: t.dtype,
      offset,
      bytes: buf.length,
      sha256: sha256(buf),
    });
    blobs.push(Buffer.from(buf));
    offset += buf.length;
  }
  const manifest: Manifest<S> = {
    format: FORMAT_VERSION,
    kind: opts.kind,
    ...((opts.backend ?? currentBackend()?.package)
      ? { backend: opts.backend ?? currentBackend()?.package }
      : {}),
    versions: { tfjs: tf.version_core, ...(opts.versions ?? {}) },
    tensors: entries,
    state: opts.state,
  };
  const json = Buffer.from(JSON.stringify(manifest));
  const header = Buffer.alloc(MAGIC.length + 8);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(json.length, MAGIC.length);
  header.writeUInt32LE(0, MAGIC.length + 4);
  const all = Buffer.concat([header, json, ...blobs]);
  writeFileAtomic(file, all);
  return sha256(all);
}

function readFile(file: string): Buffer {
  if (!fs.existsSync(file)) throw new CheckpointError(`checkpoint ${file} does not exist`);
  return fs.readFileSync(file);
}

function parse<S>(file: string, buf: Buffer): { manifest: Manifest<S>; dataStart: number } {
  if (buf.length < MAGIC.length + 8 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CheckpointError(
      `${file} is not an AutoGAN checkpoint (bad magic bytes; expected "${MAGIC.toString()}")`,
    );
  }
  const jsonLen = buf.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 8 + jsonLen;
  if (dataStart > buf.length) {
    throw new CheckpointError(
      `${file} is truncated: the manifest needs ${jsonLen} bytes but the file has ${buf.length - MAGIC.length - 8}`,
    );
  }
  let manifest: Manifest<S>;
  try {
    manifest = JSON.parse(buf.subarray(MAGIC.length + 8, dataStart).toString('utf8')) as Manifest<S>;
  } catch (err) {
    throw new CheckpointError(`${file}: the manifest is not valid JSON (${(err as Error).message})`);
  }
  if (manifest.format !== FORMAT_VERSION) {
    throw new CheckpointError(
      `${file}: checkpoint format ${manifest.format}, this version reads format ${FORMAT_VERSION}`,
    );
  }
  return { manifest, dataStart };
}

/** Loads and verifies every blob (bounds, size vs shape, sha256). */
export function loadCheckpoint<S = unknown>(file: string, expectKind?: string): LoadedCheckpoint<S> {
  const buf = readFile(file);
  const { manifest, dataStart } = parse<S>(file, buf);
  if (expectKind && manifest.kind !== expectKind) {
    throw new CheckpointError(`${file} holds a "${manifest.kind}" checkpoint, expected "${expectKind}"`);
  }
  const tensors = new Map<string, tf.Tensor>();
  for (const e of manifest.tensors) {
    const start = dataStart + e.offset;
    if (start + e.bytes > buf.length) {
      tensors.forEach((t) => t.dispose());
      throw new CheckpointError(
        `${file} is truncated: tensor ${e.name} needs bytes ${start}..${start + e.bytes} but the file has ${buf.length}`,
      );
    }
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (n * 4 !== e.bytes) {
      tensors.forEach((t) => t.dispose());
      throw new CheckpointError(
        `${file}: tensor ${e.name} has shape [${e.shape}] (${n * 4} bytes) but ${e.bytes} bytes are recorded`,
      );
    }
    const blob = buf.subarray(start, start + e.bytes);
    const got = sha256(blob);
    if (got !== e.sha256) {
      tensors.forEach((t) => t.dispose());
      throw new CheckpointError(
        `${file} is corrupt: tensor ${e.name} (bytes ${start}..${start + e.bytes}) has sha256 ${got.slice(0, 12)}…, expected ${e.sha256.slice(0, 12)}…`,
      );
    }
    const copy = new Uint8Array(blob).buffer;
    const data = e.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    tensors.set(e.name, tf.tensor(data, e.shape, e.dtype));
  }
  return { file, manifest, tensors };
}

export function disposeLoaded(c: LoadedCheckpoint): void {
  c.tensors.forEach((t) => t.dispose());
  c.tensors.clear();
}

/**
 * Assigns loaded tensors to variables by name; every expected name must be present with its shape.
 * `prefix` selects one model's tensors from a checkpoint that holds several.
 */
export function assignVariables(c: LoadedCheckpoint, prefix: string, vars: Map<string, tf.Variable>): void {
  const problems: string[] = [];
  for (const [name, v] of vars) {
    const t = c.tensors.get(`${prefix}${name}`);
    if (!t) problems.push(`missing tensor ${prefix}${name}`);
    else if (t.shape.join(',') !== v.shape.join(','))
      problems.push(`tensor ${prefix}${name} has shape [${t.shape}], the model expects [${v.shape}]`);
  }
  const extra = [...c.tensors.keys()].filter(
    (k) => k.startsWith(prefix) && !vars.has(k.slice(prefix.length)),
  );
  if (extra.length)
    problems.push(
      `unexpected tensors ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''}`,
    );
  if (problems.length) {
    throw new CheckpointError(
      `${c.file} does not match the model (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.slice(0, 10).join('\n  ')}`,
    );
  }
  for (const [name, v] of vars) v.assign(c.tensors.get(`${prefix}${name}`)!);
}
