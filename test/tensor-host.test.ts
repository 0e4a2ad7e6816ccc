// Tensor steps in a tensor host process: the same results as in the worker's own thread (byte for
// byte), errors that keep their class (so retry decisions do not change), cancellation at the next
// step boundary with the host reusable after it, and a worker whose thread stays free meanwhile.
import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { retrainChunk, retrainInit } from '../activities/retrain';
import {
  planCpuThreads,
  planGpus,
  stopTensorHosts,
  tensorCall,
  TENSOR_HOST_ENV,
} from '../activities/tensor-call';
import { noHooks } from '../services/search';
import type { RetrainParams } from '../services/retrain';
import { smallRetrain } from './helpers/retrain-params';

function params(over: Partial<RetrainParams> = {}): RetrainParams {
  return smallRetrain({
    label: 'host',
    runId: 'tensor-host-test',
    iterations: 40,
    stepsPerActivity: 40,
    evalImages: 20,
    checkpointEvery: 10,
    ...over,
  });
}

async function chunk(mode: 'inline' | 'process', p: RetrainParams) {
  process.env[TENSOR_HOST_ENV] = mode;
  const env = new MockActivityEnvironment();
  const { checkpoint } = (await env.run(retrainInit, p)) as { checkpoint: string };
  return (await env.run(retrainChunk, p, checkpoint)) as { checkpoint: string; step: number; dLoss: number };
}

describe('tensor host process @integration', function () {
  this.timeout(300_000);
  const modeBefore = process.env[TENSOR_HOST_ENV];
  // Hosts with TensorFlow's default threads, as this process has: a worker created by an earlier
  // test may have planned one thread for small trainings, and 1 vs 2 threads round differently.
  before(() => planCpuThreads(undefined));
  after(() => {
    if (modeBefore === undefined) delete process.env[TENSOR_HOST_ENV];
    else process.env[TENSOR_HOST_ENV] = modeBefore;
    stopTensorHosts();
  });

  it('a worker with GPUs runs each call in a host that sees one device, with memory growth; hosts are kept per device', async () => {
    process.env[TENSOR_HOST_ENV] = 'process';
    // Decisions only: on this CPU machine CUDA_VISIBLE_DEVICES changes nothing else.
    assert.match(planGpus(['3', '5'])!, /GPUs 3, 5: one training per GPU/);
    try {
      const placement = () => tensorCall('placement', [], noHooks, 'auto');
      const [a, b] = await Promise.all([placement(), placement()]);
      assert.deepEqual([a.visibleDevices, b.visibleDevices].sort(), ['3', '5'], 'one device each');
      assert.notEqual(a.pid, b.pid);
      assert.equal(a.allowGrowth, 'true');
      const again = await placement();
      const onThree = a.visibleDevices === '3' ? a : b;
      assert.equal(again.visibleDevices, '3', 'the first free device');
      assert.equal(again.pid, onThree.pid, "device 3's idle host is reused");
    } finally {
      planGpus(undefined);
      stopTensorHosts();
    }
  });

  it('trains to the same checkpoint bytes as the worker thread, and keeps the worker thread free', async () => {
    const inline = await chunk('inline', params());
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const hosted = await chunk('process', params());
    h.disable();
    assert.equal(hosted.step, 40);
    assert.equal(
      hosted.checkpoint,
      inline.checkpoint,
      'content-addressed: the same weights and optimizer state',
    );
    assert.equal(hosted.dLoss, inline.dLoss);
    console.log(`      longest stall of the worker's event loop with a host: ${(h.max / 1e6).toFixed(1)} ms`);
  });

  it('an error in the host keeps its class: a missing dataset is not retried', async () => {
    process.env[TENSOR_HOST_ENV] = 'process';
    const p = params({
      dataset: { kind: 'folder', path: path.join(os.tmpdir(), 'no-such-dataset-dir') },
    });
    const env = new MockActivityEnvironment();
    await assert.rejects(env.run(retrainInit, p), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.type, 'DatasetError');
      assert.equal(err.nonRetryable, true);
      return true;
    });
  });

  it('a cancelled attempt stops at the next step boundary; the host then runs the next call', async () => {
    process.env[TENSOR_HOST_ENV] = 'process';
    const p = params({ iterations: 4000, stepsPerActivity: 4000, checkpointEvery: 1000 });
    const env = new MockActivityEnvironment();
    const { checkpoint } = (await env.run(retrainInit, p)) as { checkpoint: string };
    let beats = 0;
    env.on('heartbeat', () => {
      if (++beats === 2) env.cancel('CANCELLED');
    });
    const t0 = Date.now();
    await assert.rejects(
      env.run(retrainChunk, p, checkpoint),
      (err: unknown) => err instanceof CancelledFailure,
    );
    assert.ok(Date.now() - t0 < 60_000, 'stopped long before the 4000 steps');
    const next = await chunk('process', params());
    assert.equal(next.step, 40, 'the host is free for the next activity');
  });
});
