// The artifact lifecycle without a server: checkpoint bytes that depend on the content alone, the
// time interval of checkpoints, intermediate checkpoints pruned when an activity completes, and
// `autogan gc` (services/artifact-gc.ts): a tiny search run for many iterations with collection
// between them keeps a bounded store, never loses what the durable state or a heartbeat references
// (a resume after collection gives the uninterrupted run's results), keeps young objects, and a
// dry run deletes nothing. With a real Temporal server: test/integration/artifact-gc.test.ts.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { searchRecordState } from '../activities/search';
import { randomArch } from '../core/arch/encoding';
import { artifactPath, putArtifact, type ArtifactRef } from '../core/artifacts';
import { loadCheckpoint } from '../core/checkpoint/format';
import { BatchLoader } from '../core/datasets/loader';
import { openMnist } from '../core/datasets/mnist';
import { imageSizeAt } from '../core/gan/config';
import { GanTrainer } from '../core/gan/trainer';
import { Rng } from '../core/rng';
import { stageAt, withSearchDefaults, type SearchParams } from '../pipeline/search-params';
import { openHistoryRefs, scanForRefs } from '../runtime/live-refs';
import { collectGarbage, refsIn, storeSize, type TemporalRefs } from '../services/artifact-gc';
import { LocalStore } from '../services/artifact-store';
import { CheckpointGate } from '../services/checkpoints';
import {
  grow,
  initSearch,
  noHooks,
  resetShared,
  trainController,
  trainShared,
  type Hooks,
  type SearchRefs,
} from '../services/search';
import { freshLoopState, trainLoop } from '../services/train-loop';
import { tinySearch } from './helpers/search-params';
import { TINY_GAN, TINY_TRAIN } from './helpers/tiny-gan';

const cli = path.join(__dirname, '..', '..', 'bin', 'autogan.js');
const queues = { control: 'c', gpu: 'g' };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gc-'));
const HOUR = 3_600_000;

/** An object of random bytes, its mtime set `ageMs` into the past. */
function object(root: string, ageMs = 0, bytes = 1000): ArtifactRef {
  const ref = putArtifact(root, 'bin', (f) => fs.writeFileSync(f, randomBytes(bytes)));
  age(artifactPath(root, ref), ageMs);
  return ref;
}

function age(file: string, ageMs: number): void {
  const t = new Date(Date.now() - ageMs);
  fs.utimesSync(file, t, t);
}

const exists = (root: string, ref: ArtifactRef) => fs.existsSync(artifactPath(root, ref));

/** One search iteration (Algorithm 1) over the phases, as the workflow runs them. */
async function iteration(p: SearchParams, s: SearchRefs) {
  if (stageAt(p, s.iteration) > s.stage) {
    const g = await grow(p, s);
    s = { ...s, beams: g.beams, controller: g.controller, supernet: g.supernet, stage: g.stage };
  }
  const r = await trainShared(p, s);
  s = { ...s, supernet: r.supernet };
  const c = await trainController(p, s);
  s = { ...s, controller: c.controller };
  if (r.reset) s = { ...s, supernet: await resetShared(p, s) };
  return { s: { ...s, iteration: s.iteration + 1 }, reward: c.meanReward, dLoss: r.dLoss };
}

async function start(p: SearchParams): Promise<SearchRefs> {
  const init = await initSearch(p);
  return { supernet: init.supernet, controller: init.controller, beams: [], stage: init.stage, iteration: 0 };
}

/** The durable state, as the workflow records it after every iteration. */
function record(p: SearchParams, runId: string, s: SearchRefs): Promise<string> {
  return searchRecordState(p.artifacts, runId, { params: p, state: { ...s, history: [] } });
}

/** The search's refs from its durable state file, as `autogan resume` continues it. */
function fromState(p: SearchParams, runId: string): SearchRefs {
  const saved = JSON.parse(fs.readFileSync(path.join(p.artifacts, runId, 'search-state.json'), 'utf8'));
  const st = saved.state as SearchRefs;
  return {
    supernet: st.supernet,
    controller: st.controller,
    beams: st.beams,
    stage: st.stage,
    iteration: st.iteration,
  };
}

