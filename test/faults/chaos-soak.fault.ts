// `npm run test:faults`: the chaos soak. A small whole pipeline (search → derive → retrain ×2 →
// evaluate) runs on real worker processes and a real dev server while a seeded scheduler sends, at
// random times, at least 20 faults: SIGKILL to the GPU worker, to a tensor host, to the control
// worker and to the server (restarted on its database); SIGTERM to the GPU worker; SIGSTOP past the
// heartbeat timeout, then SIGCONT; and a corrupted newest checkpoint (the one a running attempt
// last heartbeated) followed by a SIGKILL. The result must equal the uninterrupted run's, byte for
// byte once times and the artifact folder are set aside; no process may be left behind, and the
// store must stay within a bound. AUTOGAN_CHAOS_SEED picks another schedule.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadPipeline } from '../../pipeline/load';
import type { Plan } from '../../pipeline/plan';
import { startPipeline } from '../../runtime/start-pipeline';
import { freePort } from '../../server/dev-server';
import { CLI, exited, workerProcess, type Heartbeat } from '../helpers/worker-process';

const FIXTURE = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tiny-autogan.yaml');
const ID = 'chaos-soak';
const MIN_FAULTS = 20;
const MAX_FAULTS = 30;
const HEARTBEAT_TIMEOUT_S = 4;

/** tiny-autogan made long enough to take the faults, with 4 s heartbeat timeouts everywhere. */
function soakPlan(artifacts: string, control: string, gpu: string): Plan {
  const plan = loadPipeline(FIXTURE);
  const was = plan.spec.taskQueues;
  for (const s of plan.steps) s.taskQueue = s.taskQueue === was.control ? control : gpu;
  plan.spec.taskQueues = { control, gpu };
  plan.spec.artifacts = { path: artifacts };
  const step = (id: string) => plan.steps.find((s) => s.id === id)!;
  const hb = `${HEARTBEAT_TIMEOUT_S}s`;
  Object.assign(step('search').with, {
    maxIterations: 16,
    growSteps: [8],
    sharedSteps: 40,
    controllerSteps: 12,
    rewardImages: 60,
    candidates: 8,
    checkpointEvery: 2,
    heartbeatTimeout: hb,
  });
  Object.assign(step('retrain').with, {
    iterations: 120,
    stepsPerActivity: 80,
    checkpointEvery: 10,
    heartbeatTimeout: hb,
  });
  // Faults come far faster than on any cluster: the steps' activities may lose many attempts, as
  // the training activities (20 attempts) may.
  for (const id of ['derive', 'evaluate']) {
    step(id).timeout = { startToClose: '1h', heartbeat: hb };
    step(id).retry = { ...step(id).retry, maximumAttempts: 20 };
  }
  return plan;
}

/** The result without what differs between two sittings: times, recovery notes, the artifact folder. */
function comparable(result: unknown, artifacts: string): string {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v)
          .filter(([k]) => !/seconds$/i.test(k) && k !== 'recoveries')
          .map(([k, x]) => [k, strip(x)]),
      );
    return typeof v === 'string' ? v.split(artifacts).join('<artifacts>') : v;
  };
  return JSON.stringify(strip(result), null, 1);
}

/** A failure with the chain of causes Temporal wraps it in. */
function causes(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as (Error & { cause?: unknown }) | undefined; e instanceof Error; e = e.cause as typeof e)
    parts.push(e.message);
  return parts.join(' ← ') || String(err);
}

