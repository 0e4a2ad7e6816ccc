// The S3 side of the artifact store (services/artifact-store.ts loads this module, and with it the
// AWS SDK, only when a store is configured for S3): existence checks, streaming uploads with a
// SHA-256 checksum the server can verify, streaming downloads hashed on the way to disk, and errors
// that say which endpoint and bucket failed and whether a retry can help.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as s3 from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ArtifactStoreError, type ResolvedS3 } from './artifact-store';

// The SDK warns (when a client is made) that its releases after January 2027 need Node 22: noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Objects up to this size go up in one PUT (with the whole object's SHA-256); larger ones in parts of it. */
export const PART_SIZE = 8 * 1024 * 1024;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);
const ACCESS_ERRORS = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'AuthorizationHeaderMalformed',
  'AllAccessDisabled',
]);

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.png': 'image/png',
  '.html': 'text/html',
};

export class S3Remote {
  private readonly client: s3.S3Client;

  constructor(readonly cfg: ResolvedS3) {
    this.client = new s3.S3Client({
      region: cfg.region,
      ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
      forcePathStyle: cfg.forcePathStyle,
      maxAttempts: 3,
      requestHandler: { connectionTimeout: cfg.timeoutMs ?? 5000, socketTimeout: cfg.timeoutMs ?? 60_000 },
      // Checksums only where we ask for them (SHA-256, sent as headers): the SDK's default CRC32
      // trailers (aws-chunked) are not understood by every S3-compatible server.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** s3://bucket/key at <endpoint>, for messages. */
  describe(key: string): string {
    return `s3://${this.cfg.bucket}/${key} (${this.cfg.endpoint ?? `AWS S3, ${this.cfg.region}`})`;
  }

  /** Size, recorded SHA-256 and last write of `key`; null when the bucket has no such object. */
  async head(key: string): Promise<{ size: number; sha256?: string; lastModified: Date } | null> {
    try {
      const h = await this.client.send(new s3.HeadObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      return {
        size: h.ContentLength ?? 0,
        ...(h.Metadata?.sha256 ? { sha256: h.Metadata.sha256 } : {}),
        lastModified: h.LastModified ?? new Date(0),
      };
    } catch (err) {
      // A HEAD of a missing bucket is a 404 too: the upload that follows names that problem.
      if (status(err) === 404) return null;
      throw this.failure(err, 'check', key);
    }
  }

  /** Whether the bucket holds `key` with this size (and, when recorded, this SHA-256). */
  async has(key: string, size: number, sha256: string): Promise<boolean> {
    const h = await this.head(key);
    return !!h && h.size === size && (h.sha256 ?? sha256) === sha256;
  }

  /**
   * Makes `key` young again (a copy onto itself, its metadata kept): an object stored again is not
   * uploaded twice, but `gc --remote` must see that someone just referenced it.
   */
  async touch(key: string): Promise<void> {
    const h = await this.client
      .send(new s3.HeadObjectCommand({ Bucket: this.cfg.bucket, Key: key }))
      .catch((err: unknown) => {
        throw this.failure(err, 'check', key);
      });
    try {
      await this.client.send(
        new s3.CopyObjectCommand({
          Bucket: this.cfg.bucket,
          Key: key,
          CopySource: `${this.cfg.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'REPLACE',
          Metadata: { ...(h.Metadata ?? {}), touched: new Date().toISOString() },
          ...(h.ContentType ? { ContentType: h.ContentType } : {}),
        }),
      );
    } catch (err) {
      throw this.failure(err, 'touch', key);
    }
  }

  /** Every object under `prefix`: key, size and last write. */
  async *list(prefix: string): AsyncGenerator<{ key: string; size: number; lastModified: Date }> {
    let token: string | undefined;
    do {
      let page: s3.ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new s3.ListObjectsV2Command({ Bucket: this.cfg.bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (err) {
        throw this.failure(err, 'list', prefix);
      }
      for (const o of page.Contents ?? [])
        if (o.Key) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** A small object's text (run JSON); null when there is none. */
  async text(key: string): Promise<string | null> {
    try {
      const r = await this.client.send(new s3.GetObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      return (await r.Body?.transformToString()) ?? '';
    } catch (err) {
      if (name(err) === 'NoSuchKey' || status(err) === 404) return null;
      throw this.failure(err, 'download', key);
    }
  }

  async remove(key: string): Promise<void> {
    try {
      await this.client.send(new s3.DeleteObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
    } catch (err) {
      throw this.failure(err, 'delete', key);
    }
  }

  /**
   * Streams `file` to `key`. With its SHA-256 known, a single PUT carries it (x-amz-checksum-sha256)
   * for the server to verify, and larger objects carry a SHA-256 per part; it is also kept as the
   * object's metadata (sha256), which `has` compares.
   */
  async upload(key: string, file: string, o: { sha256?: string }): Promise<void> {
    const single = fs.statSync(file).size <= PART_SIZE;
    const ext = file.slice(file.lastIndexOf('.'));
    const params: s3.PutObjectCommandInput = {
      Bucket: this.cfg.bucket,
      Key: key,
      Body: fs.createReadStream(file),
      ContentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
      ChecksumAlgorithm: 'SHA256',
      ...(o.sha256 ? { Metadata: { sha256: o.sha256 } } : {}),
      ...(o.sha256 && single ? { ChecksumSHA256: Buffer.from(o.sha256, 'hex').toString('base64') } : {}),
    };
    try {
      await new Upload({ client: this.client, params, partSize: PART_SIZE, queueSize: 4 }).done();
    } catch (err) {
      throw this.failure(err, 'upload', key);
    }
  }

  /** Streams `key` into `tmpFile`, hashing it on the way; null when there is no such object. */
  async download(key: string, tmpFile: string): Promise<{ sha256: string; bytes: number } | null> {
    let body: Readable;
    try {
      const r = await this.client.send(new s3.GetObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      body = r.Body as Readable;
    } catch (err) {
      if (name(err) === 'NoSuchKey' || (status(err) === 404 && name(err) !== 'NoSuchBucket')) return null;
      throw this.failure(err, 'download', key);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, tap, fs.createWriteStream(tmpFile));
    } catch (err) {
      throw this.failure(err, 'download', key);
    }
    return { sha256: hash.digest('hex'), bytes };
  }

  /** An SDK or network error as an ArtifactStoreError naming the endpoint, bucket and key. */
  failure(err: unknown, op: string, key: string): ArtifactStoreError {
    const n = name(err);
    const code = (err as { code?: string })?.code;
    const msg = err instanceof Error ? err.message : String(err);
    const http = status(err);
    const where = `cannot ${op} ${this.describe(key)}`;
    const detail = `${n}${code && code !== n ? ` ${code}` : ''}${http ? `, HTTP ${http}` : ''}: ${msg}`;
    let why: string;
    let retryable: boolean;
    if (n === 'NoSuchBucket') {
      why = `the bucket "${this.cfg.bucket}" does not exist (create it, or fix spec.artifacts.s3.bucket / AUTOGAN_S3_BUCKET)`;
      retryable = false;
    } else if (n === 'CredentialsProviderError' || (!http && /credential/i.test(msg))) {
      why = 'no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the worker environment';
      retryable = false;
    } else if (ACCESS_ERRORS.has(n) || http === 403 || http === 401) {
      why = `access denied to bucket "${this.cfg.bucket}": check the worker's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's policy`;
      retryable = false;
    } else if (NETWORK_CODES.has(n) || NETWORK_CODES.has(code ?? '') || (!http && op !== 'download')) {
      why = `the endpoint ${this.cfg.endpoint ?? `(AWS S3, ${this.cfg.region})`} is unreachable`;
      retryable = true;
    } else if (n === 'BadDigest' || n === 'InvalidDigest' || n === 'XAmzContentSHA256Mismatch') {
      why = 'the server found the data changed in transit (checksum mismatch)';
      retryable = true;
    } else {
      why = 'the request failed';
      retryable = !http || http >= 500 || http === 429;
    }
    return new ArtifactStoreError(`S3 artifact store: ${where}: ${why} (${detail})`, retryable);
  }
}

function name(err: unknown): string {
  return (err as { name?: string })?.name ?? '';
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}
