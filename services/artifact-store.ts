// The artifact store behind one interface, with two backends: the local content-addressed
// directory (core/artifacts, the default) and S3-compatible object storage, for which that
// directory becomes this worker's read-through cache. Both keep the same layout:
// objects/<aa>/<sha256>.<ext>, and run outputs (results, sample grids, search state) under
// runs/<run id>/ remotely (<root>/<run id>/ locally, as always).
//
// S3 is configured by the pipeline's spec.artifacts.s3 or the worker's AUTOGAN_S3_* environment
// (pipeline values win, field by field); credentials only ever come from the worker's environment
// (the AWS SDK's default chain). The SDK is loaded on first use, so a local store never pays for it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  artifactPath,
  getArtifact,
  putArtifact,
  removeArtifact,
  runDir,
  storeArtifact,
  tempPath,
  type ArtifactRef,
} from '../core/artifacts';
import { CheckpointError } from '../core/checkpoint/format';
import type { S3Settings } from '../pipeline/plan';
import type { S3Remote } from './s3-remote';

export interface ArtifactStore {
  /** The local directory: the store itself, or the read-through cache of a remote store. */
  readonly root: string;
  /** Where objects live, for messages: a directory or s3://bucket/prefix. */
  readonly location: string;
  /**
   * Stores what `write(tmpFile)` writes and returns its content reference. With a remote store the
   * object is uploaded before this resolves: its reference can be handed to another worker.
   */
  put(ext: string, write: (tmpFile: string) => void): Promise<ArtifactRef>;
  /** As put, and whether this call created the local object (false: the same bytes were stored already). */
  putNew(ext: string, write: (tmpFile: string) => void): Promise<{ ref: ArtifactRef; created: boolean }>;
  /**
   * Removes the local copy of a scratch object that its writer created and nothing references (a
   * finished activity's intermediate checkpoints); returns the bytes freed. A remote store's
   * bucket keeps its copy (the bucket is not collected).
   */
  discard(ref: ArtifactRef): Promise<number>;
  /** A local file holding a reference's content, its hash verified (downloaded first if need be). */
  get(ref: ArtifactRef): Promise<string>;
  /** A run's local output folder, <root>/<run id> (created). */
  runDir(runId: string): string;
  /** Uploads a file written into runDir(runId) to runs/<run id>/<name> (nothing for a local store). */
  publish(runId: string, file: string): Promise<void>;
  /**
   * runDir(runId)/<name> as the store holds it, before a read-modify-write: a remote store first
   * downloads the bucket's copy over the local one (the bucket is the durable copy; a fresh pod's
   * cache has none). Returns the local path, or undefined when neither the bucket nor the folder
   * has the file.
   */
  pullRunFile(runId: string, name: string): Promise<string | undefined>;
}

/**
 * A remote store that cannot be used: unreachable (retryable) or misconfigured — no bucket, bad
 * credentials, bad settings (not retryable). activities/errors.ts turns it into an ApplicationFailure.
 */
export class ArtifactStoreError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ArtifactStoreError';
  }
}

/** The worker's environment variables for S3 (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). */
export const S3_ENV = {
  bucket: 'AUTOGAN_S3_BUCKET',
  prefix: 'AUTOGAN_S3_PREFIX',
  endpoint: 'AUTOGAN_S3_ENDPOINT',
  region: 'AUTOGAN_S3_REGION',
} as const;

/** S3 settings with every default filled in. */
export interface ResolvedS3 {
  bucket: string;
  /** Without leading or trailing '/'; '' for none. */
  prefix: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Connection and socket-idle timeout of each request. @default 5000 to connect, 60000 idle */
  timeoutMs?: number;
}

