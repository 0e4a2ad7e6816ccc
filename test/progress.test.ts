// Live progress: how snapshots are drawn (terminal, plain log, JSON), and the snapshots themselves,
// taken from a real run on a real dev server while it trains.
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { ProgressPrinter, formatDuration, progressLines } from '../cli/progress-view';
import type { Plan } from '../pipeline/plan';
import { ProgressTracker, type RunProgress } from '../runtime/progress';
import { startPipeline } from '../runtime/start-pipeline';
import { check } from './helpers/pipeline-text';
import { uniqueQueue, useTestServer } from './helpers/temporal-env';

class Sink extends Writable {
  text = '';
  isTTY?: boolean;
  columns = 200;
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

function snap(step: number, state = 'running', done = 0): RunProgress {
  return {
    workflowId: 'wf-1',
    status: state === 'running' ? 'RUNNING' : 'COMPLETED',
    type: 'pipelineWorkflow',
    at: '2026-11-29T10:00:00.000Z',
    pipeline: 'demo',
    steps: [
      { id: 'search', uses: 'autogan.search', state: 'done', children: [], activities: [] },
      {
        id: 'retrain',
        uses: 'autogan.retrain',
        state,
        fanOut: { done, total: 2 },
        activities: [],
        children: [
          {
            workflowId: 'wf-1.retrain.0',
            type: 'autogan-retrain',
            status: 'RUNNING',
            retrain: { label: 'top1', step: 40, totalSteps: 160 },
            activities: [{ type: 'retrainChunk', attempt: 1, step, total: 80, rate: 4, etaSeconds: 10 }],
          },
        ],
      },
    ],
  };
}

describe('progress display', () => {
  it('shows the retrain step over all chunks, steps/s and the ETA to the end', () => {
    const lines = progressLines(snap(60));
    assert.equal(lines[0], 'wf-1: RUNNING (pipeline demo)');
    assert.match(lines[1], /search\s+done/);
    assert.match(lines[2], /retrain\s+running 0\/2/);
    // 100 steps left at 4 steps/s: 25 s, not the chunk's 10 s.
    assert.match(lines[3], /\[0\] top1: step 60\/160 {2}4\.00 steps\/s {2}ETA 0:25/);
  });

  it('formats durations as m:ss and XhYYm', () => {
    assert.equal(formatDuration(65), '1:05');
    assert.equal(formatDuration(3 * 3600 + 7 * 60 + 5), '3h07m');
    assert.equal(formatDuration(Infinity), '?');
  });

  it('redraws in place on a terminal', () => {
    const out = new Sink();
    const p = new ProgressPrinter('tty', out);
    p.print(snap(50));
    assert.ok(!out.text.includes('\x1b['), 'the first draw moves nothing');
    const first = out.text.split('\n').length - 1;
    p.print(snap(60));
    assert.ok(out.text.includes(`\x1b[${first}F\x1b[J`), 'the second draw goes back up over the first');
  });

  it('prints plain lines only when something other than the step count changed', () => {
    const out = new Sink();
    const p = new ProgressPrinter('plain', out, 60_000);
    p.print(snap(50));
    p.print(snap(60));
    p.print(snap(70));
    assert.equal(out.text.match(/wf-1: RUNNING/g)?.length, 1, out.text);
    p.print(snap(70, 'running', 1));
    assert.equal(out.text.match(/wf-1: RUNNING/g)?.length, 2, 'a finished child is news');
    assert.ok(!out.text.includes('\x1b['), 'no escape codes in a log');
  });

  it('writes one JSON document per snapshot with --json', () => {
    const out = new Sink();
    const p = new ProgressPrinter('json', out);
    p.print(snap(50));
    p.print(snap(60));
    const docs = out.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunProgress);
    assert.equal(docs.length, 2);
    assert.equal(docs[1].steps[1].children[0].activities[0].step, 60);
  });

  it('picks the mode from the stream and the flag', () => {
    assert.equal(ProgressPrinter.modeFor({}, Object.assign(new Sink(), { isTTY: true })), 'tty');
    assert.equal(ProgressPrinter.modeFor({}, new Sink()), 'plain');
    assert.equal(ProgressPrinter.modeFor({ json: true }, Object.assign(new Sink(), { isTTY: true })), 'json');
  });
});

describe('progress snapshots of a real run @integration', function () {
  this.timeout(240_000);
  const control = uniqueQueue('control');
  const gpu = uniqueQueue('gpu');
  const server = useTestServer([control, gpu]);

  it('follows a retrain fan-out: running children, heartbeat steps, a rate, then COMPLETED', async () => {
    const { plan, issues } = check(`apiVersion: autogan/v1
kind: Pipeline
metadata: { name: progress }
spec:
  dataset: { kind: mnist }
  taskQueues: { control: ${control}, gpu: ${gpu} }
  steps:
    - id: inspect
      uses: dataset.inspect
      with: { shards: 2, limit: 200 }
    - id: retrain
      uses: autogan.retrain
      forEach: inspect.shards
      with:
        arch: [0, 1, 0, 0, 0, 1, 0, 0, 1]
        label: child-\${{ item.index }}
        gan: { latentDim: 16, gfDim: 8, dfDim: 8, bottomWidth: 4, channels: 1 }
        train: { nCritic: 1, genBatchSize: 8, disBatchSize: 8 }
        iterations: 120
        stepsPerActivity: 60
        evalImages: 50
        evalEvery: 0
        checkpointEvery: 20
        datasetLimit: 200
`);
    assert.deepEqual(issues, []);
    const handle = await startPipeline(server.env.client, plan as Plan);
    const tracker = new ProgressTracker(server.env.client);
    const snaps: RunProgress[] = [];
    for (;;) {
      const s = await tracker.snapshot(handle.workflowId);
      snaps.push(s);
      if (s.status !== 'RUNNING') break;
      await new Promise((r) => setTimeout(r, 150));
    }
    await handle.result();
    // The Web UI's summary lines (user metadata) of the run and of a fan-out child.
    const desc = await handle.describe();
    assert.equal(await desc.staticSummary(), 'AutoGAN pipeline progress on mnist: inspect → retrain');
    assert.match(
      (await desc.staticDetails()) ?? '',
      /- `retrain`: autogan.retrain for each of inspect.shards/,
    );
    const child = await server.env.client.workflow.getHandle(`${handle.workflowId}.retrain.1`).describe();
    assert.equal(await child.staticSummary(), 'retrain [1] (autogan.retrain) of pipeline progress');
    const last = snaps[snaps.length - 1];
    assert.equal(last.status, 'COMPLETED');
    const retrains = snaps
      .map((s) => s.steps.find((x) => x.id === 'retrain')!)
      .filter((r) => r?.state === 'running');
    assert.ok(retrains.length > 0, 'the fan-out was seen running');
    assert.ok(
      retrains.some((r) =>
        r.children.some((c) => c.retrain?.label === 'child-0' && c.retrain.totalSteps === 120),
      ),
      'the retrain child answers its progress query',
    );
    const steps = retrains.flatMap((r) =>
      r.children.flatMap((c) =>
        c.activities.filter((a) => a.type === 'retrainChunk' && a.step !== undefined),
      ),
    );
    assert.ok(steps.length > 0, 'heartbeat steps were read from describe()');
    assert.ok(
      steps.every((a) => a.step! >= 0 && a.step! <= 120 && a.total! <= 120),
      JSON.stringify(steps.slice(0, 5)),
    );
    assert.ok(
      steps.some((a) => a.rate !== undefined && a.rate > 0 && a.etaSeconds !== undefined),
      'a rate and an ETA from two snapshots',
    );
  });
});
