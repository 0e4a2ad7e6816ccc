// `evalEvery`: a retrain measures IS/FID (and saves a grid) at every multiple of it that a chunk
// crosses, and at the end — and measuring never changes what is trained (the checkpoints equal a
// run without it, byte for byte).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { retrainChunk, retrainInit } from '../activities/retrain';
import { TENSOR_HOST_ENV } from '../activities/tensor-call';
import type { RetrainParams } from '../services/retrain';
import { smallRetrain } from './helpers/retrain-params';

function params(evalEvery: number): RetrainParams {
  return smallRetrain({
    label: 'every',
    runId: 'eval-every-test',
    seed: 9,
    iterations: 30,
    stepsPerActivity: 10,
    evalEvery,
    evalImages: 20,
    checkpointEvery: 10,
  });
}

type Chunk = { checkpoint: string; step: number; evaluation?: { step: number; is: number; samples: string } };

/** All chunks of a retrain, in this process. */
async function retrain(p: RetrainParams): Promise<Chunk[]> {
  const env = new MockActivityEnvironment();
  let { checkpoint } = (await env.run(retrainInit, p)) as { checkpoint: string };
  const chunks: Chunk[] = [];
  for (let i = 0; i < 3; i++) {
    const c = (await env.run(retrainChunk, p, checkpoint)) as Chunk;
    chunks.push(c);
    checkpoint = c.checkpoint;
  }
  return chunks;
}

describe('retrain evalEvery @integration', function () {
  this.timeout(300_000);
  const modeBefore = process.env[TENSOR_HOST_ENV];
  before(() => (process.env[TENSOR_HOST_ENV] = 'inline'));
  after(() => {
    if (modeBefore === undefined) delete process.env[TENSOR_HOST_ENV];
    else process.env[TENSOR_HOST_ENV] = modeBefore;
  });

  it('evaluates at each multiple and at the end, without changing the training', async () => {
    const plain = await retrain(params(0));
    const measured = await retrain(params(20));
    assert.deepEqual(
      plain.map((c) => c.evaluation?.step ?? null),
      [null, null, 30],
      'without evalEvery: only the end',
    );
    assert.deepEqual(
      measured.map((c) => c.evaluation?.step ?? null),
      [null, 20, 30],
      'evalEvery 20 over chunks of 10: after step 20, and the end',
    );
    for (const c of measured.filter((x) => x.evaluation)) {
      assert.ok(c.evaluation!.is >= 1 && c.evaluation!.is <= 10, `IS ${c.evaluation!.is} on 10 classes`);
      assert.ok(fs.existsSync(c.evaluation!.samples), 'a grid per evaluation');
    }
    assert.deepEqual(
      measured.map((c) => c.checkpoint),
      plain.map((c) => c.checkpoint),
      'the same checkpoints with and without evaluations',
    );
  });
});