describe('artifact lifecycle and `autogan gc`', function () {
  this.timeout(600_000);

  it('--dry-run changes nothing: an object an interrupted collection left aside stays aside until a real run puts it back', () => {
    const root = tmp();
    const ref = putArtifact(root, 'ckpt', (f) => fs.writeFileSync(f, 'left aside'));
    const file = artifactPath(root, ref);
    const aside = `${file}.gc-999999999`; // no such process: that collection died
    fs.renameSync(file, aside);
    const before = fs.readdirSync(path.dirname(file)).sort();
    const dry = collectGarbage({ root, minAgeMs: 0, dryRun: true });
    assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), before, 'a dry run renames nothing');
    assert.equal(dry.deleted.length, 0);
    collectGarbage({ root, minAgeMs: 3_600_000 });
    assert.ok(fs.existsSync(file) && !fs.existsSync(aside), 'a real run puts it back');
    assert.equal(fs.readFileSync(file, 'utf8'), 'left aside');
  });

  it('checkpoint bytes depend on the content alone: the same state saved twice is one object; old files with createdAt still load', async () => {
    const root = tmp();
    const store = new LocalStore(root);
    const t = GanTrainer.create(TINY_GAN, TINY_TRAIN, { seed: 3, stage: 1 });
    try {
      const a = await store.put('ckpt', (f) => t.save(f, { note: 'x' }));
      await new Promise((r) => setTimeout(r, 20));
      const b = await store.put('ckpt', (f) => t.save(f, { note: 'x' }));
      assert.equal(a, b, 'the same state gives the same reference');
      assert.equal(storeSize(root).count, 1);
      const ckpt = loadCheckpoint(artifactPath(root, a));
      assert.equal('createdAt' in ckpt.manifest, false);
      ckpt.tensors.forEach((x) => x.dispose());

      // A checkpoint of an earlier version: createdAt inside the manifest.
      const buf = fs.readFileSync(artifactPath(root, a));
      const len = buf.readUInt32LE(8);
      const manifest = JSON.parse(buf.subarray(16, 16 + len).toString('utf8'));
      const old = Buffer.from(JSON.stringify({ ...manifest, createdAt: '2026-01-01T00:00:00.000Z' }));
      const header = Buffer.from(buf.subarray(0, 16));
      header.writeUInt32LE(old.length, 8);
      const oldFile = path.join(root, 'old.ckpt');
      fs.writeFileSync(oldFile, Buffer.concat([header, old, buf.subarray(16 + len)]));
      const { trainer, extra } = GanTrainer.load(oldFile);
      assert.deepEqual(extra, { note: 'x' });
      assert.equal(trainer.stage, 1);
      trainer.dispose();
    } finally {
      t.dispose();
    }
  });

  it('checkpoints when checkpointEvery steps and checkpointMinSeconds of compute have passed', async () => {
    let now = 0;
    const gate = new CheckpointGate(10, () => now);
    assert.equal(gate.ready(), false);
    now = 10;
    assert.equal(gate.ready(), true);
    gate.wrote();
    now = 19;
    assert.equal(gate.ready(), false);
    assert.equal(new CheckpointGate(0, () => 0).ready(), true, '0: every due checkpoint');

    // The loop: a step takes 4 s of a fake clock; due every 2 steps, at most one per 10 s.
    const t = GanTrainer.create(TINY_GAN, TINY_TRAIN, { seed: 1, stage: 0 });
    const arch = randomArch(0, new Rng(2));
    try {
      const loader = new BatchLoader(
        openMnist(),
        { batchSize: 4, imageSize: imageSizeAt(TINY_GAN, 0), channels: 1, limit: 64 },
        1,
      );
      let clock = 0;
      const written: number[] = [];
      const state = freshLoopState();
      await trainLoop(t, loader, state, {
        end: 12,
        arch: () => arch,
        checkpointEvery: 2,
        checkpointMinSeconds: 10,
        clock: () => clock,
        checkpoint: async () => {
          written.push(state.step);
          return `${'0'.repeat(64)}.ckpt`;
        },
        hooks: {
          ...noHooks,
          atStepBoundary: async () => {
            clock += 4;
          },
        },
      });
      // Steps at 4 s each: step 4 (16 s ≥ 10), step 8 (32 − 16 ≥ 10); never the last (12).
      assert.deepEqual(written, [4, 8]);
    } finally {
      t.dispose();
    }
  });

  it('controller training checkpoints by the same time rule, and completed activities leave only their results', async () => {
    const p = withSearchDefaults(tinySearch(queues, { controllerSteps: 3, checkpointMinSeconds: 0 }));
    const s = await start(p);
    const before = storeSize(p.artifacts).count;
    const refs: Array<string | undefined> = [];
    const hooks: Hooks = { ...noHooks, progress: (x) => void refs.push(x.ref) };
    const c = await trainController(p, s, hooks);
    assert.equal(new Set(refs.filter(Boolean)).size, 2, 'one per step but the last (0 s minimum)');
    for (const r of refs.filter((x): x is string => !!x))
      assert.ok(!exists(p.artifacts, r), 'intermediate checkpoints are pruned when the activity completes');
    assert.ok(exists(p.artifacts, c.controller));
    assert.equal(storeSize(p.artifacts).count, before + 1, 'the new controller only');

    const slow = { ...p, checkpointMinSeconds: 1e9 };
    const refs2: Array<string | undefined> = [];
    const c2 = await trainController(slow, s, { ...noHooks, progress: (x) => void refs2.push(x.ref) });
    assert.deepEqual(refs2, [undefined, undefined, undefined], 'no checkpoint within the minimum interval');
    assert.equal(c2.controller, c.controller, 'the same controller, bit for bit');
    assert.deepEqual(c2.rewards, c.rewards);

    const sharedRefs: Array<string | undefined> = [];
    const r = await trainShared(p, s, { ...noHooks, progress: (x) => void sharedRefs.push(x.ref) });
    assert.deepEqual(
      [...new Set(sharedRefs.filter(Boolean))].length,
      2,
      'shared training: steps 2 and 4 of 6 (checkpointEvery 2)',
    );
    for (const x of sharedRefs.filter((x): x is string => !!x)) assert.ok(!exists(p.artifacts, x));
    assert.ok(exists(p.artifacts, r.supernet));
  });

  it('a tiny search with collection between iterations keeps a bounded store, and resumes from its durable state with the same results', async () => {
    const iterations = 10;
    const params = (): SearchParams =>
      withSearchDefaults(
        tinySearch(queues, {
          maxIterations: iterations,
          growSteps: [3],
          // No resets, and loss windows full at once: the models' state stops growing too.
          dynamicReset: { enabled: false, window: 2 },
        }),
      );

    // Without collection.
    const plain = params();
    let s = await start(plain);
    const plainRun: Array<{ reward: number; dLoss: number }> = [];
    const plainSizes: number[] = [];
    for (let it = 0; it < iterations; it++) {
      const r = await iteration(plain, s);
      s = r.s;
      plainRun.push({ reward: r.reward, dLoss: r.dLoss });
      plainSizes.push(storeSize(plain.artifacts).count);
    }

    // With `gc` after every iteration (after the durable state is recorded, as the workflow does),
    // and a resume from the state file half way.
    const p = params();
    const runId = 'gc-search';
    s = await start(p);
    const run: Array<{ reward: number; dLoss: number }> = [];
    const sizes: Array<{ count: number; bytes: number }> = [];
    let deleted = 0;
    for (let it = 0; it < iterations; it++) {
      if (it === iterations / 2) s = fromState(p, runId); // a fresh process: only the file is left
      const r = await iteration(p, s);
      s = r.s;
      run.push({ reward: r.reward, dLoss: r.dLoss });
      await record(p, runId, s);
      const report = collectGarbage({ root: p.artifacts, minAgeMs: 0 });
      assert.deepEqual(report.missing, [], 'everything the state references is in the store');
      deleted += report.deleted.length;
      sizes.push(storeSize(p.artifacts));
      assert.ok(exists(p.artifacts, s.supernet) && exists(p.artifacts, s.controller!));
    }
    assert.deepEqual(run, plainRun, 'collection and the resume change no result');
    assert.ok(deleted >= 2 * (iterations - 2), `old supernets and controllers were collected (${deleted})`);
    assert.ok(
      plainSizes[iterations - 1] >= plainSizes[1] + 2 * (iterations - 2),
      `without gc the store grows every iteration (${plainSizes})`,
    );
    // Bounded: after collection, the supernet and controller of the newest saved state and of the
    // one before it (search-state.previous.json, where `autogan resume` falls back to).
    assert.ok(
      sizes[0].count === 2 && sizes.slice(1).every((x) => x.count === 4),
      `objects after each collection: ${sizes.map((x) => x.count)}`,
    );
    // The same two models from the grow on; their JSON state fills up (Adam step counts of the new
    // cell's weights as they get sampled) within a few iterations, then only numbers change length.
    const tail = sizes.slice(6).map((x) => x.bytes);
    assert.ok(
      Math.max(...tail) - Math.min(...tail) <= 0.01 * Math.max(...tail),
      `bytes stop growing (${sizes.map((x) => x.bytes)})`,
    );
  });

  it("keeps a heartbeat's checkpoint that the server holds; without it a retry recomputes the phase with the same result", async () => {
    const p = withSearchDefaults(tinySearch(queues, { checkpointMinSeconds: 0, sharedSteps: 8 }));
    const s = await start(p);
    await record(p, 'hb-run', s);
    // An attempt dies right after its step-4 checkpoint was heartbeated.
    const beats: Array<{ step: number; ref: string }> = [];
    await assert.rejects(
      trainShared(p, s, {
        ...noHooks,
        progress: ({ step, ref }) => {
          if (!ref || beats.some((b) => b.ref === ref)) return;
          beats.push({ step, ref });
          if (step === 4) throw new Error('worker killed');
        },
      }),
      /worker killed/,
    );
    assert.deepEqual(
      beats.map((b) => b.step),
      [2, 4],
    );
    const hb = beats[1];
    const temporal: TemporalRefs = {
      address: 'test',
      namespace: 'default',
      refs: new Set([hb.ref]),
      open: ['hb-run'],
      completed: 0,
    };
    const report = collectGarbage({ root: p.artifacts, minAgeMs: 0, temporal });
    assert.deepEqual(
      report.deleted.map((d) => d.name),
      [beats[0].ref],
      "only the step-2 checkpoint goes; the heartbeat's is live",
    );
    const resumed = await trainShared(p, s, { ...noHooks, resumeFrom: hb });
    assert.equal(resumed.resumedFromStep, 4);

    // Uninterrupted, in another store: the same supernet, byte for byte.
    const q = withSearchDefaults({ ...tinySearch(queues, { checkpointMinSeconds: 0, sharedSteps: 8 }) });
    const clean = await trainShared(q, await start(q));
    assert.equal(resumed.supernet, clean.supernet);
    assert.equal(resumed.dLoss, clean.dLoss);

    // Offline collection does not know the heartbeat: the retry starts the phase over, same result.
    collectGarbage({ root: p.artifacts, minAgeMs: 0 });
    assert.ok(!exists(p.artifacts, hb.ref));
    const again = await trainShared(p, s, { ...noHooks, resumeFrom: hb });
    assert.equal(again.resumedFromStep, 0);
    assert.equal(again.supernet, clean.supernet);
  });

  it('a dry run deletes nothing; young objects and fresh temp files are kept; stale temp files go', () => {
    const root = tmp();
    const oldRef = object(root, 2 * HOUR);
    const youngRef = object(root, 60_000);
    fs.writeFileSync(path.join(root, 'tmp', 'stale.ckpt'), 'x'.repeat(10));
    age(path.join(root, 'tmp', 'stale.ckpt'), 2 * HOUR);
    fs.writeFileSync(path.join(root, 'tmp', 'fresh.ckpt'), 'x');

    const dry = collectGarbage({ root, minAgeMs: HOUR, dryRun: true });
    assert.deepEqual(
      dry.deleted.map((d) => d.name),
      [oldRef],
    );
    assert.equal(dry.deletedBytes, 1000);
    assert.deepEqual(
      dry.tmp.map((t) => t.name),
      [path.join('tmp', 'stale.ckpt')],
    );
    assert.ok(exists(root, oldRef) && fs.existsSync(path.join(root, 'tmp', 'stale.ckpt')), 'dry run');

    const real = collectGarbage({ root, minAgeMs: HOUR });
    assert.deepEqual(
      real.deleted.map((d) => d.name),
      [oldRef],
    );
    assert.equal(real.young.count, 1);
    assert.ok(!exists(root, oldRef) && exists(root, youngRef));
    assert.ok(!fs.existsSync(path.join(root, 'tmp', 'stale.ckpt')));
    assert.ok(fs.existsSync(path.join(root, 'tmp', 'fresh.ckpt')));
  });

  it('storing an old object again makes it young (a reference just handed out is never collected)', () => {
    const root = tmp();
    const bytes = randomBytes(500);
    const ref = putArtifact(root, 'bin', (f) => fs.writeFileSync(f, bytes));
    age(artifactPath(root, ref), 2 * HOUR);
    assert.equal(
      putArtifact(root, 'bin', (f) => fs.writeFileSync(f, bytes)),
      ref,
    );
    const r = collectGarbage({ root, minAgeMs: HOUR });
    assert.equal(r.deleted.length, 0);
    assert.ok(exists(root, ref));
  });

  it('references in any JSON of a run folder are live; --keep-runs N protects only the newest N folders', () => {
    const root = tmp();
    const [a, b, c, loose] = [
      object(root, 2 * HOUR),
      object(root, 2 * HOUR),
      object(root, 2 * HOUR),
      object(root, 2 * HOUR),
    ];
    fs.mkdirSync(path.join(root, 'old-run'));
    fs.writeFileSync(
      path.join(root, 'old-run', 'search-state.json'),
      JSON.stringify({ state: { supernet: a } }),
    );
    age(path.join(root, 'old-run', 'search-state.json'), 5 * HOUR);
    fs.mkdirSync(path.join(root, 'new-run', 'nested'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'new-run', 'result.json'),
      JSON.stringify({ outputs: { retrain: { items: [{ checkpoint: b }] } } }),
    );
    fs.writeFileSync(path.join(root, 'new-run', 'nested', 'evaluation.json'), `{"note": "model ${c} won"}`);
    const all = collectGarbage({ root, minAgeMs: HOUR, dryRun: true });
    assert.deepEqual(
      all.deleted.map((d) => d.name),
      [loose],
    );
    assert.equal(all.live.count, 3);
    const newest = collectGarbage({ root, minAgeMs: HOUR, keepRuns: 1 });
    assert.deepEqual(newest.deleted.map((d) => d.name).sort(), [a, loose].sort());
    assert.deepEqual(
      newest.runs.filter((r) => !r.kept).map((r) => r.name),
      ['old-run'],
    );
  });

  it('finds references in heartbeat payloads and history events', () => {
    const ref = `${'ab'.repeat(32)}.ckpt`;
    const details = { payloads: [{ metadata: {}, data: Buffer.from(JSON.stringify({ step: 4, ref })) }] };
    const into = new Set<string>();
    scanForRefs({ raw: { pendingActivities: [{ heartbeatDetails: details }] } }, into);
    assert.deepEqual([...into], [ref]);
    assert.deepEqual([...refsIn(`a${'c'.repeat(64)}.ckpt ${'d'.repeat(65)}.ckpt`)], [], 'whole refs only');
    assert.deepEqual([...refsIn(`"${ref}"`)], [ref]);
  });

  it("an open workflow's history: pending inputs, other results and only the newest result of a superseding phase are live", () => {
    const ref = (c: string) => `${c.repeat(64)}.ckpt`;
    const payload = (v: unknown) => ({ payloads: [{ data: Buffer.from(JSON.stringify(v)) }] });
    let id = 0;
    const events: unknown[] = [
      {
        eventId: ++id,
        workflowExecutionStartedEventAttributes: { input: payload({ state: { supernet: ref('a') } }) },
      },
    ];
    const activity = (type: string, input: unknown, result?: unknown) => {
      const scheduled = ++id;
      events.push({
        eventId: scheduled,
        activityTaskScheduledEventAttributes: { activityType: { name: type }, input: payload(input) },
      });
      if (result !== undefined)
        events.push({
          eventId: ++id,
          activityTaskCompletedEventAttributes: { scheduledEventId: scheduled, result: payload(result) },
        });
    };
    activity('retrainInit', { p: 1 }, { checkpoint: ref('b') });
    activity('retrainChunk', ref('b'), { checkpoint: ref('c') });
    activity('retrainChunk', ref('c'), { checkpoint: ref('d') });
    activity('retrainChunk', ref('d'), { checkpoint: ref('e') });
    activity('evaluateStep', { models: [ref('f')] }, { winner: ref('f') });
    activity('retrainChunk', ref('e')); // pending: its input is live
    const live = new Set<string>();
    openHistoryRefs({ events: events as never }, live);
    assert.deepEqual([...live].sort(), ['a', 'b', 'e', 'f'].map(ref), 'the finished chunks c and d are not');
  });

  it('`autogan gc` refuses to delete without a reachable server unless --offline, and prints what it deletes', () => {
    const root = tmp();
    const ref = object(root, 2 * HOUR);
    const refused = spawnSync(
      process.execPath,
      [cli, 'gc', '--artifacts', root, '--address', '127.0.0.1:1'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /Nothing was deleted.*--offline/s);
    assert.ok(exists(root, ref));

    const dry = spawnSync(process.execPath, [cli, 'gc', '--artifacts', root, '--offline', '--dry-run'], {
      encoding: 'utf8',
    });
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would delete ${ref}`));
    assert.match(dry.stdout, /dry run: would delete 1 objects, 1000 B/);
    assert.ok(exists(root, ref));

    const real = spawnSync(process.execPath, [cli, 'gc', '--artifacts', root, '--offline', '--json'], {
      encoding: 'utf8',
    });
    assert.equal(real.status, 0, real.stderr);
    assert.deepEqual(
      JSON.parse(real.stdout).deleted.map((d: { name: string }) => d.name),
      [ref],
    );
    assert.ok(!exists(root, ref));

    const bad = spawnSync(
      process.execPath,
      [cli, 'gc', '--artifacts', root, '--offline', '--min-age', 'soon'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(bad.status, 2);
  });
});
