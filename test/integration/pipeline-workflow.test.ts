// @integration: the whole path YAML → plan → workflow → activities → outputs on a real dev server.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { currentBackend } from '../../core/backend';
import { openMnist } from '../../core/datasets/mnist';
import { CIFAR10_FILES } from '../../core/datasets/cifar10';
import type { FanOutOutput, Plan } from '../../pipeline/plan';
import { startPipeline } from '../../runtime/start-pipeline';
import { pipelineStatusQuery } from '../../workflows/pipeline';
import { check } from '../helpers/pipeline-text';
import { startTestServer, startWorkers, uniqueQueue } from '../helpers/temporal-env';

function plan(yaml: string): Plan {
  const { plan, issues } = check(yaml);
  assert.deepEqual(issues, []);
  return plan!;
}

describe('pipeline workflow @integration', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let stopWorkers: () => Promise<void>;
  const control = uniqueQueue('control');
  const gpu = uniqueQueue('gpu');
  const queues = `  taskQueues:\n    control: ${control}\n    gpu: ${gpu}\n`;

  before(async () => {
    env = await startTestServer();
    stopWorkers = await startWorkers(env, [control, gpu]);
  });
  after(async () => {
    await stopWorkers?.();
    await env?.teardown();
  });

  it('runs a two-step pipeline with a forEach fan-out and returns every output', async () => {
    const p = plan(`apiVersion: autogan/v1
kind: Pipeline
metadata: { name: fanout }
spec:
  dataset: { kind: mnist }
${queues}  steps:
    - id: inspect
      uses: dataset.inspect
      with: { shards: 3, limit: 300 }
    - id: stats
      uses: dataset.stats
      forEach: inspect.shards
      with:
        shard: \${{ item }}
        batchSize: 64
`);
    const handle = await startPipeline(env.client, p);
    const result = await handle.result();
    const inspect = result.outputs.inspect as Record<string, unknown>;
    assert.equal(inspect.count, 300);
    assert.deepEqual(inspect.shape, [28, 28, 1]);
    assert.deepEqual(inspect.shards, [
      { index: 0, start: 0, end: 100 },
      { index: 1, start: 100, end: 200 },
      { index: 2, start: 200, end: 300 },
    ]);
    const items = (result.outputs.stats as FanOutOutput).items;
    assert.equal(items.length, 3);
    // Each shard's mean equals a direct computation over the same images.
    const ds = openMnist();
    items.forEach((item, i) => {
      const px = ds.read(i * 100, 100);
      const mean = px.reduce((a, b) => a + b, 0) / px.length;
      assert.equal(item.count, 100);
      assert.ok(Math.abs((item.mean as number) - mean) < 1e-4, `shard ${i}: ${item.mean} vs ${mean}`);
      assert.equal(item.backend, currentBackend()!.package);
    });
    const status = await handle.query(pipelineStatusQuery);
    assert.deepEqual(
      status.steps.map((s) => [s.id, s.state]),
      [
        ['inspect', 'done'],
        ['stats', 'done'],
      ],
    );
    assert.deepEqual(status.steps[1].fanOut, { done: 3, total: 3 });
  });

  it('fails fast on a bad dataset, naming the file, and skips the steps that needed it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-'));
    for (const f of CIFAR10_FILES) fs.writeFileSync(path.join(dir, f), Buffer.alloc(100));
    const p = plan(`apiVersion: autogan/v1
kind: Pipeline
metadata: { name: broken }
spec:
  dataset: { kind: cifar10, path: ${dir} }
${queues}  steps:
    - id: inspect
      uses: dataset.inspect
      retry: { maximumAttempts: 5 }
    - id: stats
      uses: dataset.stats
      forEach: inspect.shards
      with: { shard: "\${{ item }}" }
`);
    const handle = await startPipeline(env.client, p);
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(
        String(err.cause?.message),
        /step "inspect" \(dataset.inspect\) failed: CIFAR-10: .*data_batch_1.bin has 100 bytes, expected 30730000/,
      );
      return true;
    });
    const status = await handle.query(pipelineStatusQuery);
    assert.deepEqual(
      status.steps.map((s) => s.state),
      ['failed', 'skipped'],
    );
    // Non-retryable: one attempt only, although the step allows five.
    const history = await handle.fetchHistory();
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    assert.equal(started[0].activityTaskStartedEventAttributes!.attempt, 1);
  });

  it('runs independent steps in parallel', async () => {
    const p = plan(`apiVersion: autogan/v1
kind: Pipeline
metadata: { name: parallel }
spec:
  dataset: { kind: mnist }
${queues}  steps:
    - { id: a, uses: dataset.inspect, with: { limit: 10, shards: 1 } }
    - { id: b, uses: dataset.inspect, with: { limit: 20, shards: 1 } }
    - id: c
      uses: dataset.stats
      needs: [a, b]
      with: { shard: { start: 0, end: "\${{ steps.b.outputs.count }}" } }
`);
    const handle = await startPipeline(env.client, p);
    const result = await handle.result();
    assert.equal((result.outputs.c as Record<string, unknown>).count, 20);
    // Both independent activities were scheduled before either completed.
    const events = (await handle.fetchHistory()).events!;
    const kinds = events
      .map((e) =>
        e.activityTaskScheduledEventAttributes ? 'S' : e.activityTaskCompletedEventAttributes ? 'C' : '',
      )
      .filter(Boolean);
    assert.deepEqual(kinds.slice(0, 2), ['S', 'S']);
  });
});
