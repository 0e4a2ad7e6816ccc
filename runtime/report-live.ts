// Report data for a workflow id: the run folder (found through the run's memo) plus what only the
// server knows — state, start/close times, the failure's cause, and for a run still going its steps,
// the search's phase and the running retrains' curves (queries, with a deadline). Read-only: no
// signal, no resume, nothing written.
import * as fs from 'node:fs';
import { runFolderOf } from '../core/artifacts';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { reportFromFolder, type ReportData } from '../services/report/data';
import type { PipelineStatus } from '../workflows/pipeline';
import type { RetrainProgress } from '../workflows/retrain';
import type { SearchProgress } from '../workflows/search';
import { failureOf } from './failure';

const QUERY_DEADLINE_MS = 5000;

async function queryOr<T>(client: Client, handle: WorkflowHandle, name: string): Promise<T | undefined> {
  try {
    return await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query<T>(name));
  } catch {
    return undefined;
  }
}

async function memoArtifacts(handle: WorkflowHandle): Promise<string | undefined> {
  try {
    const memo = (await handle.describe()).memo as { artifacts?: unknown } | undefined;
    return typeof memo?.artifacts === 'string' ? memo.artifacts : undefined;
  } catch {
    return undefined;
  }
}

export async function reportFromServer(
  client: Client,
  workflowId: string,
  opts: { artifacts?: string } = {},
): Promise<ReportData> {
  const handle = client.workflow.getHandle(workflowId);
  const desc = await handle.describe();
  const state = desc.status.name;
  const artifacts =
    opts.artifacts ??
    (desc.memo as { artifacts?: string } | undefined)?.artifacts ??
    (await memoArtifacts(client.workflow.getHandle(`${workflowId}.search`)));
  const result = state === 'COMPLETED' ? await handle.result().catch(() => undefined) : undefined;
  const folder = artifacts ? runFolderOf(artifacts, workflowId) : undefined;
  let data: ReportData;
  const notes: string[] = [];
  if (folder && (fs.existsSync(folder) || fs.existsSync(`${folder}.search`))) {
    data = reportFromFolder(folder, { result });
  } else {
    notes.push(
      artifacts
        ? `the run folder ${folder} is not on this machine: sample grids and the search's history are left out (run the report where the artifacts are, or pass --artifacts)`
        : 'the run does not name its artifact folder (started before reports existed): pass --artifacts',
    );
    data = {
      id: workflowId,
      status: state,
      generatedAt: new Date().toISOString(),
      steps: [],
      retrains: [],
      leaderboard: [],
      grids: [],
      notes: [],
    };
  }
  data.notes.push(...notes);
  data.status = state;
  data.started = desc.startTime.toISOString();
  if (desc.closeTime) data.closed = desc.closeTime.toISOString();
  const memo = desc.memo as { pipeline?: string; dataset?: string } | undefined;
  data.pipeline ??= memo?.pipeline;
  data.dataset ??= memo?.dataset;
  if (['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED'].includes(state))
    data.failure = await failureOf(handle);
  if (state !== 'RUNNING') return data;

  const status = await queryOr<PipelineStatus>(client, handle, 'pipelineStatus');
  if (!status) {
    data.notes.push(
      'the run is RUNNING but no worker answered its status query: live step states are left out',
    );
    return data;
  }
  data.pipeline = status.pipeline;
  data.steps = status.steps.map((s) => ({ id: s.id, uses: s.uses, state: s.state }));
  for (const s of status.steps.filter((x) => x.state === 'running')) {
    if (s.uses === 'autogan.search') {
      const p = await queryOr<SearchProgress>(
        client,
        client.workflow.getHandle(`${workflowId}.${s.id}`),
        'progress',
      );
      if (p && data.search) {
        data.search.phase = p.phase;
        data.search.iterations = p.iteration;
        data.search.maxIterations = p.maxIterations;
        data.search.stage = p.stage;
        data.search.best = p.best;
      }
    }
    if (s.fanOut) {
      for (let i = 0; i < s.fanOut.total; i++) {
        const p = await queryOr<RetrainProgress>(
          client,
          client.workflow.getHandle(`${workflowId}.${s.id}.${i}`),
          'progress',
        );
        if (!p?.label) continue;
        const known = data.retrains.find((r) => r.label === p.label);
        const live = { label: p.label, arch: p.arch, step: p.step, totalSteps: p.totalSteps, curve: p.curve };
        if (known) Object.assign(known, live);
        else data.retrains.push({ ...live, samples: [] });
      }
    }
  }
  return data;
}
