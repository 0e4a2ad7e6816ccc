// @integration: `autogan resume` of a pipeline run on a real dev server. A run lost mid-search
// continues its search from the saved state; a run lost after its search and derive finished
// reuses their outputs and runs only the steps after them; the search history carries over.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import type { FanOutOutput, Plan, PipelineResult } from '../../pipeline/plan';
import { loadPipeline } from '../../pipeline/load';
import { resumeRun } from '../../runtime/resume';
import { startPipeline } from '../../runtime/start-pipeline';
import { pipelineStatusQuery } from '../../workflows/pipeline';
import type { SearchResult } from '../../workflows/search';
import { uniqueQueue, useTestServer } from '../helpers/temporal-env';

const FIXTURE = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tiny-autogan.yaml');

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function resume(client: Client, id: string): Promise<{ id: string; lines: string[] }> {
  const lines: string[] = [];
  const newId = await resumeRun(client, id, undefined, (l) => lines.push(l));
  return { id: newId, lines };
}

describe('pipeline resume @integration', function () {
  this.timeout(600_000);
  const control = uniqueQueue('resume-control');
  const gpu = uniqueQueue('resume-gpu');
  const server = useTestServer([control, gpu]);

  /** tiny-autogan with a 4-iteration search (grown at 2), in a fresh artifact folder. */
  function tinyPlan(): Plan {
    const plan = loadPipeline(FIXTURE);
    // Steps carry the queue resolved at load time; move them with the spec's.
    const was = plan.spec.taskQueues;
    for (const s of plan.steps) s.taskQueue = s.taskQueue === was.control ? control : gpu;
    plan.spec.taskQueues = { control, gpu };
    plan.spec.artifacts = { path: fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-resume-')) };
    const search = plan.steps.find((s) => s.id === 'search')!;
    Object.assign(search.with, { maxIterations: 4, growSteps: [2], checkpointEvery: 1 });
    return plan;
  }

  it('a run lost mid-search continues the search; one lost after derive reuses search and derive', async () => {
    const { client } = server.env;
    const plan = tinyPlan();
    const id = `resume-pipe-${Date.now()}`;
    const first = await startPipeline(client, plan, { workflowId: id });
    const state = path.join(plan.spec.artifacts.path, `${id}.search`, 'search-state.json');
    const saved = await until('a saved search iteration', async () =>
      fs.existsSync(state)
        ? (JSON.parse(fs.readFileSync(state, 'utf8')).state.iteration as number)
        : undefined,
    );
    await first.terminate('test: the pipeline is lost mid-search');
    const savedNow = JSON.parse(fs.readFileSync(state, 'utf8')).state.iteration as number;
    assert.ok(savedNow >= saved && savedNow < 4, `saved at iteration ${savedNow}`);

    // Resumed mid-search: the search continues from the saved iteration.
    const r1 = await resume(client, id);
    assert.equal(r1.id, `${id}-r1`);
    assert.equal(r1.lines[0], `resumed pipeline ${id} as ${id}-r1:`);
    assert.match(r1.lines[1], new RegExp(`^  search: continues at iteration ${savedNow} \\(stage \\d\\)$`));
    assert.deepEqual(r1.lines.slice(2), ['  derive: runs', '  retrain: runs', '  evaluate: runs']);
    const second = client.workflow.getHandle(r1.id);
    // Lost again once its derive step is done (while the retrains run).
    await until('the derive step done', async () => {
      const s = await second.query(pipelineStatusQuery);
      return s.steps.find((x) => x.id === 'derive')?.state === 'done' ? true : undefined;
    });
    await second.terminate('test: the pipeline is lost during retraining');
    const searchOfSecond = (await client.workflow.getHandle(`${r1.id}.search`).result()) as SearchResult;
    assert.equal(searchOfSecond.iterations, 4);
    assert.equal(searchOfSecond.rewards.length, 4, 'the rewards of the first run carry over');
    const history = JSON.parse(
      fs.readFileSync(path.join(plan.spec.artifacts.path, `${r1.id}.search`, 'search-history.json'), 'utf8'),
    ) as Array<{ iteration: number }>;
    assert.deepEqual(
      history.map((h) => h.iteration),
      [0, 1, 2, 3],
      'the history starts at the first iteration',
    );

    // Resumed after derive: search and derive are reused, the rest runs.
    const r2 = await resume(client, r1.id);
    assert.equal(r2.id, `${id}-r1-r1`);
    assert.deepEqual(r2.lines.slice(1), [
      '  search: finished, reused',
      '  derive: finished, reused',
      '  retrain: runs',
      '  evaluate: runs',
    ]);
    const third = client.workflow.getHandle(r2.id);
    const result = (await third.result()) as PipelineResult;
    assert.deepEqual(result.outputs.search, searchOfSecond, 'the search output is the one that finished');
    await assert.rejects(
      client.workflow.getHandle(`${r2.id}.search`).describe(),
      { name: 'WorkflowNotFoundError' },
      'no search ran again',
    );
    const status = await third.query(pipelineStatusQuery);
    assert.deepEqual(
      status.steps.map((s) => [s.id, s.state, s.from]),
      [
        ['search', 'done', 'reused'],
        ['derive', 'done', 'reused'],
        ['retrain', 'done', undefined],
        ['evaluate', 'done', undefined],
      ],
    );
    const retrained = (result.outputs.retrain as FanOutOutput).items;
    assert.equal(retrained.length, 2);
    assert.ok(result.outputs.evaluate, 'evaluated');
    assert.equal((await third.describe()).memo?.resumedFrom, r1.id);
    // The new run's report finds the reused search's whole history.
    const carried = path.join(plan.spec.artifacts.path, `${r2.id}.search`, 'search-history.json');
    assert.equal((JSON.parse(fs.readFileSync(carried, 'utf8')) as unknown[]).length, 4);
  });

  it('refuses a run that is still running or has completed', async () => {
    const { client } = server.env;
    const plan = tinyPlan();
    const search = plan.steps.find((s) => s.id === 'search')!;
    Object.assign(search.with, { maxIterations: 1, growSteps: [5] });
    const id = `resume-done-${Date.now()}`;
    const h = await startPipeline(client, plan, { workflowId: id });
    await assert.rejects(
      resumeRun(client, id, undefined, () => undefined),
      {
        name: 'ResumeError',
        message: `${id} is RUNNING; only failed, terminated, timed_out, cancelled runs can be resumed`,
      },
    );
    await h.result();
    await assert.rejects(
      resumeRun(client, id, undefined, () => undefined),
      /is COMPLETED/,
    );
  });
});
