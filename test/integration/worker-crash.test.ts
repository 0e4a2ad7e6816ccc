// @integration: a GPU worker process killed with SIGKILL in the middle of shared training is
// replaced; the retried activity resumes from its last heartbeat checkpoint, and the search ends
// with exactly the rewards and architectures of an uninterrupted run with the same seed.
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveTemporalBinary } from '../../server/temporal-binary';
import type { SearchResult } from '../../workflows/search';
import { tinySearch } from '../helpers/search-params';
import { startTestServer, startWorkers, uniqueQueue } from '../helpers/temporal-env';
import { exited, waitForActivity, workerProcess } from '../helpers/worker-process';

const gpuWorker = (address: string, queue: string) => workerProcess(address, queue, 'gpu');

describe('worker crash during shared training @integration', function () {
  this.timeout(600_000);
  let env: TestWorkflowEnvironment;
  let stop: () => Promise<void>;
  const control = uniqueQueue('crash-control');
  const children: ChildProcess[] = [];

  before(async () => {
    await resolveTemporalBinary();
    env = await startTestServer();
    stop = await startWorkers(env, [control]);
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await stop?.();
    await env?.teardown();
  });

  it('resumes the killed activity from its checkpoint and reproduces the uninterrupted search', async () => {
    const address = env.connection.options.address;
    const run = async (gpu: string, killMidway: boolean) => {
      const params = tinySearch(
        { control, gpu },
        {
          maxIterations: 2,
          growSteps: [1],
          sharedSteps: 300,
          checkpointEvery: 10,
          controllerSteps: 1,
          continueAsNewEvery: 100,
        },
      );
      let worker = gpuWorker(address, gpu);
      children.push(worker);
      const handle = await env.client.workflow.start('autogan-search', {
        args: [params],
        taskQueue: control,
        workflowId: `crash-${killMidway}-${Date.now()}`,
      });
      let killedAt: number | undefined;
      if (killMidway) {
        // Wait for a shared-training heartbeat that carries a checkpoint, then kill the worker.
        const hb = await waitForActivity(
          env.client,
          handle.workflowId,
          'searchTrainShared',
          (h) => !!h?.ref && (h.step ?? 0) >= 20,
        );
        killedAt = hb?.step;
        worker.kill('SIGKILL');
        await exited(worker);
        worker = gpuWorker(address, gpu);
        children.push(worker);
      }
      const result = (await handle.result()) as SearchResult;
      worker.kill('SIGTERM');
      await exited(worker);
      const events = (await handle.fetchHistory()).events!;
      const shared = events
        .filter((e) => e.activityTaskCompletedEventAttributes)
        .map((e) =>
          JSON.parse(
            Buffer.from(e.activityTaskCompletedEventAttributes!.result!.payloads![0].data!).toString('utf8'),
          ),
        )
        .filter((r) => r && typeof r === 'object' && 'resumedFromStep' in r);
      return {
        result,
        killedAt,
        resumed: shared.map((s) => s.resumedFromStep as number),
        steps: shared.map((s) => s.steps as number),
      };
    };
    const clean = await run(uniqueQueue('crash-gpu'), false);
    const crashed = await run(uniqueQueue('crash-gpu'), true);
    assert.deepEqual(clean.resumed, [0, 0]);
    assert.ok(
      crashed.resumed.some((s) => s >= 10),
      `a retried attempt resumed from a checkpoint (resumed from ${crashed.resumed}, killed at step ${crashed.killedAt} of 300)`,
    );
    assert.deepEqual(
      crashed.steps,
      [300, 300],
      'the step counter continued to the end, not restarting the count',
    );
    assert.deepEqual(crashed.result.rewards, clean.result.rewards);
    assert.deepEqual(crashed.result.topK, clean.result.topK);
    assert.deepEqual(
      crashed.result.history.map((h) => [h.dLoss, h.gLoss]),
      clean.result.history.map((h) => [h.dLoss, h.gLoss]),
    );
  });
});