/** The pipeline's settings over the worker's environment; undefined when neither names a bucket. */
export function resolveS3(
  pipeline?: S3Settings,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedS3 | undefined {
  const pick = (k: keyof typeof S3_ENV): unknown => pipeline?.[k] ?? (env[S3_ENV[k]] || undefined);
  const bucket = pick('bucket');
  if (bucket === undefined) return undefined;
  const bad = (what: string) =>
    new ArtifactStoreError(`S3 artifact store: ${what} (spec.artifacts.s3 or ${S3_ENV.bucket} etc.)`, false);
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw bad(`bucket ${JSON.stringify(bucket)} is not a bucket name`);
  const endpoint = pick('endpoint');
  if (endpoint !== undefined && (typeof endpoint !== 'string' || !/^https?:\/\/[^/]/.test(endpoint)))
    throw bad(`endpoint ${JSON.stringify(endpoint)} is not an http(s) URL`);
  const prefix = pick('prefix') ?? '';
  const region = pick('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (typeof prefix !== 'string' || typeof region !== 'string')
    throw bad('prefix and region must be strings');
  const forcePathStyle = pipeline?.forcePathStyle ?? endpoint !== undefined;
  return {
    bucket,
    prefix: prefix.replace(/^\/+|\/+$/g, ''),
    ...(endpoint ? { endpoint: endpoint as string } : {}),
    region,
    forcePathStyle: forcePathStyle === true,
  };
}

/** The local store: core/artifacts as it always was. */
export class LocalStore implements ArtifactStore {
  constructor(readonly root: string) {}
  get location(): string {
    return this.root;
  }
  async put(ext: string, write: (tmpFile: string) => void): Promise<ArtifactRef> {
    return putArtifact(this.root, ext, write);
  }
  async putNew(ext: string, write: (tmpFile: string) => void) {
    return storeArtifact(this.root, ext, write);
  }
  async discard(ref: ArtifactRef): Promise<number> {
    return removeArtifact(this.root, ref);
  }
  async get(ref: ArtifactRef): Promise<string> {
    return getArtifact(this.root, ref);
  }
  runDir(runId: string): string {
    return runDir(this.root, runId);
  }
  async publish(): Promise<void> {}
  async pullRunFile(runId: string, name: string): Promise<string | undefined> {
    const file = path.join(this.runDir(runId), name);
    return fs.existsSync(file) ? file : undefined;
  }
}

/** What a remote store moved (for logs and tests). */
export interface TransferStats {
  uploads: number;
  uploadBytes: number;
  /** Puts whose object was already in the bucket. */
  skipped: number;
  downloads: number;
  downloadBytes: number;
}

/** An object stored again is made young in the bucket when it is older than this (ms). */
export const TOUCH_AFTER_MS = 10 * 60 * 1000;

/** S3-compatible storage with a local read-through cache at `root`. */
export class S3Store implements ArtifactStore {
  readonly stats: TransferStats = { uploads: 0, uploadBytes: 0, skipped: 0, downloads: 0, downloadBytes: 0 };
  private remote?: Promise<S3Remote>;

  constructor(
    readonly root: string,
    readonly s3: ResolvedS3,
  ) {}

  get location(): string {
    return `s3://${this.s3.bucket}/${this.s3.prefix}${this.s3.endpoint ? ` at ${this.s3.endpoint}` : ''}`;
  }

  /** The bucket client (loads the AWS SDK on first use). */
  client(): Promise<S3Remote> {
    this.remote ??= import('./s3-remote').then((m) => new m.S3Remote(this.s3));
    return this.remote;
  }

  /** A key under the store's prefix. */
  key(...parts: string[]): string {
    return [this.s3.prefix, ...parts].filter(Boolean).join('/');
  }

  objectKey(ref: ArtifactRef): string {
    return this.key('objects', ref.slice(0, 2), ref);
  }

  async put(ext: string, write: (tmpFile: string) => void): Promise<ArtifactRef> {
    return (await this.putNew(ext, write)).ref;
  }

  async discard(ref: ArtifactRef): Promise<number> {
    return removeArtifact(this.root, ref);
  }

  async putNew(ext: string, write: (tmpFile: string) => void) {
    const { ref, created } = storeArtifact(this.root, ext, write);
    const file = artifactPath(this.root, ref);
    const size = fs.statSync(file).size;
    const remote = await this.client();
    const key = this.objectKey(ref);
    const sha256 = ref.slice(0, 64);
    const there = await remote.head(key);
    if (there && there.size === size && (there.sha256 ?? sha256) === sha256) {
      this.stats.skipped++;
      // Stored again: young again, so `gc --remote` keeps it while its new reference travels.
      if (Date.now() - there.lastModified.getTime() > TOUCH_AFTER_MS) await remote.touch(key);
    } else {
      await remote.upload(key, file, { sha256 });
      this.stats.uploads++;
      this.stats.uploadBytes += size;
    }
    return { ref, created };
  }

  async get(ref: ArtifactRef): Promise<string> {
    const file = artifactPath(this.root, ref);
    if (fs.existsSync(file)) {
      try {
        return getArtifact(this.root, ref);
      } catch {
        fs.rmSync(file, { force: true }); // a corrupt cached copy: fetched again below
      }
    }
    const remote = await this.client();
    const key = this.objectKey(ref);
    const got = await this.download(key, tempPath(this.root, ref.split('.').pop()!), file, (g) => {
      if (!g)
        throw new CheckpointError(
          `artifact ${ref} is missing from the bucket: no object ${remote.describe(key)} (nor in the cache ${this.root})`,
        );
      if (g.sha256 !== ref.slice(0, 64))
        throw new CheckpointError(
          `artifact ${ref} is corrupt in the bucket: ${remote.describe(key)} has sha256 ${g.sha256} (${g.bytes} bytes)`,
        );
    });
    return got!;
  }

  /**
   * Streams `key` into `tmp`, lets `check` refuse what came (or its absence: null), then renames it
   * to `file`. Returns `file`, or undefined when the bucket has no such object.
   */
  private async download(
    key: string,
    tmp: string,
    file: string,
    check: (got: { sha256: string; bytes: number } | null) => void = () => undefined,
  ): Promise<string | undefined> {
    try {
      const got = await (await this.client()).download(key, tmp);
      check(got);
      if (!got) return undefined;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.renameSync(tmp, file);
      this.stats.downloads++;
      this.stats.downloadBytes += got.bytes;
      return file;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  runDir(runId: string): string {
    return runDir(this.root, runId);
  }

  private runKey(runId: string, name: string): string {
    return this.key('runs', path.basename(this.runDir(runId)), name);
  }

  async publish(runId: string, file: string): Promise<void> {
    await (await this.client()).upload(this.runKey(runId, path.basename(file)), file, {});
  }

  async pullRunFile(runId: string, name: string): Promise<string | undefined> {
    const file = path.join(this.runDir(runId), name);
    const tmp = `${file}.pull-${process.pid}-${Date.now()}`;
    const got = await this.download(this.runKey(runId, name), tmp, file);
    // Not uploaded (yet): the local copy, if any.
    return got ?? (fs.existsSync(file) ? file : undefined);
  }
}

// One S3 store (and client) per cache directory and settings, for the life of the worker.
const s3Stores = new Map<string, S3Store>();

/**
 * The store of a pipeline's or search's `artifacts` directory and its optional `s3` settings (over
 * the worker's AUTOGAN_S3_* environment).
 */
export function artifactStore(where: { artifacts: string; s3?: S3Settings }): ArtifactStore {
  const s3 = resolveS3(where.s3);
  if (!s3) return new LocalStore(where.artifacts);
  const id = JSON.stringify([where.artifacts, s3]);
  let store = s3Stores.get(id);
  if (!store) s3Stores.set(id, (store = new S3Store(where.artifacts, s3)));
  return store;
}
