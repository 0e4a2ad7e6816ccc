// Thin Temporal adapters over services/search: backend, heartbeats, non-retryable bad input.
import { Context } from '@temporalio/activity';
import { writeFileAtomic } from '../core/atomic-write';
import { artifactStore } from '../services/artifact-store';
import * as phases from '../services/search';
import { validateStepWith } from '../pipeline/load';
import type { StepInput, StepOutput } from '../pipeline/plan';
import type { S3Settings } from '../pipeline/plan';
import type { SearchParams } from '../pipeline/search-params';
import type { Beam } from '../core/controller/controller';
import { checkedWith } from './step-input';
import { checkWorkerPath } from './worker-paths';
import { asNonRetryable, badInput } from './errors';
import { activityHooks } from './heartbeat';
import { tensorBackend, tensorCall } from './tensor-call';
import { onBackend } from './on-backend';
import { writeSearchEvents } from '../services/tensorboard';
import type { IterationSummary } from '../workflows/search';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Runs a search phase in a tensor host on the chosen backend (activities/on-backend.ts) and reports
 * its compute seconds (workflows keep no clocks) and the backend it ran on.
 */
async function searchPhase<T extends object>(
  p: SearchParams,
  fn: () => Promise<T> | T,
  /** Where a NaN/Inf loss would be, for its message (phase and iteration). */
  where?: string,
): Promise<T & { seconds: number; backend: string }> {
  const t0 = performance.now();
  const r = await onBackend(p.backend, fn, {
    paths: { artifacts: p.artifacts, 'dataset.path': p.dataset?.path },
    ...(where ? { where } : {}),
    inTensorHost: true,
  });
  return { ...r, seconds: (performance.now() - t0) / 1000, backend: await tensorBackend(p.backend) };
}

const SPEC_KEYS = ['dataset', 'artifacts', 's3', 'seed', 'backend', 'taskQueues'];

export async function searchInit(p: SearchParams) {
  const rest = Object.fromEntries(Object.entries(p).filter(([k]) => !SPEC_KEYS.includes(k)));
  const errors = validateStepWith('autogan.search', rest);
  if (errors.length) {
    throw badInput(
      `invalid search parameters:\n${errors.map((e) => `${e.instancePath || '(root)'}: ${e.message}`).join('\n')}`,
    );
  }
  if (!p.dataset || !p.artifacts) throw badInput('search parameters need "dataset" and "artifacts"');
  return searchPhase(p, () => tensorCall('searchInit', [p], activityHooks(), p.backend));
}

export async function searchTrainShared(p: SearchParams, s: phases.SearchRefs) {
  return searchPhase(
    p,
    () => tensorCall('trainShared', [p, s], activityHooks(), p.backend),
    `shared training in search iteration ${s.iteration} (stage ${s.stage})`,
  );
}

export async function searchTrainController(p: SearchParams, s: phases.SearchRefs) {
  return searchPhase(p, () =>
    tensorCall('trainController', [p, s, searchRunId()], activityHooks(), p.backend),
  );
}

/** The running search's workflow id: its run folder holds the per-stage sample grids. */
function searchRunId(): string | undefined {
  return Context.current().info.workflowExecution?.workflowId;
}

export async function searchGrow(p: SearchParams, s: phases.SearchRefs) {
  return searchPhase(p, () => tensorCall('grow', [p, s, searchRunId()], activityHooks(), p.backend));
}

export async function searchResetShared(p: SearchParams, s: phases.SearchRefs) {
  return searchPhase(p, () => tensorCall('resetShared', [p, s], activityHooks(), p.backend));
}

export async function searchDerive(p: SearchParams, s: phases.SearchRefs, m: number, k: number) {
  return searchPhase(p, () => tensorCall('derive', [p, s, m, k, searchRunId()], activityHooks(), p.backend));
}

function iterationOf(state: unknown): number | undefined {
  const it = (state as { state?: { iteration?: unknown } })?.state?.iteration;
  return typeof it === 'number' ? it : undefined;
}

function keepPrevious(file: string, state: unknown): string | undefined {
  let old: string;
  try {
    old = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // the first record
  }
  try {
    if (iterationOf(JSON.parse(old)) === iterationOf(state)) return undefined;
  } catch {
    return undefined; // unreadable: not worth keeping
  }
  const previous = path.join(path.dirname(file), 'search-state.previous.json');
  writeFileAtomic(previous, old);
  return previous;
}

/**
 * The durable state keeps only the last iterations (it travels through continue-as-new); the run
 * folder keeps every iteration's summary in search-history.json for curves and reports. Merged by
 * iteration, so a retried or replayed record writes the same file.
 */
