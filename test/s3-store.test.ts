// The artifact store on S3-compatible storage, against a real server process (moto, see
// helpers/s3-server.ts): uploads before a reference is handed out, read-through caching with hash
// verification, dedupe, corruption and absence named by bucket and key, unreachable endpoints
// failing fast, a large object streamed, and retraining resumed by another "worker" from S3.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { asNonRetryable } from '../activities/errors';
import { searchRecordState } from '../activities/search';
import { randomArch } from '../core/arch/encoding';
import { Rng } from '../core/rng';
import { DEFAULT_RETRAIN } from '../pipeline/retrain-params';
import {
  ArtifactStoreError,
  artifactStore,
  resolveS3,
  S3Store,
  type ResolvedS3,
} from '../services/artifact-store';
import { carryHistory, readSavedSearch } from '../runtime/saved-search';
import { collectBucket, type BucketGcReport } from '../services/bucket-gc';
import { retrainChunk, retrainInit, type RetrainParams } from '../services/retrain';
import { noHooks } from '../services/search';
import { check, HEADER } from './helpers/pipeline-text';
import { freePort, startS3Server, type S3TestServer } from './helpers/s3-server';

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
const write = (data: Buffer) => (f: string) => fs.writeFileSync(f, data);

describe('artifact store S3 settings', () => {
  it('takes the pipeline over the environment, field by field; no bucket anywhere: local', () => {
    const env = {
      AUTOGAN_S3_BUCKET: 'env-bucket',
      AUTOGAN_S3_PREFIX: '/team/autogan/',
      AUTOGAN_S3_ENDPOINT: 'http://minio:9000',
      AUTOGAN_S3_REGION: 'eu-west-1',
    };
    assert.deepEqual(resolveS3(undefined, env), {
      bucket: 'env-bucket',
      prefix: 'team/autogan',
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
    });
    assert.deepEqual(resolveS3({ bucket: 'pipe-bucket', prefix: 'p' }, env), {
      bucket: 'pipe-bucket',
      prefix: 'p',
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
    });
    assert.deepEqual(resolveS3({ bucket: 'aws-bucket', forcePathStyle: false }, {}), {
      bucket: 'aws-bucket',
      prefix: '',
      region: 'us-east-1',
      forcePathStyle: false,
    });
    assert.equal(resolveS3(undefined, {}), undefined);
    assert.ok(artifactStore({ artifacts: tmp('local') }).location.startsWith(os.tmpdir()));
    // A direct `temporal workflow start` is not validated by the client: the worker says what is wrong.
    assert.throws(
      () => resolveS3({ bucket: 'x' }, {}),
      (e: ArtifactStoreError) =>
        e.name === 'ArtifactStoreError' && !e.retryable && /bucket "x"/.test(e.message),
    );
    assert.throws(
      () => resolveS3({ bucket: 'ok-bucket', endpoint: 'minio:9000' }, {}),
      /not an http\(s\) URL/,
    );
  });

  it('spec.artifacts.s3 is validated and carried into the plan; credentials cannot be written there', () => {
    const yaml = (s3: string) =>
      HEADER.replace('  steps:\n', `  artifacts:\n    path: runs\n    s3: ${s3}\n  steps:\n`) +
      '    - id: inspect\n      uses: dataset.inspect\n';
    const { plan, issues } = check(
      yaml('{ bucket: autogan-runs, prefix: team/a, endpoint: "http://minio:9000" }'),
    );
    assert.deepEqual(issues, []);
    assert.deepEqual(plan!.spec.artifacts, {
      path: '/tmp/runs',
      s3: { bucket: 'autogan-runs', prefix: 'team/a', endpoint: 'http://minio:9000' },
    });
    const bad = check(yaml('{ bucket: autogan-runs, secretAccessKey: xyz }'));
    assert.match(bad.issues.map((i) => i.message).join('\n'), /unknown field "secretAccessKey"/);
  });

  it('a local store never loads the AWS SDK', () => {
    const dir = tmp('local-only');
    const script = `
      const fs = require('fs');
      const { artifactStore } = require(${JSON.stringify(path.join(__dirname, '../services/artifact-store.js'))});
      (async () => {
        const s = artifactStore({ artifacts: ${JSON.stringify(dir)} });
        const ref = await s.put('txt', (f) => fs.writeFileSync(f, 'x'));
        await s.get(ref);
        const sdk = Object.keys(require.cache).filter((k) => k.includes('@aws-sdk'));
        console.log(JSON.stringify({ ref, sdk: sdk.length }));
      })();`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AUTOGAN_S3_')));
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim());
    assert.equal(out.sdk, 0);
    assert.ok(fs.existsSync(path.join(dir, 'objects', out.ref.slice(0, 2), out.ref)));
  });
});

