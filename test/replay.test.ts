// Upgrades: workflow histories recorded with an earlier release must replay against the current
// workflow code (a running search finishes after its workers are upgraded). The fixtures are the
// tiny pipeline (search with a grow step and controller training, derive, two retrains, evaluate)
// recorded at commit 25ef4a3, before the search recorded its reward noise, loss spreads and the
// grown stages' references (data-only changes); and the study workflow of test/fixtures/tiny-study.yaml
// recorded at d4c1454 (study/). tools/record-histories.ts says how to record more.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { projectRoot } from '../core/paths';

const DIR = path.join(projectRoot(), 'test', 'fixtures', 'histories');
const workflowsPath = require.resolve('../workflows');

function histories() {
  return fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith('.binpb'))
    .map((f) => ({
      workflowId: f.replace(/\.binpb$/, ''),
      history: temporal.api.history.v1.History.decode(fs.readFileSync(path.join(DIR, f))),
    }));
}

describe('replay of recorded histories (upgrades)', function () {
  this.timeout(120_000);

  it('every history recorded at 25ef4a3 replays against the current workflow code', async () => {
    const all = histories();
    assert.deepEqual(all.map((h) => h.workflowId.replace(/^tiny-autogan-[^.]+/, 'run')).sort(), [
      'run',
      'run.retrain.0',
      'run.retrain.1',
      'run.search',
    ]);
    const failed: string[] = [];
    for await (const r of Worker.runReplayHistories({ workflowsPath }, all))
      if (r.error) failed.push(`${r.workflowId}: ${r.error}`);
    assert.deepEqual(failed, []);
  });

  it('a study recorded at d4c1454 (tiny-study: 4 cells, the proxy check) replays against the current workflow code', async () => {
    const file = path.join(DIR, 'study', 'tiny1.binpb');
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(file));
    await Worker.runReplayHistory({ workflowsPath }, history, 'tiny1');
  });

  it('a history that does not match the code fails the replay', async () => {
    // The pipeline's child workflow ids derive from its own id: under another id its commands differ.
    const pipeline = histories().find((h) => !h.workflowId.includes('.'))!;
    await assert.rejects(
      Worker.runReplayHistory({ workflowsPath }, pipeline.history, 'another-id'),
      (err: Error) => err.name === 'DeterminismViolationError' && /Nondeterminism/.test(err.message),
    );
  });
});
