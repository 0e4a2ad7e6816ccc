// A NaN/Inf loss stops training at that step with nothing written after it; a retrain that keeps
// diverging fails after a bounded number of attempts, each from the last checkpoint, with a message
// naming the step and the candidate.
import { strict as assert } from 'node:assert';
import { WorkflowFailedError } from '@temporalio/client';
import { openMnist } from '../core/datasets/mnist';
import { BatchLoader } from '../core/datasets/loader';
import { GanTrainer } from '../core/gan/trainer';
import { NUMERICAL_FAULT_ATTEMPTS } from '../activities/errors';
import { NumericalFault, checkFinite } from '../services/numerical-fault';
import { freshLoopState, trainLoop } from '../services/train-loop';
import type { Plan } from '../pipeline/plan';
import { reportFromServer } from '../runtime/report-live';
import { startPipeline } from '../runtime/start-pipeline';
import { reportHtml } from '../services/report/html';
import { check } from './helpers/pipeline-text';
import { uniqueQueue, useTestServer } from './helpers/temporal-env';
import { TINY_GAN, TINY_TRAIN } from './helpers/tiny-gan';

describe('numerical faults', () => {
  it('checkFinite passes finite losses and names the step of a NaN or Inf', () => {
    checkFinite(3, { dLoss: 1.5, gLoss: -0.2 });
    checkFinite(3, { dLoss: 1.5 });
    assert.throws(() => checkFinite(7, { dLoss: NaN }), /non-finite loss at D step 7 \(D loss NaN\)/);
    assert.throws(() => checkFinite(8, { dLoss: 1, gLoss: -Infinity }), /G loss -Infinity/);
    const f = new NumericalFault(9, { dLoss: NaN }).at('shared training in search iteration 4 (stage 1)');
    assert.equal(
      f.message,
      'non-finite loss at D step 9 of shared training in search iteration 4 (stage 1) (D loss NaN)',
    );
  });

  it('a diverging GAN stops at the first non-finite step; no checkpoint or progress after it', async () => {
    // An absurd learning rate: Adam moves every weight by ~1e30 at the first step.
    const trainer = GanTrainer.create(
      TINY_GAN,
      { ...TINY_TRAIN, dLr: 1e30, gLr: 1e30 },
      { seed: 3, stage: 2, arch: [0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1] },
    );
    const loader = new BatchLoader(openMnist(), { batchSize: 4, imageSize: 16, channels: 1, limit: 64 }, 1);
    const checkpoints: number[] = [];
    const progress: number[] = [];
    const state = freshLoopState();
    try {
      await assert.rejects(
        trainLoop(trainer, loader, state, {
          end: 50,
          checkpointEvery: 1,
          checkpoint: async () => {
            checkpoints.push(state.step);
            return `${'0'.repeat(64)}.ckpt`;
          },
          hooks: { progress: (p) => progress.push(p.step), atStepBoundary: async () => undefined },
        }),
        (err: Error) => {
          assert.ok(err instanceof NumericalFault, String(err));
          assert.ok(err.step >= 1 && err.step < 50, `diverged at step ${err.step}`);
          assert.ok(
            Math.max(0, ...checkpoints) < err.step,
            `checkpoints ${checkpoints} all before step ${err.step}`,
          );
          assert.ok(Math.max(0, ...progress) < err.step, 'no progress reported for the bad step');
          assert.ok(Number.isFinite(state.dSum), 'the bad loss is not summed');
          return true;
        },
      );
    } finally {
      trainer.dispose();
    }
  });
});

describe('numerical faults in a pipeline @integration', function () {
  this.timeout(240_000);
  const control = uniqueQueue('control');
  const gpu = uniqueQueue('gpu');
  const server = useTestServer([control, gpu]);

  it(`a retrain that diverges is retried ${NUMERICAL_FAULT_ATTEMPTS} times, then fails naming the step and candidate`, async () => {
    const { plan, issues } = check(`apiVersion: autogan/v1
kind: Pipeline
metadata: { name: nanrun }
spec:
  dataset: { kind: mnist }
  taskQueues: { control: ${control}, gpu: ${gpu} }
  steps:
    - id: retrain
      uses: autogan.retrain
      with:
        arch: [0, 1, 0, 0, 0, 1, 0, 0, 1]
        label: diverging
        gan: { latentDim: 8, gfDim: 4, dfDim: 4, bottomWidth: 4, channels: 1 }
        train: { nCritic: 1, genBatchSize: 4, disBatchSize: 4, dLr: 1e30, gLr: 1e30 }
        iterations: 40
        stepsPerActivity: 40
        checkpointEvery: 5
        datasetLimit: 64
`);
    assert.deepEqual(issues, []);
    const handle = await startPipeline(server.env.client, plan as Plan);
    const err = await handle.result().then(
      () => assert.fail('the run should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    const chain: string[] = [];
    for (let e: unknown = err; e instanceof Error; e = (e as Error & { cause?: unknown }).cause)
      chain.push(e.message);
    const text = chain.join(' | ');
    assert.match(text, /non-finite loss at D step \d+ of the retraining of diverging \[0 1 0 0 0 1 0 0 1\]/);
    assert.match(
      text,
      new RegExp(`${NUMERICAL_FAULT_ATTEMPTS} attempts from the last checkpoint all diverged`),
    );
    // The chunk activity ran exactly that many times (the child workflow's history says so).
    const child = server.env.client.workflow.getHandle(`${handle.workflowId}.retrain`);
    const history = await child.fetchHistory();
    const chunk = history.events!.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'retrainChunk',
    );
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    assert.equal(chunk.length, 1, 'one chunk scheduled');
    // `autogan report` on the failed run: its state and the cause, read-only.
    const report = await reportFromServer(server.env.client, handle.workflowId);
    assert.equal(report.status, 'FAILED');
    assert.match(report.failure ?? '', /step "retrain" \(autogan.retrain\) failed: .*non-finite loss/);
    assert.match(reportHtml(report), /<p class="failure">Failed: step &quot;retrain&quot;/);
    assert.equal(
      Number(started[started.length - 1].activityTaskStartedEventAttributes!.attempt),
      NUMERICAL_FAULT_ATTEMPTS,
    );
  });
});