/** A small seeded generator (mulberry32): the same seed, the same schedule of faults. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bytesUnder(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    n += e.isDirectory() ? bytesUnder(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size;
  return n;
}

function tensorHostPids(): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  return ps
    .split('\n')
    .filter((l) => l.includes('tensor-host.js'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

function childPids(pid: number): number[] {
  const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
}

/** One sitting: a server on its own database, a control and a GPU worker process, the pipeline. */
class Sitting {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-'));
  readonly artifacts = path.join(this.dir, 'runs');
  readonly db = path.join(this.dir, 'temporal.db');
  // The same names in both sittings (each has its own server): they are part of the result.
  readonly control = 'chaos-control';
  readonly gpu = 'chaos-gpu';
  port = 0;
  server!: ChildProcess;
  controlWorker!: ChildProcess;
  gpuWorker!: ChildProcess;
  client!: Client;
  private readonly spawned: ChildProcess[] = [];
  readonly corrupted = new Set<string>();

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    await this.startServer();
    this.controlWorker = this.track(workerProcess(this.address, this.control, 'control'));
    this.gpuWorker = this.track(workerProcess(this.address, this.gpu, 'gpu'));
  }

  private track(c: ChildProcess): ChildProcess {
    this.spawned.push(c);
    return c;
  }

  async startServer(): Promise<void> {
    // Its own process group: a kill takes the wrapper and its temporal child together.
    const s = spawn(
      process.execPath,
      [CLI, 'server', '--port', String(this.port), '--ui-port', String(this.port + 1000), '--db', this.db],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    s.stdout!.on('data', () => undefined);
    s.stderr!.on('data', () => undefined);
    this.server = this.track(s);
    for (let i = 0; ; i++) {
      try {
        this.client = new Client({ connection: await Connection.connect({ address: this.address }) });
        await this.client.workflowService.getSystemInfo({});
        return;
      } catch (err) {
        if (i > 300) throw err;
        await sleep(200);
      }
    }
  }

  /** Sends `signal` to a worker, waits for it to exit and starts a new one on its queue. */
  async replace(kind: 'gpu' | 'control', signal: NodeJS.Signals): Promise<void> {
    const w = kind === 'gpu' ? this.gpuWorker : this.controlWorker;
    w.kill(signal);
    await exited(w);
    if (kind === 'gpu') this.gpuWorker = this.track(workerProcess(this.address, this.gpu, 'gpu'));
    else this.controlWorker = this.track(workerProcess(this.address, this.control, 'control'));
  }

  /** The heartbeat of a running training or evaluation attempt in the pipeline or its children. */
  async runningHeartbeat(): Promise<Heartbeat> {
    const ids = [ID];
    const top = await this.client.workflow.getHandle(ID).describe();
    for (const c of top.raw.pendingChildren ?? []) if (c.workflowId) ids.push(c.workflowId);
    for (const id of ids) {
      const d = await this.client.workflow.getHandle(id).describe();
      for (const a of d.raw.pendingActivities ?? []) {
        const data = a.heartbeatDetails?.payloads?.[0]?.data;
        if (!a.lastStartedTime || !data) continue;
        const hb = JSON.parse(Buffer.from(data).toString('utf8')) as Heartbeat;
        if (hb?.ref) return hb;
      }
    }
    return undefined;
  }

  async status(): Promise<string> {
    return (await this.client.workflow.getHandle(ID).describe()).status.name;
  }

  async stop(): Promise<void> {
    for (const w of [this.controlWorker, this.gpuWorker]) w.kill('SIGCONT');
    for (const w of [this.controlWorker, this.gpuWorker]) w.kill('SIGTERM');
    await Promise.all([this.controlWorker, this.gpuWorker].map(exited));
    await this.client.connection.close().catch(() => undefined);
    try {
      process.kill(-this.server.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    await exited(this.server);
  }

  kill(): void {
    for (const c of this.spawned) {
      try {
        if (c === this.server || c.spawnargs.includes('server')) process.kill(-c.pid!, 'SIGKILL');
        else c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

type Fault = { name: string; weight: number; send: (s: Sitting) => Promise<string | undefined> };

const FAULTS: Fault[] = [
  {
    name: 'SIGKILL gpu worker',
    weight: 3,
    async send(s) {
      await s.replace('gpu', 'SIGKILL');
      return '';
    },
  },
  {
    name: 'SIGTERM gpu worker',
    weight: 2,
    async send(s) {
      await s.replace('gpu', 'SIGTERM');
      return '';
    },
  },
  {
    name: 'SIGKILL tensor host',
    weight: 3,
    async send(s) {
      let hosts = childPids(s.gpuWorker.pid!);
      for (let i = 0; i < 10 && !hosts.length; i++) {
        await sleep(200);
        hosts = childPids(s.gpuWorker.pid!);
      }
      if (!hosts.length) return undefined; // none running now: not sent
      process.kill(hosts[0], 'SIGKILL');
      return `pid ${hosts[0]}`;
    },
  },
  {
    name: `SIGSTOP gpu worker past the heartbeat timeout, then SIGCONT`,
    weight: 1,
    async send(s) {
      s.gpuWorker.kill('SIGSTOP');
      await sleep((HEARTBEAT_TIMEOUT_S + 1) * 1000);
      s.gpuWorker.kill('SIGCONT');
      return '';
    },
  },
  {
    name: 'SIGKILL server, restart on its database',
    weight: 1,
    async send(s) {
      await s.client.connection.close().catch(() => undefined);
      process.kill(-s.server.pid!, 'SIGKILL');
      await exited(s.server);
      await sleep(500);
      await s.startServer();
      return '';
    },
  },
  {
    name: 'SIGKILL control worker',
    weight: 1,
    async send(s) {
      await s.replace('control', 'SIGKILL');
      return '';
    },
  },
  {
    name: 'corrupt the newest heartbeated checkpoint, then SIGKILL gpu worker',
    weight: 2,
    async send(s) {
      // A running attempt that has heartbeated a checkpoint (a retry may still be waiting to start).
      let hb: Heartbeat;
      for (let i = 0; i < 8 && !hb?.ref; i++) {
        hb = await s.runningHeartbeat().catch(() => undefined);
        if (!hb?.ref) await sleep(200);
      }
      const file = hb?.ref ? path.join(s.artifacts, 'objects', hb.ref.slice(0, 2), hb.ref) : '';
      // A retry not yet heartbeating still shows its predecessor's: corrupt each checkpoint once.
      if (!file || !fs.existsSync(file) || s.corrupted.has(hb!.ref!)) return undefined;
      s.corrupted.add(hb!.ref!);
      const bytes = fs.readFileSync(file);
      bytes[bytes.length >> 1] ^= 0xff;
      fs.writeFileSync(file, bytes);
      await s.replace('gpu', 'SIGKILL');
      return `${hb!.ref!.slice(0, 12)}… (step ${hb!.step})`;
    },
  },
];

describe('chaos soak: a pipeline under random faults ends as the uninterrupted run @integration @faults', function () {
  this.timeout(1_500_000);
  const sittings: Sitting[] = [];
  after(() => sittings.forEach((s) => s.kill()));

  async function run(chaos?: { seed: number; log: string[] }) {
    const s = new Sitting();
    sittings.push(s);
    await s.start();
    const began = Date.now();
    await startPipeline(s.client, soakPlan(s.artifacts, s.control, s.gpu), { workflowId: ID });
    const random = rng(chaos?.seed ?? 0);
    const total = FAULTS.reduce((n, f) => n + f.weight, 0);
    let sent = 0;
    for (;;) {
      const state = await s.status().catch(() => 'UNKNOWN');
      if (state !== 'RUNNING' && state !== 'UNKNOWN') break;
      if (!chaos || sent >= MAX_FAULTS) {
        await sleep(300);
        continue;
      }
      await sleep(300 + random() * 900);
      let pick = random() * total;
      const fault = FAULTS.find((f) => (pick -= f.weight) < 0) ?? FAULTS[0];
      const what = await fault.send(s);
      if (what === undefined) continue;
      sent++;
      const line = `${((Date.now() - began) / 1000).toFixed(1).padStart(6)} s  ${fault.name}${what ? `: ${what}` : ''}`;
      chaos.log.push(line);
      console.log(`      ${line}`);
    }
    const state = await s.status();
    const result = await s.client.workflow
      .getHandle(ID)
      .result()
      .catch((e: Error) => e);
    const seconds = (Date.now() - began) / 1000;
    const objects = bytesUnder(path.join(s.artifacts, 'objects'));
    await s.stop();
    return { state, result, seconds, objects, artifacts: s.artifacts, sent };
  }

  it(`ends with the uninterrupted result after ${MIN_FAULTS}+ faults, leaving no process and a bounded store`, async () => {
    const hostsBefore = new Set(tensorHostPids());
    const clean = await run();
    assert.equal(clean.state, 'COMPLETED', causes(clean.result));
    console.log(
      `      uninterrupted: ${clean.seconds.toFixed(0)} s, store ${(clean.objects / 1e6).toFixed(1)} MB`,
    );
    const seed = Number(process.env.AUTOGAN_CHAOS_SEED ?? 1);
    const log: string[] = [];
    console.log(`      faults (seed ${seed}):`);
    const chaos = await run({ seed, log });
    console.log(
      `      under ${chaos.sent} faults: ${chaos.seconds.toFixed(0)} s, store ${(chaos.objects / 1e6).toFixed(1)} MB`,
    );
    assert.equal(chaos.state, 'COMPLETED', `the run ended ${chaos.state}: ${causes(chaos.result)}`);
    const [got, want] = [
      comparable(chaos.result, chaos.artifacts),
      comparable(clean.result, clean.artifacts),
    ];
    if (got !== want) {
      fs.writeFileSync(path.join(os.tmpdir(), 'chaos-soak-result.json'), got);
      fs.writeFileSync(path.join(os.tmpdir(), 'chaos-soak-expected.json'), want);
    }
    assert.equal(got, want, 'the same rewards, beams, top K, checkpoint hashes, curves and IS/FID');
    // The hosts of killed workers exit when their channel closes; nothing of ours is left.
    for (let i = 0; i < 50 && tensorHostPids().some((p) => !hostsBefore.has(p)); i++) await sleep(200);
    assert.deepEqual(
      tensorHostPids().filter((p) => !hostsBefore.has(p)),
      [],
      'no tensor host left behind',
    );
    assert.ok(chaos.sent >= MIN_FAULTS, `only ${chaos.sent} faults before the run ended: make it longer`);
    assert.ok(
      chaos.objects <= 3 * clean.objects,
      `the store holds ${chaos.objects} bytes against ${clean.objects} uninterrupted (at most 3×)`,
    );
  });
});
