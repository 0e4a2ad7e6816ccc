// `npm run test:faults`: exact resume at every phase. A GPU worker process is SIGKILLed during
// controller training, during a grow, during the final derive and during a retrain chunk, and the
// Temporal dev server is killed and restarted mid-search; every run must end with exactly the
// rewards, architectures, beams and losses (a retrain: the same final checkpoint bytes) of the
// uninterrupted run with the same seed.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RetrainParams } from '../../services/retrain';
import { DEFAULT_RETRAIN } from '../../pipeline/retrain-params';
import type { SearchResult } from '../../workflows/search';
import { tinySearch } from '../helpers/search-params';
import { startTestServer, startWorkers, uniqueQueue } from '../helpers/temporal-env';
import { CLI, exited, waitForActivity, workerProcess, type Heartbeat } from '../helpers/worker-process';

const worker = workerProcess;
const cli = CLI;

const SEARCH = {
  maxIterations: 3,
  growSteps: [1],
  sharedSteps: 40,
  controllerSteps: 12,
  controllerBatch: 2,
  rewardImages: 60,
  candidates: 8,
  checkpointEvery: 2,
  continueAsNewEvery: 100,
};

/**
 * The server test kills at a shared-training checkpoint: the SDK sends a heartbeat at once and then
 * at most every 80% of the heartbeat timeout (3.2 s here), so the phase must outlast that.
 */
const SEARCH_LONG_SHARED = { ...SEARCH, sharedSteps: 160 };

function summary(r: SearchResult) {
  return {
    rewards: r.rewards,
    topK: r.topK,
    beams: r.beams.map((b) => b.arch),
    grown: r.grown,
    losses: r.history.map((h) => [h.dLoss, h.gLoss, h.meanReward, h.entropy]),
  };
}

describe('exact resume after a worker SIGKILL in every phase @integration @faults', function () {
  this.timeout(900_000);
  let env: TestWorkflowEnvironment;
  let stop: () => Promise<void>;
  const control = uniqueQueue('faults-control');
  const children: ChildProcess[] = [];
  let clean: ReturnType<typeof summary>;

  before(async () => {
    env = await startTestServer();
    stop = await startWorkers(env, [control]);
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await stop?.();
    await env?.teardown();
  });

  /** A tiny search; with `kill`, the GPU worker dies once the named activity is in progress. */
  async function search(kill?: { activity: string; ready: (hb: Heartbeat) => boolean }) {
    const gpu = uniqueQueue('faults-gpu');
    const address = env.connection.options.address;
    let w = worker(address, gpu);
    children.push(w);
    const handle = await env.client.workflow.start('autogan-search', {
      args: [tinySearch({ control, gpu }, SEARCH)],
      taskQueue: control,
      workflowId: `faults-${kill?.activity ?? 'clean'}-${Date.now()}`,
    });
    let killedAt: Heartbeat;
    if (kill) {
      killedAt = await waitForActivity(env.client, handle.workflowId, kill.activity, kill.ready);
      w.kill('SIGKILL');
      await exited(w);
      w = worker(address, gpu);
      children.push(w);
    }
    const result = (await handle.result()) as SearchResult;
    w.kill('SIGTERM');
    await exited(w);
    // The killed activity really ran twice: a second attempt started.
    const events = (await handle.fetchHistory()).events ?? [];
    const attempts = events
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => Number(e.activityTaskStartedEventAttributes!.attempt));
    return { result: summary(result), killedAt, retried: attempts.some((a) => a > 1) };
  }

  it('runs the uninterrupted search once (the reference)', async () => {
    clean = (await search()).result;
    assert.equal(clean.rewards.length, SEARCH.maxIterations);
  });

  for (const [activity, ready, what] of [
    ['searchTrainController', (hb: Heartbeat) => !!hb?.ref, 'controller training (after a checkpoint)'],
    ['searchGrow', () => true, "a grow (scoring the finished stage's candidates)"],
    ['searchDerive', () => true, 'the final derive'],
  ] as const) {
    it(`a SIGKILL during ${what} ends with the same search`, async function () {
      if (!clean) this.skip();
      const crashed = await search({ activity, ready });
      assert.ok(crashed.retried, `the ${activity} attempt was retried after the kill`);
      assert.deepEqual(crashed.result, clean);
    });
  }
});