describe('artifact store on S3 (moto server) @integration', function () {
  this.timeout(300_000);
  const bucket = 'autogan-test';
  let server: S3TestServer | undefined;
  let cfg: ResolvedS3;
  let s3: S3Client;
  const savedEnv = { ...process.env };

  before(async function () {
    this.timeout(900_000); // the first run installs moto (about a minute)
    const started = await startS3Server((line) => console.log(line));
    if ('skip' in started) {
      console.log(`      (skipped: no S3-compatible test server: ${started.skip})`);
      this.skip();
    }
    server = started as S3TestServer;
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // as services/s3-remote.ts
    // moto takes any credentials; a worker takes them from its environment like this.
    process.env.AWS_ACCESS_KEY_ID = 'test-key';
    process.env.AWS_SECRET_ACCESS_KEY = 'test-secret';
    cfg = { bucket, prefix: 'it', endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true };
    s3 = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const)
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
  });

  const keysUnder = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map(
      (o) => o.Key!,
    );

  it('uploads before put resolves; a worker with an empty cache downloads, verifies and then hits its cache', async () => {
    const a = new S3Store(tmp('cache-a'), cfg);
    const data = randomBytes(100_000);
    const ref = await a.put('bin', write(data));
    assert.deepEqual(await keysUnder(`it/objects/${ref.slice(0, 2)}/`), [
      `it/objects/${ref.slice(0, 2)}/${ref}`,
    ]);
    assert.deepEqual(a.stats, {
      uploads: 1,
      uploadBytes: 100_000,
      skipped: 0,
      downloads: 0,
      downloadBytes: 0,
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: a.objectKey(ref) }));
    assert.equal(head.Metadata?.sha256, ref.slice(0, 64));

    const b = new S3Store(tmp('cache-b'), cfg);
    const file = await b.get(ref);
    assert.ok(file.startsWith(b.root));
    assert.ok(fs.readFileSync(file).equals(data));
    await b.get(ref);
    assert.equal(b.stats.downloads, 1, 'the second get is a cache hit');
    assert.deepEqual(fs.readdirSync(path.join(b.root, 'tmp')), [], 'no temp file left');

    // A corrupt cached copy is not used: it is fetched again.
    fs.writeFileSync(file, 'garbage');
    assert.ok(fs.readFileSync(await b.get(ref)).equals(data));
    assert.equal(b.stats.downloads, 2);
  });

  it('does not upload an object the bucket already has (content addressing)', async () => {
    const data = randomBytes(5000);
    const a = new S3Store(tmp('cache-a'), cfg);
    const b = new S3Store(tmp('cache-b'), cfg);
    const ref = await a.put('bin', write(data));
    const before = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: a.objectKey(ref) }));
    assert.equal(await b.put('bin', write(data)), ref);
    assert.equal(await a.put('bin', write(data)), ref);
    assert.deepEqual([a.stats.uploads, a.stats.skipped, b.stats.uploads, b.stats.skipped], [1, 1, 0, 1]);
    const after = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: a.objectKey(ref) }));
    assert.equal(after.ETag, before.ETag);
    assert.equal((await keysUnder(`it/objects/${ref.slice(0, 2)}/${ref}`)).length, 1);
  });

  it('detects an object corrupted in the bucket, naming bucket and key', async () => {
    const data = randomBytes(20_000);
    const ref = await new S3Store(tmp('cache-a'), cfg).put('bin', write(data));
    const key = `it/objects/${ref.slice(0, 2)}/${ref}`;
    const bad = Buffer.from(data);
    bad[1234] ^= 0xff;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bad }));
    const b = new S3Store(tmp('cache-b'), cfg);
    await assert.rejects(b.get(ref), (e: Error) => {
      assert.equal(e.name, 'CheckpointError');
      assert.match(e.message, /corrupt/);
      assert.ok(e.message.includes(`s3://${bucket}/${key}`), e.message);
      return true;
    });
    assert.ok(
      !fs.existsSync(path.join(b.root, 'objects')) ||
        fs.readdirSync(path.join(b.root, 'objects')).length === 0,
    );
    assert.deepEqual(fs.readdirSync(path.join(b.root, 'tmp')), []);
  });

  it('a missing object is a CheckpointError naming bucket and key; a missing bucket is not retryable', async () => {
    const ref = `${'ab'.repeat(32)}.ckpt`;
    const key = `it/objects/ab/${ref}`;
    await assert.rejects(new S3Store(tmp('cache'), cfg).get(ref), (e: Error) => {
      assert.equal(e.name, 'CheckpointError');
      assert.match(e.message, /missing/);
      assert.ok(e.message.includes(`s3://${bucket}/${key}`), e.message);
      assert.ok(e.message.includes(cfg.endpoint!), e.message);
      return true;
    });
    const nobucket = new S3Store(tmp('cache'), { ...cfg, bucket: 'no-such-bucket' });
    await assert.rejects(nobucket.put('bin', write(Buffer.from('x'))), (e: ArtifactStoreError) => {
      assert.equal(e.name, 'ArtifactStoreError');
      assert.equal(e.retryable, false);
      assert.match(e.message, /bucket "no-such-bucket" does not exist/);
      assert.ok(e.message.includes(cfg.endpoint!), e.message);
      const f = asNonRetryable(e) as ApplicationFailure;
      assert.ok(f instanceof ApplicationFailure && f.nonRetryable && f.type === 'ArtifactStoreError');
      return true;
    });
  });

  it('fails fast and retryably on an unreachable or silent endpoint, naming endpoint and bucket', async () => {
    const port = await freePort();
    const refused = new S3Store(tmp('cache'), { ...cfg, endpoint: `http://127.0.0.1:${port}` });
    let t0 = performance.now();
    await assert.rejects(refused.put('bin', write(Buffer.from('x'))), (e: ArtifactStoreError) => {
      assert.equal(e.retryable, true);
      assert.match(e.message, /unreachable/);
      assert.ok(e.message.includes(`127.0.0.1:${port}`) && e.message.includes(bucket), e.message);
      const f = asNonRetryable(e) as ApplicationFailure;
      assert.ok(f instanceof ApplicationFailure && !f.nonRetryable && f.type === 'ArtifactStoreUnavailable');
      return true;
    });
    const refusedMs = performance.now() - t0;
    assert.ok(refusedMs < 5000, `${refusedMs} ms`);

    // A server that accepts connections and never answers: the socket timeout ends each attempt.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      const store = new S3Store(tmp('cache'), {
        ...cfg,
        endpoint: `http://127.0.0.1:${silentPort}`,
        timeoutMs: 500,
      });
      t0 = performance.now();
      await assert.rejects(
        store.get(`${'cd'.repeat(32)}.ckpt`),
        (e: ArtifactStoreError) => e.retryable && e.message.includes(`127.0.0.1:${silentPort}`),
      );
      const silentMs = performance.now() - t0;
      console.log(
        `      refused in ${refusedMs.toFixed(0)} ms, silent server given up in ${silentMs.toFixed(0)} ms`,
      );
      assert.ok(silentMs < 10_000, `${silentMs} ms`);
    } finally {
      silent.close();
    }
  });

  it('bad or missing credentials are not retryable and say where credentials come from', async function () {
    // A second server that, like S3, refuses access keys it does not know.
    const strict = await startS3Server(undefined, { checkCredentials: true });
    if ('skip' in strict) {
      console.log(`      (skipped: ${strict.skip})`);
      this.skip();
    }
    try {
      const store = new S3Store(tmp('cache'), { ...cfg, endpoint: (strict as S3TestServer).endpoint });
      for (const op of [
        () => store.put('bin', write(Buffer.from('x'))),
        () => store.get(`${'ef'.repeat(32)}.ckpt`),
      ])
        await assert.rejects(op(), (e: ArtifactStoreError) => {
          assert.equal(e.retryable, false, e.message);
          assert.match(e.message, /access denied to bucket "autogan-test".*AWS_ACCESS_KEY_ID/);
          assert.ok(e.message.includes((strict as S3TestServer).endpoint), e.message);
          return true;
        });
    } finally {
      await (strict as S3TestServer).stop();
    }
    // No credentials anywhere in the SDK's chain (not reproducible here: a real chain may find some).
    const { S3Remote } = await import('../services/s3-remote');
    const e = new S3Remote(cfg).failure(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      'upload',
      'it/objects/x',
    );
    assert.equal(e.retryable, false);
    assert.match(e.message, /no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    assert.ok(e.message.includes(`s3://${bucket}/it/objects/x`) && e.message.includes(cfg.endpoint!));
  });

  it('streams a 20 MB object up (in parts) and down', async () => {
    const data = randomBytes(20 * 1024 * 1024);
    const a = new S3Store(tmp('cache-a'), cfg);
    let t0 = performance.now();
    const ref = await a.put('bin', write(data));
    const up = performance.now() - t0;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: a.objectKey(ref) }));
    assert.match(head.ETag ?? '', /-3"?$/, 'a multipart upload of 3 parts');
    const b = new S3Store(tmp('cache-b'), cfg);
    t0 = performance.now();
    const file = await b.get(ref);
    const down = performance.now() - t0;
    assert.ok(fs.readFileSync(file).equals(data));
    const mb = data.length / 1024 / 1024;
    console.log(
      `      20 MiB: put ${(mb / (up / 1000)).toFixed(1)} MiB/s (write, hash, upload), get ${(mb / (down / 1000)).toFixed(1)} MiB/s (download, hash, rename)`,
    );
  });

  it('publishes run outputs to runs/<run id>/', async () => {
    const a = new S3Store(tmp('cache'), cfg);
    const file = path.join(a.runDir('wf/1'), 'evaluation.json');
    fs.writeFileSync(file, '{"ok":true}');
    await a.publish('wf/1', file);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'it/runs/wf_1/evaluation.json' }));
    assert.equal(got.ContentType, 'application/json');
    assert.equal(await got.Body!.transformToString(), '{"ok":true}');
  });

  it("a search's state, previous state and history are read-modify-written against the bucket: a fresh pod continues them", async () => {
    const s3Settings = { bucket, prefix: 'state', endpoint: server!.endpoint };
    const runId = 'nightly:2026-12-05.search';
    const pod = (name: string) => ({ artifacts: tmp(name), s3: s3Settings });
    const store = (p: { artifacts: string }) => artifactStore({ ...p, s3: s3Settings });
    // Checkpoints the states name, in the bucket (resume checks them).
    const a = pod('pod-a');
    const sup = await store(a).put('bin', write(randomBytes(1000)));
    const saved = (iteration: number, history: number[]) => ({
      params: { name: 'nightly', artifacts: a.artifacts },
      state: {
        iteration,
        stage: 0,
        supernet: sup,
        controller: null,
        history: history.map((i) => ({ iteration: i })),
      },
    });
    await searchRecordState(a.artifacts, runId, saved(1, [1]), s3Settings);
    await searchRecordState(a.artifacts, runId, saved(2, [1, 2]), s3Settings);
    // The control pod restarts: an empty cache. Its state holds only the recent iterations.
    const b = pod('pod-b');
    await searchRecordState(b.artifacts, runId, saved(3, [3]), s3Settings);
    const bucketJson = async (name: string) =>
      JSON.parse(
        await (
          await s3.send(
            new GetObjectCommand({ Bucket: bucket, Key: `state/runs/nightly_2026-12-05.search/${name}` }),
          )
        ).Body!.transformToString(),
      ) as { state: { iteration: number } } & Array<{ iteration: number }>;
    assert.deepEqual(
      (await bucketJson('search-history.json')).map((h) => h.iteration),
      [1, 2, 3],
      "the history merges with the bucket's, not the empty cache's",
    );
    assert.equal((await bucketJson('search-state.previous.json')).state.iteration, 2);
    assert.equal((await bucketJson('search-state.json')).state.iteration, 3);

    // `autogan resume` on a third machine reads the bucket; a truncated newest state (a write cut
    // short) falls back to the previous one, saying why.
    const c = store(pod('laptop'));
    assert.equal((await readSavedSearch(c, runId)).saved?.state.iteration, 3);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'state/runs/nightly_2026-12-05.search/search-state.json',
        Body: '{"params": {"name": "nightly"}, "state": {"itera',
      }),
    );
    const found = await readSavedSearch(store(pod('laptop-2')), runId);
    assert.equal(found.saved?.state.iteration, 2);
    assert.equal(found.problems.length, 1);
    assert.match(found.problems[0], /^search-state\.json: not valid JSON, a write cut short\?/);
    // The run that continues it gets the whole history.
    await carryHistory(c, runId, 'nightly:2026-12-05.search-r1');
    assert.deepEqual(await keysUnder('state/runs/nightly_2026-12-05.search-r1/'), [
      'state/runs/nightly_2026-12-05.search-r1/search-history.json',
    ]);
  });

  it('gc --remote deletes from the bucket only old objects nothing references (server, run JSON in bucket or cache)', async () => {
    const c = { ...cfg, prefix: 'gc' };
    const cache = tmp('gc-cache');
    const store = new S3Store(cache, c);
    const put = (n: number) => store.put('bin', write(Buffer.from(`object ${n} `.repeat(100))));
    const [inRunJson, unreferenced, onServer, inCacheJson] = [
      await put(1),
      await put(2),
      await put(3),
      await put(4),
    ];
    // A run folder's JSON in the bucket names one; the local cache's run folder another.
    const runJson = path.join(store.runDir('run-1'), 'result.json');
    fs.writeFileSync(runJson, JSON.stringify({ checkpoint: inRunJson }));
    await store.publish('run-1', runJson);
    fs.rmSync(runJson);
    fs.writeFileSync(path.join(store.runDir('run-2'), 'evaluation.json'), JSON.stringify({ c: inCacheJson }));
    const temporal = {
      address: 'x',
      namespace: 'default',
      refs: new Set([onServer]),
      open: [],
      completed: 0,
    };
    const objectKeys = async () => (await keysUnder('gc/objects/')).map((k) => k.split('/').pop()).sort();

    const young = await collectBucket(store, { minAgeMs: 3_600_000, temporal });
    assert.deepEqual([young.live.count, young.young.count, young.deleted.length], [3, 1, 0]);
    const dry = await collectBucket(store, { minAgeMs: 0, temporal, dryRun: true });
    assert.deepEqual(
      dry.deleted.map((d) => d.name),
      [unreferenced],
    );
    assert.equal((await objectKeys()).length, 4, 'a dry run deletes nothing');
    const report = await collectBucket(store, { minAgeMs: 0, temporal });
    assert.deepEqual(
      report.deleted.map((d) => d.name),
      [unreferenced],
    );
    assert.equal(report.runFiles, 1);
    assert.deepEqual(await objectKeys(), [inRunJson, onServer, inCacheJson].sort());

    // The CLI, offline (no server): the server's reference no longer protects its object.
    const r = spawnSync(
      process.execPath,
      [
        path.join(__dirname, '..', '..', 'bin', 'autogan.js'),
        'gc',
        '--remote',
        '--offline',
        '--min-age',
        '0',
        '--json',
        '--artifacts',
        cache,
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          AUTOGAN_S3_BUCKET: bucket,
          AUTOGAN_S3_PREFIX: 'gc',
          AUTOGAN_S3_ENDPOINT: server!.endpoint,
        },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { bucket: BucketGcReport }).bucket.deleted.map((d) => d.name),
      [onServer],
    );
    assert.deepEqual(await objectKeys(), [inRunJson, inCacheJson].sort());
    const noBucket = spawnSync(
      process.execPath,
      [
        path.join(__dirname, '..', '..', 'bin', 'autogan.js'),
        'gc',
        '--remote',
        '--offline',
        '--artifacts',
        cache,
      ],
      { encoding: 'utf8', env: { ...process.env, AUTOGAN_S3_BUCKET: '' } },
    );
    assert.equal(noBucket.status, 2);
    assert.match(noBucket.stderr, /gc --remote: no bucket: set AUTOGAN_S3_BUCKET/);
  });

  it('storing an object the bucket has makes it young again (touch keeps its metadata)', async () => {
    const c = { ...cfg, prefix: 'touch' };
    const store = new S3Store(tmp('touch'), c);
    const ref = await store.put('bin', write(randomBytes(1000)));
    const remote = await store.client();
    const key = store.objectKey(ref);
    const before = (await remote.head(key))!;
    await new Promise((r) => setTimeout(r, 1100));
    await remote.touch(key);
    const after = (await remote.head(key))!;
    assert.ok(after.lastModified > before.lastModified, 'a newer last write');
    assert.equal(after.sha256, ref.slice(0, 64));
    assert.equal(after.size, 1000);
  });

  it('retraining: a chunk on another worker starts from S3, and a retry on a third resumes from its heartbeat', async function () {
    process.env.AUTOGAN_S3_ENDPOINT = server!.endpoint; // the worker's environment; bucket and prefix from the pipeline
    try {
      const base: RetrainParams = {
        ...DEFAULT_RETRAIN,
        arch: randomArch(1, new Rng(3)),
        label: 'top1',
        runId: 'e2e-run',
        dataset: { kind: 'mnist' },
        artifacts: '',
        s3: { bucket, prefix: 'e2e' },
        seed: 7,
        backend: 'auto',
        taskQueues: { control: 'c', gpu: 'g' },
        gan: { latentDim: 8, gfDim: 4, dfDim: 4, bottomWidth: 2, channels: 1, dSpectralNorm: true },
        train: { ...DEFAULT_RETRAIN.train, nCritic: 2, genBatchSize: 4, disBatchSize: 4 },
        iterations: 2,
        stepsPerActivity: 4,
        checkpointEvery: 1,
        checkpointMinSeconds: 0,
        evalImages: 20,
        evalBatchSize: 20,
        datasetLimit: 200,
      };
      const worker = (name: string) => ({ ...base, artifacts: tmp(name) });
      const init = await retrainInit(worker('worker-a'));

      const pb = worker('worker-b');
      const store = artifactStore(pb) as S3Store;
      const heartbeats: Array<{ step: number; ref: string }> = [];
      const b = await retrainChunk(pb, init.checkpoint, {
        ...noHooks,
        progress: ({ step, ref }) => {
          if (!ref || heartbeats.some((h) => h.ref === ref)) return;
          // The reference reaches a heartbeat only once its object is in the bucket.
          assert.equal(store.stats.uploads + store.stats.skipped, heartbeats.length + 1);
          heartbeats.push({ step, ref });
        },
      });
      assert.equal(store.stats.downloads, 1, "worker b fetched worker a's initial checkpoint");
      assert.deepEqual(
        heartbeats.map((h) => h.step),
        [1, 2, 3],
      );
      assert.equal(b.step, 4);
      assert.ok(b.evaluation, 'the last chunk evaluates');
      const samples = await keysUnder('e2e/runs/e2e-run/');
      // The sample grid, and the candidate's TensorBoard events with the curve they are built from.
      assert.deepEqual(samples, [
        'e2e/runs/e2e-run/events.out.tfevents.0.autogan-top1',
        'e2e/runs/e2e-run/retrain-top1-curve.json',
        'e2e/runs/e2e-run/samples-top1-step4.png',
      ]);

      // Worker b "dies" after its step-2 heartbeat; the retry lands on worker c with an empty cache.
      const pc = worker('worker-c');
      const c = await retrainChunk(pc, init.checkpoint, { ...noHooks, resumeFrom: heartbeats[1] });
      assert.equal(c.step, 4);
      const cs = (artifactStore(pc) as S3Store).stats;
      assert.deepEqual(
        [cs.downloads, cs.uploads, cs.skipped],
        [1, 0, 2],
        "fetched the step-2 checkpoint; stored steps 3 and 4, byte for byte worker b's: not uploaded again",
      );
      const ref = heartbeats[1].ref;
      assert.ok(fs.existsSync(path.join(pc.artifacts, 'objects', ref.slice(0, 2), ref)));
      assert.ok(
        (await keysUnder('e2e/objects/')).includes(`e2e/objects/${c.checkpoint.slice(0, 2)}/${c.checkpoint}`),
      );
    } finally {
      delete process.env.AUTOGAN_S3_ENDPOINT;
    }
  });
});