function mergeHistory(dir: string, state: unknown): { file: string; merged: IterationSummary[] } | undefined {
  const recent = (state as { state?: { history?: Array<{ iteration: number }> } })?.state?.history;
  if (!Array.isArray(recent) || !recent.length) return undefined;
  const file = path.join(dir, 'search-history.json');
  let all: Array<{ iteration: number }> = [];
  try {
    const old = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (Array.isArray(old)) all = old.filter((h) => typeof h?.iteration === 'number');
  } catch {
    // absent (first iteration) or unreadable: start from what the state holds
  }
  const byIteration = new Map(all.map((h) => [h.iteration, h]));
  for (const h of recent) byIteration.set(h.iteration, h);
  const merged = [...byIteration.values()].sort((a, b) => a.iteration - b.iteration);
  writeFileAtomic(file, JSON.stringify(merged));
  return { file, merged: merged as IterationSummary[] };
}

/** The search's TensorBoard events, rebuilt from its history; a failure only costs the events. */
function searchEvents(dir: string, history: IterationSummary[]): string | undefined {
  try {
    return writeSearchEvents(dir, history);
  } catch (err) {
    console.error(`[autogan] no TensorBoard events for ${dir}: ${(err as Error).message}`);
    return undefined;
  }
}

/** Writes the search's durable state where `autogan resume` finds it (small JSON, atomic; and to S3 if set up). */
export async function searchRecordState(
  artifacts: string,
  workflowId: string,
  state: unknown,
  s3?: S3Settings,
): Promise<string> {
  checkWorkerPath(artifacts, 'artifacts');
  try {
    const store = artifactStore({ artifacts, s3 });
    const file = path.join(store.runDir(workflowId), 'search-state.json');
    // Read-modify-write against the store: with S3 the bucket's state and history come first (this
    // worker's cache may be a fresh pod's, empty or behind). The search workflow records one state
    // at a time, so it is the single writer of these files.
    await store.pullRunFile(workflowId, 'search-state.json');
    await store.pullRunFile(workflowId, 'search-history.json');
    // The state before this one stays as search-state.previous.json: `autogan resume` falls back to
    // it when a checkpoint the newest names is corrupt (a retried record of the same iteration
    // leaves it as it is).
    const previous = keepPrevious(file, state);
    if (previous) await store.publish(workflowId, previous);
    writeFileAtomic(file, JSON.stringify(state, null, 2));
    await store.publish(workflowId, file);
    const history = mergeHistory(store.runDir(workflowId), state);
    if (history) {
      await store.publish(workflowId, history.file);
      const events = searchEvents(store.runDir(workflowId), history.merged);
      if (events) await store.publish(workflowId, events);
    }
    return file;
  } catch (err) {
    throw asNonRetryable(err);
  }
}

/**
 * The `autogan.derive` step: top K of M candidates from a finished search's policy — a draw of its
 * own (other candidates, other scoring images, optionally more of them), not the search's final
 * derive again, which the search's own `topK` output already holds.
 */
export async function deriveStep(input: StepInput): Promise<StepOutput> {
  const w = checkedWith<{
    search: {
      params: SearchParams;
      supernet: string;
      controller: string | null;
      beams: Beam[];
      stage: number;
      iterations: number;
      topK?: Array<{ arch: number[]; score: number }>;
    };
    candidates?: number;
    topK?: number;
    images?: number;
  }>('autogan.derive', input);
  const s = w.search;
  if (!s?.params || !s.supernet)
    throw badInput(
      'derive: "search" must be the output of an autogan.search step (${{ steps.<search>.outputs }})',
    );
  const p = s.params;
  if (p.mode === 'random' && !p.weightSharing) {
    // Without weight sharing there is no supernet to score candidates on: each child was trained on
    // its own and scored by the search, whose top K are the best of them.
    const ranked = [...(s.topK ?? [])].sort((a, b) => b.score - a.score);
    return { topK: ranked.slice(0, w.topK ?? p.topK), candidates: ranked };
  }
  return searchPhase(p, async () => {
    const r = await tensorCall(
      'deriveStep',
      [
        p,
        {
          supernet: s.supernet,
          controller: s.controller,
          beams: s.beams ?? [],
          stage: s.stage,
          iteration: s.iterations,
        },
        { m: w.candidates ?? p.candidates, k: w.topK ?? p.topK, ...(w.images ? { images: w.images } : {}) },
      ],
      activityHooks(),
      p.backend,
    );
    return { topK: r.topK, candidates: r.candidates };
  });
}
