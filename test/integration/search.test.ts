// @integration: the autogan-search workflow on a real dev server: growth, beams, dynamic reset,
// continue-as-new, pause/resume/stop, `autogan resume`, and `temporal workflow start`.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveTemporalBinary } from '../../server/temporal-binary';
import { progressQuery, type SearchResult } from '../../workflows/search';
import { tinySearch } from '../helpers/search-params';
import { DEFAULT_RETRAIN } from '../../pipeline/retrain-params';
import { startTestServer, startWorkers, uniqueQueue } from '../helpers/temporal-env';
import { tensorConcurrency } from '../../runtime/worker';

const cli = path.join(__dirname, '..', '..', '..', 'bin', 'autogan.js');

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('autogan-search workflow @integration', function () {
  this.timeout(300_000);
  let env: TestWorkflowEnvironment;
  let stop: () => Promise<void>;
  const queues = { control: uniqueQueue('search-control'), gpu: uniqueQueue('search-gpu') };

  before(async () => {
    env = await startTestServer();
    stop = await startWorkers(env, [queues.control, queues.gpu]);
  });
  after(async () => {
    await stop?.();
    await env?.teardown();
  });

  it('searches two stages: grows with top-K beams, resets when forced, continues-as-new, derives the top K', async () => {
    const params = tinySearch(queues, {
      dynamicReset: { enabled: true, window: 2, threshold: 1e9, measure: 'std' },
    });
    const handle = await env.client.workflow.start('autogan-search', {
      args: [params],
      taskQueue: queues.control,
      workflowId: `search-${Date.now()}`,
    });
    const r = (await handle.result()) as SearchResult;
    assert.equal(r.iterations, 4);
    assert.equal(r.stage, 1);
    assert.equal(r.grown.length, 1);
    assert.equal(r.grown[0].iteration, 2);
    assert.equal(r.grown[0].topK.length, 2);
    for (const b of r.beams) {
      assert.equal(b.arch.length, 4, 'beams hold stage-0 architectures');
      assert.equal(b.h.length, 8);
      assert.equal(b.c.length, 8);
    }
    assert.ok(r.resets >= 1, `the forced threshold must trigger dynamic resets (got ${r.resets})`);
    assert.ok(r.history.some((h) => h.reset));
    assert.equal(r.topK.length, 2);
    for (const t of r.topK) {
      assert.equal(t.arch.length, 9, 'final architectures have both cells');
      assert.ok(
        r.beams.some((b) => b.arch.join() === t.arch.slice(0, 4).join()),
        'each extends a kept beam',
      );
      assert.ok(t.score > 0);
    }
    assert.equal(r.rewards.length, 4);
    // The Web UI's workflow details say where the search stands.
    const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    assert.match(String(meta.currentDetails), /— done/);
    assert.match(String(meta.currentDetails), /iteration 4\/4, stage 1, dynamic resets \d+/);
    assert.match(String(meta.currentDetails), /best sampled reward \d/);
    // Continue-as-new after every 2 iterations: the first run ended that way.
    const first = env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
    const events = (await first.fetchHistory()).events!;
    assert.ok(
      events[events.length - 1].workflowExecutionContinuedAsNewEventAttributes,
      'first run continued as new',
    );
    const state = JSON.parse(
      fs.readFileSync(path.join(params.artifacts, handle.workflowId, 'search-state.json'), 'utf8'),
    );
    assert.equal(state.state.iteration, 4);
  });

  it('pauses between steps, resumes, and on stop derives from what exists', async () => {
    const params = tinySearch(queues, { maxIterations: 30, continueAsNewEvery: 100 });
    const handle = await env.client.workflow.start('autogan-search', {
      args: [params],
      taskQueue: queues.control,
      workflowId: `pause-${Date.now()}`,
    });
    await waitFor('iteration 1', async () =>
      (await handle.query(progressQuery)).iteration >= 1 ? true : undefined,
    );
    await handle.signal('pause');
    const paused = await waitFor('the paused phase', async () => {
      const p = await handle.query(progressQuery);
      return p.phase === 'paused' ? p : undefined;
    });
    await new Promise((r) => setTimeout(r, 2500));
    const still = await handle.query(progressQuery);
    assert.equal(still.iteration, paused.iteration, 'no progress while paused');
    assert.equal(still.phase, 'paused');
    await handle.signal('resume');
    await waitFor('progress after resume', async () =>
      (await handle.query(progressQuery)).iteration > paused.iteration ? true : undefined,
    );
    await handle.signal('stop');
    const r = (await handle.result()) as SearchResult;
    assert.equal(r.stopped, true);
    assert.ok(r.iterations < 30);
    assert.equal(r.topK.length, 2);
  });

  it('`autogan resume` continues a terminated search from its last saved iteration', async () => {
    const params = tinySearch(queues, { maxIterations: 5, continueAsNewEvery: 100 });
    const id = `resume-${Date.now()}`;
    const handle = await env.client.workflow.start('autogan-search', {
      args: [params],
      taskQueue: queues.control,
      workflowId: id,
    });
    const stateFile = path.join(params.artifacts, id, 'search-state.json');
    await waitFor('a saved iteration', async () =>
      fs.existsSync(stateFile) && JSON.parse(fs.readFileSync(stateFile, 'utf8')).state.iteration >= 2
        ? true
        : undefined,
    );
    await handle.terminate('test: simulate a lost run');
    const saved = JSON.parse(fs.readFileSync(stateFile, 'utf8')).state.iteration;
    const address = env.connection.options.address;
    const r = spawnSync(process.execPath, [cli, 'resume', id, '--address', address], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`resumed ${id} at iteration ${saved} \\(stage \\d\\) as ${id}-r1`));
    const resumed = env.client.workflow.getHandle(`${id}-r1`);
    const result = (await resumed.result()) as SearchResult;
    assert.equal(result.iterations, 5);
    assert.equal(result.rewards.length, 5, 'the reward history carries over');
    assert.equal((await resumed.describe()).memo?.resumedFrom, id);
    const again = spawnSync(process.execPath, [cli, 'resume', `${id}-r1`, '--address', address], {
      encoding: 'utf8',
    });
    assert.equal(again.status, 1);
    assert.match(
      again.stderr,
      /is COMPLETED; only failed, terminated, timed_out, cancelled runs can be resumed/,
    );
  });

  it('`autogan resume` falls back to the previous saved state when the newest names a corrupt checkpoint', async () => {
    const params = tinySearch(queues, { maxIterations: 5, continueAsNewEvery: 100 });
    const id = `resume-corrupt-${Date.now()}`;
    const handle = await env.client.workflow.start('autogan-search', {
      args: [params],
      taskQueue: queues.control,
      workflowId: id,
    });
    const dir = path.join(params.artifacts, id);
    const stateFile = path.join(dir, 'search-state.json');
    await waitFor('two saved iterations', async () =>
      fs.existsSync(path.join(dir, 'search-state.previous.json')) &&
      JSON.parse(fs.readFileSync(stateFile, 'utf8')).state.iteration >= 3
        ? true
        : undefined,
    );
    await handle.terminate('test: a lost run with a damaged disk');
    const newest = JSON.parse(fs.readFileSync(stateFile, 'utf8')).state;
    const previous = JSON.parse(fs.readFileSync(path.join(dir, 'search-state.previous.json'), 'utf8')).state;
    assert.equal(previous.iteration, newest.iteration - 1);
    // One flipped byte in the supernet the newest state names.
    const obj = path.join(params.artifacts, 'objects', newest.supernet.slice(0, 2), newest.supernet);
    const bytes = fs.readFileSync(obj);
    bytes[bytes.length >> 1] ^= 0xff;
    fs.writeFileSync(obj, bytes);
    const address = env.connection.options.address;
    const r = spawnSync(process.execPath, [cli, 'resume', id, '--address', address], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /the newest saved state cannot be used \(search-state\.json \(iteration \d+\): .*corrupt/,
    );
    assert.match(
      r.stdout,
      new RegExp(`resumed ${id} at iteration ${previous.iteration} \\(stage \\d\\) as ${id}-r1`),
    );
    const result = (await env.client.workflow.getHandle(`${id}-r1`).result()) as SearchResult;
    assert.equal(result.iterations, 5);
  });

  it('starts with the plain `temporal workflow start --type autogan-search` CLI', async () => {
    const params = tinySearch(queues, { maxIterations: 1, growSteps: [5], candidates: 2 });
    const id = `cli-${Date.now()}`;
    const bin = await resolveTemporalBinary();
    const r = spawnSync(
      bin,
      [
        'workflow',
        'start',
        '--type',
        'autogan-search',
        '--task-queue',
        queues.control,
        '--workflow-id',
        id,
        '--input',
        JSON.stringify(params),
        '--address',
        env.connection.options.address,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const result = (await env.client.workflow.getHandle(id).result()) as SearchResult;
    assert.equal(result.iterations, 1);
    assert.equal(result.topK.length, 2);
    assert.equal(result.topK[0].arch.length, 4);
  });

  it('a direct start without a dataset fails at once with a message, and `autogan status` says why (exit 1)', async () => {
    const { dataset: _dataset, ...params } = tinySearch(queues, { maxIterations: 1 });
    const id = `nodata-${Date.now()}`;
    const handle = await env.client.workflow.start('autogan-search', {
      args: [params],
      taskQueue: queues.control,
      workflowId: id,
    });
    await assert.rejects(handle.result(), (err: Error & { cause?: Error }) =>
      /"dataset" must be an object/.test(String(err.cause?.message)),
    );
    const st = spawnSync(process.execPath, [cli, 'status', id, '--address', env.connection.options.address], {
      encoding: 'utf8',
    });
    assert.equal(st.status, 1, st.stderr);
    assert.match(st.stdout, new RegExp(`${id}: FAILED`));
    assert.match(st.stdout, /why: invalid autogan-search input: "dataset" must be an object/);
    // --json keeps the exit code.
    const js = spawnSync(
      process.execPath,
      [cli, 'status', id, '--json', '--address', env.connection.options.address],
      { encoding: 'utf8' },
    );
    assert.equal(js.status, 1, js.stderr);
    assert.equal((JSON.parse(js.stdout) as { status: string }).status, 'FAILED');
  });

  /** A search whose shared training writes checkpoints until stopped; how many objects its store holds. */
  async function endlessSearch(prefix: string) {
    const p = tinySearch(queues, { maxIterations: 1, sharedSteps: 1_000_000, checkpointEvery: 3 });
    const objects = path.join(p.artifacts, 'objects');
    const count = () =>
      fs.existsSync(objects)
        ? fs.readdirSync(objects).flatMap((d) => fs.readdirSync(path.join(objects, d))).length
        : 0;
    const handle = await env.client.workflow.start('autogan-search', {
      args: [p],
      taskQueue: queues.control,
      workflowId: `${prefix}-${Date.now()}`,
    });
    await waitFor('shared training under way', async () => (count() >= 5 ? true : undefined), 60_000);
    return { handle, count };
  }

  /** Seconds from `from` to the last change of `count()`, once it has been still for `stillMs`. */
  async function lastWriteAfter(count: () => number, from: number, stillMs: number): Promise<number> {
    let last = count();
    let lastChange = from;
    while (Date.now() - lastChange < stillMs) {
      assert.ok(Date.now() - from < 60_000, `checkpoints kept coming (${count()} objects)`);
      await new Promise((r) => setTimeout(r, 100));
      const now = count();
      if (now !== last) {
        last = now;
        lastChange = Date.now();
      }
    }
    return (lastChange - from) / 1000;
  }

  it('a cancelled search stops its training activity at the next step: no checkpoints after that', async () => {
    const { handle, count } = await endlessSearch('cancel');
    const cancelledAt = Date.now();
    await handle.cancel();
    await assert.rejects(handle.result(), /cancel/i);
    // Still for 4 s within a minute: the training attempt noticed and stopped writing.
    await lastWriteAfter(count, cancelledAt, 4000);
  });

  it('a terminated search stops writing checkpoints within seconds (the next heartbeat brings the news)', async () => {
    const { handle, count } = await endlessSearch('terminate');
    const terminatedAt = Date.now();
    await handle.terminate('an operator stopped it');
    const after = await lastWriteAfter(count, terminatedAt, 5000);
    console.log(`      last checkpoint ${after.toFixed(1)} s after the terminate`);
    assert.ok(
      after < 2.5,
      `training went on writing checkpoints for ${after.toFixed(1)} s after the terminate`,
    );
  });

  it('`autogan worker --kind control|gpu` listens on the documented queue with the documented concurrency', async () => {
    for (const [kind, queue, n] of [
      ['control', 'autogan-control', '8 concurrent activities'],
      // A CPU worker takes one activity per core (each training holds the cores its threads use).
      ['gpu', 'autogan-gpu', `${tensorConcurrency({ device: 'cpu' }).count} concurrent activit`],
    ]) {
      const child = spawn(
        process.execPath,
        [cli, 'worker', '--kind', kind, '--address', env.connection.options.address],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      try {
        await waitFor(
          `the ${kind} worker's start line`,
          async () => (/connected to/.test(err) ? true : undefined),
          60_000,
        );
        assert.match(err, new RegExp(`worker on queue "${queue}".*${n}`));
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
  });

  it('refuses artifact paths that are relative, outside the worker roots, or escape through a symlink', async () => {
    const outside = fs.mkdtempSync(path.join('/var/tmp', 'autogan-outside-'));
    const link = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'autogan-link-')), 'store');
    fs.symlinkSync(outside, link);
    const cases: Array<[string, RegExp]> = [
      ['../../../../tmp/evil', /is relative/],
      ['/proc/nonexistent', /outside this worker's roots/],
      [link, /really .*autogan-outside-.*outside this worker's roots/],
    ];
    for (const [artifacts, message] of cases) {
      const handle = await env.client.workflow.start('autogan-search', {
        args: [{ ...tinySearch(queues, { maxIterations: 1 }), artifacts }],
        taskQueue: queues.control,
        workflowId: `badpath-${Date.now()}-${Math.random().toString(36).slice(2)}`,
      });
      await assert.rejects(handle.result(), (err: Error & { cause?: Error & { cause?: Error } }) =>
        message.test(String(err.cause?.cause?.message ?? err.cause?.message)),
      );
    }
    assert.deepEqual(fs.readdirSync(outside), [], 'nothing was written outside the roots');
  });

  it('a direct start with a bad duration, a null section or a bad architecture fails at once, not retried', async () => {
    const address = env.connection.options.address;
    const cases: Array<{ type: string; args: Record<string, unknown>; message: RegExp }> = [
      {
        type: 'autogan-search',
        args: { ...tinySearch(queues, { maxIterations: 1 }), heartbeatTimeout: 'abc' },
        message: /"heartbeatTimeout" is "abc": expected a duration/,
      },
      {
        type: 'autogan-search',
        args: { ...tinySearch(queues, { maxIterations: 1 }), gan: null },
        message: /"gan" is null: leave it out for the default/,
      },
      {
        type: 'autogan-retrain',
        args: {
          ...DEFAULT_RETRAIN,
          arch: [9, 9],
          label: 'bad',
          runId: 'bad-arch',
          dataset: { kind: 'mnist' },
          artifacts: tinySearch(queues, {}).artifacts,
          seed: 1,
          backend: 'auto',
          taskQueues: queues,
        },
        message: /"arch": architecture vector has 2 integers/,
      },
    ];
    for (const c of cases) {
      // An id with '/' and ':', as a nightly job might name its runs.
      const id = `nightly/bad-direct:${Date.now()}`;
      const handle = await env.client.workflow.start(c.type, {
        args: [c.args],
        taskQueue: queues.control,
        workflowId: id,
      });
      await assert.rejects(handle.result(), (err: Error & { cause?: Error }) =>
        c.message.test(String(err.cause?.message)),
      );
      // Failed by the workflow itself before any activity: one workflow task, no activity scheduled.
      const events = (await handle.fetchHistory()).events ?? [];
      assert.equal(events.filter((e) => e.activityTaskScheduledEventAttributes).length, 0);
      assert.equal(
        events.filter((e) => e.workflowTaskFailedEventAttributes).length,
        0,
        'no workflow task retry loop',
      );
      const st = spawnSync(process.execPath, [cli, 'status', id, '--address', address], { encoding: 'utf8' });
      assert.equal(st.status, 1, st.stderr);
      assert.match(st.stdout, c.message);
    }
    // `report` takes such an id (it is not a folder here) and says why the run failed.
    const id = `nightly/bad-direct:${Date.now()}`;
    const handle = await env.client.workflow.start('autogan-search', {
      args: [{ ...tinySearch(queues, { maxIterations: 1 }), gan: null }],
      taskQueue: queues.control,
      workflowId: id,
    });
    await assert.rejects(handle.result());
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'report-slash-')), 'r.html');
    const rep = spawnSync(process.execPath, [cli, 'report', id, '--out', out, '--address', address], {
      encoding: 'utf8',
    });
    assert.equal(rep.status, 0, rep.stderr);
    assert.match(fs.readFileSync(out, 'utf8'), /Failed: .*&quot;gan&quot; is null/);
    const none = spawnSync(process.execPath, [cli, 'report', 'no/such:run', '--address', address], {
      encoding: 'utf8',
    });
    assert.equal(none.status, 2, none.stderr);
    assert.match(none.stderr, /no\/such:run is neither a folder here nor a workflow on/);
  });

  it('`autogan schedule create|list|delete` manages a Temporal Schedule for retraining', async () => {
    const address = env.connection.options.address;
    const pipeline = path.join(__dirname, '..', '..', '..', 'pipelines', 'demo-mnist.yaml');
    const id = `nightly-${Date.now()}`;
    const create = spawnSync(
      process.execPath,
      [
        cli,
        'schedule',
        'create',
        id,
        '--pipeline',
        pipeline,
        '--retrain',
        '0 1 0 1 1 1 1 1 1',
        '--every',
        '12h',
        '--overlap',
        'skip',
        '--address',
        address,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(create.status, 0, create.stderr);
    assert.match(
      create.stdout,
      /schedule nightly-\d+ created: retrain \[0 1 0 1 1 1 1 1 1\] every 12h, overlap skip/,
    );
    const desc = await env.client.schedule.getHandle(id).describe();
    assert.equal(desc.action.type, 'startWorkflow');
    assert.equal(desc.action.type === 'startWorkflow' && desc.action.workflowType, 'autogan-retrain');
    assert.equal(desc.policies.overlap, 'SKIP');
    const list = await waitFor(
      'the schedule in the list',
      async () => {
        const r = spawnSync(process.execPath, [cli, 'schedule', 'list', '--address', address], {
          encoding: 'utf8',
        });
        return r.stdout.includes(id) ? r.stdout : undefined;
      },
      30_000,
    );
    assert.match(list, new RegExp(`${id}\\tautogan-retrain\\tnext: \\d{4}-`));
    const del = spawnSync(process.execPath, [cli, 'schedule', 'delete', id, '--address', address], {
      encoding: 'utf8',
    });
    assert.equal(del.status, 0, del.stderr);
    await assert.rejects(env.client.schedule.getHandle(id).describe(), /not found/i);
    const bad = spawnSync(
      process.execPath,
      [cli, 'schedule', 'create', 'x', '--pipeline', pipeline, '--every', '1h', '--address', address],
      { encoding: 'utf8' },
    );
    assert.equal(bad.status, 2, 'a usage error exits 2');
    assert.match(bad.stderr, /exactly one of --retrain <vector> or --evaluate <checkpoint>/);
    // An architecture that is not one is refused at create, not by every scheduled run for hours.
    const notArch = spawnSync(
      process.execPath,
      [
        cli,
        'schedule',
        'create',
        'y',
        '--pipeline',
        pipeline,
        '--retrain',
        '9 9',
        '--every',
        '1h',
        '--address',
        address,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(notArch.status, 2, notArch.stderr);
    assert.match(
      notArch.stderr,
      /--retrain "9 9": architecture vector has 2 integers; expected 4 for one cell/,
    );
    await assert.rejects(env.client.schedule.getHandle('y').describe(), /not found/i);
    // --evaluate plans the pipeline's own evaluate step (its network and image count), not a fixed one.
    const evalId = `fid-${Date.now()}`;
    const ev = spawnSync(
      process.execPath,
      [
        cli,
        'schedule',
        'create',
        evalId,
        '--pipeline',
        pipeline,
        '--evaluate',
        'abc.ckpt',
        '--every',
        '24h',
        '--address',
        address,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(ev.status, 0, ev.stderr);
    const evDesc = await env.client.schedule.getHandle(evalId).describe();
    assert.ok(evDesc.action.type === 'startWorkflow');
    const planned = (
      evDesc.action.args as Array<{ steps: Array<{ uses: string; with: Record<string, unknown> }> }>
    )[0].steps[0];
    assert.equal(planned.uses, 'autogan.evaluate');
    assert.equal(planned.with.images, 2000, "the demo pipeline's evaluate step says 2000 images");
    assert.deepEqual(planned.with.models, [{ arch: [], label: evalId, checkpoint: 'abc.ckpt' }]);
    await env.client.schedule.getHandle(evalId).delete();
    const missing = spawnSync(process.execPath, [cli, 'schedule', 'delete', evalId, '--address', address], {
      encoding: 'utf8',
    });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, new RegExp(`no schedule "${evalId}"`));
  });
});