describe('exact resume after a worker SIGKILL during a retrain chunk @integration @faults', function () {
  this.timeout(600_000);
  let env: TestWorkflowEnvironment;
  let stop: () => Promise<void>;
  const control = uniqueQueue('faults-rt-control');
  const children: ChildProcess[] = [];
  before(async () => {
    env = await startTestServer();
    stop = await startWorkers(env, [control]);
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await stop?.();
    await env?.teardown();
  });

  /** The worker's stderr, kept for assertions. */
  const logs = new Map<ChildProcess, string>();
  function gpuWorker(address: string, gpu: string, ownGroup = false): ChildProcess {
    const w = worker(address, gpu, 'gpu', ownGroup);
    children.push(w);
    logs.set(w, '');
    w.stderr!.on('data', (d: Buffer) => logs.set(w, logs.get(w)! + d.toString()));
    return w;
  }

  /** `group-SIGINT`: a terminal's Ctrl-C, SIGINT to the worker's whole process group (its tensor hosts too). */
  type Fault = 'none' | 'SIGKILL' | 'SIGTERM' | 'group-SIGINT' | 'SIGSTOP' | 'corrupt' | 'truncate';
  const graceful = (f: Fault) => f === 'SIGTERM' || f === 'group-SIGINT';

  /**
   * A tiny retrain; the fault hits its GPU worker once the first chunk is past step 100 (with a
   * checkpoint). SIGKILL and SIGTERM: a new worker takes over. SIGSTOP: a second worker takes the
   * retry after the heartbeat timeout, then the first is continued (SIGCONT) beside it.
   */
  async function retrain(fault: Fault) {
    const gpu = uniqueQueue('faults-rt-gpu');
    const address = env.connection.options.address;
    let w = gpuWorker(address, gpu, fault === 'group-SIGINT');
    const params = {
      ...DEFAULT_RETRAIN,
      arch: [0, 1, 0, 1, 1, 0, 1, 1, 1],
      label: 'fault',
      runId: `faults-retrain-${fault}`,
      dataset: { kind: 'mnist' },
      artifacts: fs.mkdtempSync(path.join(os.tmpdir(), 'faults-retrain-')),
      seed: 3,
      backend: 'auto',
      taskQueues: { control, gpu },
      gan: { ...DEFAULT_RETRAIN.gan, latentDim: 8, gfDim: 8, dfDim: 8, bottomWidth: 4, channels: 1 },
      train: { ...DEFAULT_RETRAIN.train, nCritic: 1, genBatchSize: 8, disBatchSize: 8 },
      iterations: 400,
      stepsPerActivity: 400,
      evalEvery: 200,
      evalImages: 50,
      // SIGTERM: no periodic checkpoint in the chunk, so only the one written at shutdown can carry the step.
      checkpointEvery: graceful(fault) ? 1000 : 10,
      checkpointMinSeconds: 0,
      datasetLimit: 200,
      heartbeatTimeout: '4s',
    } as RetrainParams;
    const handle = await env.client.workflow.start('autogan-retrain', {
      args: [params],
      taskQueue: control,
      workflowId: `faults-retrain-${fault}-${Date.now()}`,
    });
    const info: {
      exitSeconds?: number;
      stoppedLog?: string;
      secondWorker?: ChildProcess;
      damaged?: string;
      killedAtStep?: number;
      resumedFrom?: number[];
    } = {};
    if (fault !== 'none') {
      const atKill = await waitForActivity(
        env.client,
        handle.workflowId,
        'retrainChunk',
        (hb) => (graceful(fault) || !!hb?.ref) && (hb?.step ?? 0) >= 100,
      );
      info.killedAtStep = atKill?.step;
      if (fault === 'SIGSTOP') {
        w.kill('SIGSTOP');
        const second = gpuWorker(address, gpu);
        info.secondWorker = second;
        // The server gives the stopped attempt up after its heartbeat timeout and retries it.
        await waitForActivity(env.client, handle.workflowId, 'retrainChunk', () => true).then(async () => {
          for (;;) {
            const d = await env.client.workflow.getHandle(handle.workflowId).describe();
            const a = (d.raw.pendingActivities ?? []).find((x) => x.activityType?.name === 'retrainChunk');
            if ((a?.attempt ?? 1) > 1 && a?.heartbeatDetails) break;
            await new Promise((r) => setTimeout(r, 100));
          }
        });
        w.kill('SIGCONT');
        const t0 = Date.now();
        while (!/cancelled/.test(logs.get(w)!) && Date.now() - t0 < 30_000)
          await new Promise((r) => setTimeout(r, 100));
        info.stoppedLog = logs
          .get(w)!
          .split('\n')
          .find((l) => /cancelled/.test(l));
        info.exitSeconds = (Date.now() - t0) / 1000;
        const stale = w;
        w = second;
        stale.kill('SIGKILL');
      } else {
        const t0 = Date.now();
        if (fault === 'group-SIGINT') process.kill(-w.pid!, 'SIGINT');
        else w.kill(fault === 'SIGTERM' ? 'SIGTERM' : 'SIGKILL');
        await exited(w);
        if (fault === 'corrupt' || fault === 'truncate') {
          // Damage the newest checkpoint the retry would resume from: one flipped byte, or half a file.
          const hb = await waitForActivity(env.client, handle.workflowId, 'retrainChunk', (h) => !!h?.ref);
          const file = path.join(params.artifacts, 'objects', hb!.ref!.slice(0, 2), hb!.ref!);
          const bytes = fs.readFileSync(file);
          if (fault === 'corrupt') bytes[Math.floor(bytes.length / 2)] ^= 0xff;
          fs.writeFileSync(file, fault === 'corrupt' ? bytes : bytes.subarray(0, bytes.length >> 1));
          info.damaged = hb!.ref;
        }
        info.exitSeconds = (Date.now() - t0) / 1000;
        info.stoppedLog = logs
          .get(w)!
          .split('\n')
          .find((l) => (graceful(fault) ? /checkpointed step \d+/ : /cancelled|stopped/).test(l));
        w = gpuWorker(address, gpu);
      }
    }
    const out = (await handle.result()) as {
      checkpoint: string;
      curve: unknown[];
      steps: number;
      recoveries?: string[];
    };
    w.kill('SIGTERM');
    await exited(w);
    // Where each completed chunk attempt started (its result in the history).
    info.resumedFrom = ((await handle.fetchHistory()).events ?? [])
      .map((e) => e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data)
      .filter((d): d is Uint8Array => !!d)
      .map((d) => JSON.parse(Buffer.from(d).toString('utf8')) as { resumedFromStep?: number })
      .filter((r) => typeof r?.resumedFromStep === 'number')
      .map((r) => r.resumedFromStep!);
    return { out, ...info };
  }

  let clean: Awaited<ReturnType<typeof retrain>>['out'];

  it('a SIGKILL during a chunk: the same curve and the same final checkpoint bytes', async () => {
    clean = (await retrain('none')).out;
    const crashed = await retrain('SIGKILL');
    assert.equal(crashed.out.steps, 400);
    assert.deepEqual(crashed.out.curve, clean.curve);
    assert.equal(
      crashed.out.checkpoint,
      clean.checkpoint,
      'content-addressed: identical weights and optimizer state',
    );
  });

  it('SIGTERM: the worker stops at the next step within seconds, saying so; the retry ends the same', async function () {
    if (!clean) this.skip();
    const r = await retrain('SIGTERM');
    assert.ok(r.exitSeconds! < 15, `the worker exited ${r.exitSeconds} s after SIGTERM`);
    assert.ok(r.stoppedLog, 'the worker said where it stopped');
    // No periodic checkpoint in this chunk: the retry starts where SIGTERM stopped it, not at 0.
    assert.ok(
      r.resumedFrom!.some((x) => x >= r.killedAtStep!),
      `the retry resumed from ${r.resumedFrom} (SIGTERM at step ≥ ${r.killedAtStep})`,
    );
    assert.equal(r.out.checkpoint, clean.checkpoint);
  });

  it('Ctrl-C (SIGINT to the process group, hosts included): as SIGTERM, the step reached is checkpointed and the retry ends the same', async function () {
    if (!clean) this.skip();
    const r = await retrain('group-SIGINT');
    assert.ok(r.exitSeconds! < 15, `the worker exited ${r.exitSeconds} s after Ctrl-C`);
    assert.ok(r.stoppedLog, 'the worker said where it stopped (not "killed by SIGINT")');
    assert.ok(
      r.resumedFrom!.some((x) => x >= r.killedAtStep!),
      `the retry resumed from ${r.resumedFrom} (Ctrl-C at step ≥ ${r.killedAtStep})`,
    );
    assert.equal(r.out.checkpoint, clean.checkpoint);
  });

  it('SIGSTOP past the heartbeat timeout, then SIGCONT: the stale attempt stops at once; one attempt trains', async function () {
    if (!clean) this.skip();
    const r = await retrain('SIGSTOP');
    assert.ok(r.stoppedLog, 'the continued stale attempt noticed it was given up and stopped');
    assert.ok(r.exitSeconds! < 15, `it stopped ${r.exitSeconds} s after SIGCONT`);
    assert.match(r.stoppedLog!, /cancelled .* at step \d+: stopped at the step boundary/);
    assert.equal(r.out.checkpoint, clean.checkpoint, 'the run ends as the uninterrupted one');
  });

  for (const fault of ['corrupt', 'truncate'] as const) {
    it(`a ${fault === 'corrupt' ? 'flipped byte in' : 'truncated'} newest checkpoint: the retry falls back to the previous one and says so`, async function () {
      if (!clean) this.skip();
      const r = await retrain(fault);
      assert.ok(r.damaged);
      const notes = (r.out.recoveries ?? []).join('\n');
      assert.match(notes, new RegExp(`${r.damaged!.slice(0, 12)}….*is unusable: .*corrupt`));
      assert.match(notes, /resumed from the checkpoint of step \d+/);
      assert.equal(r.out.checkpoint, clean.checkpoint, 'the run ends as the uninterrupted one');
    });
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('exact resume across a dev server SIGKILL and restart mid-search @integration @faults', function () {
  this.timeout(900_000);
  const children: ChildProcess[] = [];
  after(() =>
    children.forEach((c) => {
      try {
        process.kill(c.spawnargs.includes('server') ? -c.pid! : c.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }),
  );

  function server(port: number, db: string): ChildProcess {
    // Its own process group: a kill takes the wrapper and its temporal child together.
    const s = spawn(
      process.execPath,
      [cli, 'server', '--port', String(port), '--ui-port', String(port + 1000), '--db', db],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    s.stdout!.on('data', () => undefined);
    s.stderr!.on('data', () => undefined);
    children.push(s);
    return s;
  }

  async function connect(address: string): Promise<Client> {
    for (let i = 0; ; i++) {
      try {
        return new Client({ connection: await Connection.connect({ address }) });
      } catch (err) {
        if (i > 150) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async function run(restart: boolean) {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const db = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'faults-db-')), 'temporal.db');
    let srv = server(port, db);
    const client = await connect(address);
    const queues = { control: uniqueQueue('srv-control'), gpu: uniqueQueue('srv-gpu') };
    const workers = [worker(address, queues.control, 'control'), worker(address, queues.gpu)];
    children.push(...workers);
    const handle = await client.workflow.start('autogan-search', {
      args: [tinySearch(queues, SEARCH_LONG_SHARED)],
      taskQueue: queues.control,
      workflowId: `faults-server-${restart}-${Date.now()}`,
    });
    if (restart) {
      await waitForActivity(client, handle.workflowId, 'searchTrainShared', (hb) => !!hb?.ref);
      process.kill(-srv.pid!, 'SIGKILL');
      await exited(srv);
      await new Promise((r) => setTimeout(r, 1000));
      srv = server(port, db);
    }
    let result: SearchResult | undefined;
    for (let i = 0; !result; i++) {
      try {
        const c = restart ? await connect(address) : client;
        result = (await c.workflow.getHandle(handle.workflowId).result()) as SearchResult;
      } catch (err) {
        if (i > 20) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(exited));
    process.kill(-srv.pid!, 'SIGTERM');
    await exited(srv);
    return summary(result);
  }

  it('the search survives the server dying and ends with the uninterrupted result', async () => {
    const clean = await run(false);
    const crashed = await run(true);
    assert.deepEqual(crashed, clean);
  });
});
