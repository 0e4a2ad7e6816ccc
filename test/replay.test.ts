// Upgrades: workflow histories recorded with an earlier release must replay against the current
// workflow code (a running search finishes after its workers are upgraded). The fixtures are the
// tiny pipeline (search with a grow step and controller training, derive, two retrains, evaluate)
// recorded at commit 25ef4a3, before the search recorded its reward noise, loss spreads and the
// grown stages' references (data-only changes); and the study workflow of test/fixtures/tiny-study.yaml
// recorded at d4c1454 (study/); and direct starts of autogan-search recorded at c1a41e3 (direct/),
// which carry the `direct-input-checks` patch marker. tools/record-histories.ts says how to record
// more.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { projectRoot } from '../core/paths';
import { DIRECT_INPUT_PATCH } from '../pipeline/direct-input';

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

  it('direct starts recorded at c1a41e3 carry the direct-input-checks patch marker and replay (the patched branch)', async () => {
    // The tiny search of test/helpers/search-params.ts started straight as `autogan-search` on a dev
    // server with workers (continueAsNewEvery 100, so one run holds it all), and once with
    // "gan": null, which the patched check fails before any activity.
    for (const [file, closes] of [
      ['direct-search', 'workflowExecutionCompletedEventAttributes'],
      ['direct-bad-input', 'workflowExecutionFailedEventAttributes'],
    ] as const) {
      const history = temporal.api.history.v1.History.decode(
        fs.readFileSync(path.join(DIR, 'direct', `${file}.binpb`)),
      );
      const events = history.events ?? [];
      const patches = events
        .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
        .map((e) =>
          Buffer.from(e.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0].data!).toString(
            'utf8',
          ),
        );
      assert.ok(
        patches.some((d) => d.includes(DIRECT_INPUT_PATCH)),
        `${file}: the patch marker (${patches})`,
      );
      assert.ok(events[events.length - 1]?.[closes], `${file} ends with ${closes}`);
      await Worker.runReplayHistory({ workflowsPath }, history, file);
    }
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
