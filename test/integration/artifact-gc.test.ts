// @integration: `autogan gc` against a real Temporal dev server. A running attempt's heartbeat
// checkpoint (referenced by nothing on disk) is live; a search with collection running beside it
// the whole time (grace period of a few seconds) completes with exactly the results of a search
// without it; the command reads the server's open and completed workflows.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { artifactPath, putArtifact } from '../../core/artifacts';
import { temporalLiveRefs } from '../../runtime/live-refs';
import { collectGarbage } from '../../services/artifact-gc';
import type { SearchResult } from '../../workflows/search';
import { tinySearch } from '../helpers/search-params';
import { startTestServer, startWorkers, uniqueQueue } from '../helpers/temporal-env';
import { waitForActivity } from '../helpers/worker-process';

const cli = path.join(__dirname, '..', '..', '..', 'bin', 'autogan.js');

describe('autogan gc with a Temporal server @integration', function () {
  this.timeout(600_000);
  let env: TestWorkflowEnvironment;
  let stop: () => Promise<void>;
  const queues = { control: uniqueQueue('gc-control'), gpu: uniqueQueue('gc-gpu') };
  const where = () => ({ address: env.connection.options.address, namespace: env.namespace ?? 'default' });

  before(async () => {
    env = await startTestServer();
    stop = await startWorkers(env, [queues.control, queues.gpu]);
  });
  after(async () => {
    await stop?.();
    await env?.teardown();
  });

  it("keeps the checkpoint in a running attempt's heartbeat, which no file references", async () => {
    const p = tinySearch(queues, { maxIterations: 1, sharedSteps: 1_000_000, checkpointEvery: 3 });
    const handle = await env.client.workflow.start('autogan-search', {
      args: [p],
      taskQueue: queues.control,
      workflowId: `gc-heartbeat-${Date.now()}`,
    });
    try {
      let hb: { step: number; ref: string } | undefined;
      const end = Date.now() + 120_000;
      while (!hb) {
        assert.ok(Date.now() < end, 'no heartbeat with a checkpoint');
        const desc = await handle.describe();
        const a = (desc.raw.pendingActivities ?? []).find(
          (x) => x.activityType?.name === 'searchTrainShared',
        );
        const data = a?.heartbeatDetails?.payloads?.[0]?.data;
        const details = data ? JSON.parse(Buffer.from(data).toString('utf8')) : undefined;
        if (details?.ref) hb = details;
        else await new Promise((r) => setTimeout(r, 100));
      }
      const live = await temporalLiveRefs(env.client, where());
      assert.ok(live.open.includes(handle.workflowId));
      assert.ok(live.refs.has(hb.ref), 'the heartbeat ref is live');
      const init = fs.readdirSync(p.artifacts).filter((d) => !['objects', 'tmp', 'cache'].includes(d));
      assert.deepEqual(init, [], 'no run folder yet: only the server knows the refs');
      const report = collectGarbage({ root: p.artifacts, minAgeMs: 0, temporal: live });
      assert.ok(fs.existsSync(artifactPath(p.artifacts, hb.ref)));
      assert.ok(report.live.count >= 3, 'the initial supernet and controller (inputs) and the heartbeat');
    } finally {
      await handle.terminate('test done');
    }
  });

  it("keeps what a terminated run's history and a Schedule's action name (a reset or the schedule needs them)", async () => {
    const p = tinySearch(queues, { maxIterations: 1, sharedSteps: 1_000_000, checkpointEvery: 3 });
    const handle = await env.client.workflow.start('autogan-search', {
      args: [p],
      taskQueue: queues.control,
      workflowId: `gc-terminated-${Date.now()}`,
    });
    // Terminated once shared training has heartbeated a checkpoint (searchInit is done by then).
    await waitForActivity(env.client, handle.workflowId, 'searchTrainShared', (hb) => !!hb?.ref);
    await handle.terminate('an operator stopped it');
    // What a reset would restart from: the initial supernet and controller searchInit returned (in
    // the history only: no state file was written yet). The heartbeat's newer checkpoint is not in
    // the history, and a reset's fresh attempt could not use it.
    const init = ((await handle.fetchHistory()).events ?? [])
      .map((e) => e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data)
      .filter((d): d is Uint8Array => !!d)
      .map((d) => JSON.parse(Buffer.from(d).toString('utf8')) as { supernet?: string; controller?: string })
      .find((r) => r.supernet);
    assert.ok(init?.supernet && init.controller, 'searchInit completed before the terminate');
    assert.deepEqual(
      fs.readdirSync(p.artifacts).filter((d) => !['objects', 'tmp', 'cache'].includes(d)),
      [],
      'no run folder references them',
    );
    // A checkpoint only a Schedule names (`schedule create --evaluate <ref>`).
    const scheduled = putArtifact(p.artifacts, 'ckpt', (f) => fs.writeFileSync(f, `scheduled ${Date.now()}`));
    const scheduleId = `gc-schedule-${Date.now()}`;
    await env.client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '24h' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'autogan-pipeline',
        taskQueue: queues.control,
        args: [{ models: [{ checkpoint: scheduled }] }],
      },
      state: { paused: true },
    });
    try {
      const live = await temporalLiveRefs(env.client, where());
      assert.ok(!live.open.includes(handle.workflowId), 'terminated: not open');
      assert.ok(
        (live.closed ?? 0) >= 1 && (live.schedules ?? 0) >= 1,
        JSON.stringify({ ...live, refs: live.refs.size }),
      );
      for (const r of [init.supernet, init.controller])
        assert.ok(live.refs.has(r), `${r} (terminated run) is live`);
      assert.ok(live.refs.has(scheduled), "the schedule's checkpoint is live");
      collectGarbage({ root: p.artifacts, minAgeMs: 0, temporal: live });
      for (const r of [init.supernet, init.controller, scheduled])
        assert.ok(fs.existsSync(artifactPath(p.artifacts, r)), `${r} kept`);
    } finally {
      await env.client.schedule.getHandle(scheduleId).delete();
    }
  });

  it('a search with gc running beside it all the time ends exactly as one without', async () => {
    const run = async (collect: boolean) => {
      const p = tinySearch(queues);
      const handle = await env.client.workflow.start('autogan-search', {
        args: [p],
        taskQueue: queues.control,
        workflowId: `gc-${collect}-${Date.now()}`,
      });
      let deleted = 0;
      let passes = 0;
      let done = false;
      const result = handle.result().finally(() => (done = true));
      const loop = (async () => {
        while (collect && !done) {
          const now = Date.now();
          const live = await temporalLiveRefs(env.client, where());
          // A grace period of a few seconds covers a checkpoint written but not yet recorded.
          deleted += collectGarbage({ root: p.artifacts, minAgeMs: 2000, temporal: live, now }).deleted
            .length;
          passes++;
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const r = (await result) as SearchResult;
      await loop;
      return { r, deleted, passes, artifacts: p.artifacts, id: handle.workflowId };
    };
    const clean = await run(false);
    const collected = await run(true);
    assert.ok(
      collected.passes > 3,
      `collections during the search: ${collected.passes} (${collected.deleted} objects deleted)`,
    );
    assert.deepEqual(collected.r.rewards, clean.r.rewards);
    assert.deepEqual(collected.r.topK, clean.r.topK);
    assert.deepEqual(collected.r.history, clean.r.history);
    assert.equal(collected.r.supernet, clean.r.supernet, 'the same final supernet, byte for byte');

    // The command, against the server: the finished search's state is live, the rest can go.
    const out = spawnSync(
      process.execPath,
      [
        cli,
        'gc',
        '--artifacts',
        collected.artifacts,
        '--address',
        where().address,
        '--min-age',
        '0',
        '--json',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(out.status, 0, out.stderr);
    const report = JSON.parse(out.stdout);
    assert.ok(report.temporal.completed >= 1, JSON.stringify(report.temporal));
    assert.deepEqual(report.missing, []);
    for (const ref of [collected.r.supernet, collected.r.controller!])
      assert.ok(fs.existsSync(artifactPath(collected.artifacts, ref)), `${ref} kept`);
    assert.equal(report.objects.count - report.deleted.length, report.live.count);
    assert.ok(report.deleted.length + collected.deleted > 0, 'old supernets and controllers were collected');
    console.log(
      `      (${collected.passes} collections beside the search deleted ${collected.deleted} objects; afterwards ${report.deleted.length} more, ${report.live.count} live)`,
    );
  });
});
