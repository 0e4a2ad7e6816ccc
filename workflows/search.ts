// The `autogan-search` workflow: AutoGAN's Algorithm 1 as durable steps. Heavy steps run as
// activities on the gpu queue and pass artifact references; this code only keeps small JSON state,
// answers the `progress` query, obeys pause/resume/stop signals, and continues-as-new every N
// iterations so the history stays bounded over a 90-iteration search.
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities/search';
import type { Beam } from '../core/controller/controller';
import type { StepInput } from '../pipeline/plan';
import { stageAt, withSearchDefaults, type SearchInput, type SearchParams } from '../pipeline/search-params';
import { NON_RETRYABLE } from './pipeline';
import { trainingActivityOptions } from './training-options';

export interface IterationSummary {
  iteration: number;
  stage: number;
  dLoss: number;
  gLoss: number;
  meanReward: number | null;
  entropy: number | null;
  reset: boolean;
}

export interface SearchState {
  iteration: number;
  stage: number;
  supernet: string;
  controller: string | null;
  beams: Beam[];
  resets: number;
  /** Mean reward of every iteration (the reward curve). */
  rewards: Array<number | null>;
  /** The last iterations in full. */
  history: IterationSummary[];
  /** Best architectures seen in controller training, by reward. */
  best: Array<{ arch: number[]; score: number }>;
  /** Top-K of each grow step. */
  grown: Array<{ iteration: number; topK: Array<{ arch: number[]; score: number }> }>;
  /** Random search without weight sharing: every trained child and its score. */
  children: Array<{ arch: number[]; score: number }>;
  computeSeconds: number;
  paused: boolean;
  runs: number;
}

export interface SearchProgress {
  name: string;
  iteration: number;
  maxIterations: number;
  stage: number;
  phase: 'init' | 'grow' | 'shared' | 'controller' | 'reset' | 'derive' | 'paused' | 'done';
  lastRewards: number[];
  best: Array<{ arch: number[]; score: number }>;
  resets: number;
  computeSeconds: number;
  paused: boolean;
  stopping: boolean;
  run: number;
}

export interface SearchResult {
  name: string;
  /** The parameters the search ran with (a derive step reuses them). */
  params: SearchParams;
  iterations: number;
  stage: number;
  stopped: boolean;
  topK: Array<{ arch: number[]; score: number }>;
  supernet: string;
  controller: string | null;
  /** The beams (with LSTM states) the final stage's controller started from. */
  beams: Beam[];
  resets: number;
  rewards: Array<number | null>;
  grown: SearchState['grown'];
  history: IterationSummary[];
  computeSeconds: number;
}

export type SearchWorkflowInput = SearchInput & { state?: SearchState };

export const progressQuery = defineQuery<SearchProgress>('progress');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const stopSignal = defineSignal('stop');

const HISTORY_KEEP = 20;

function isStepInput(x: unknown): x is StepInput {
  return !!x && typeof x === 'object' && 'stepId' in x && 'spec' in x;
}

/** Parameters from a pipeline step's input or from a direct start. */
export function searchParamsOf(input: SearchWorkflowInput | StepInput): {
  params: SearchParams;
  state?: SearchState;
} {
  if (isStepInput(input)) {
    const w = input.with as Partial<SearchParams>;
    return {
      params: withSearchDefaults({
        ...w,
        name: w.name && w.name !== 'autogan-search' ? w.name : input.pipeline,
        dataset: input.spec.dataset,
        artifacts: input.spec.artifacts.path,
        seed: input.spec.seed,
        backend: input.spec.backend,
        taskQueues: input.spec.taskQueues,
      } as SearchInput),
    };
  }
  const { state, ...rest } = input;
  return { params: withSearchDefaults(rest), ...(state ? { state } : {}) };
}

export async function autoganSearch(input: SearchWorkflowInput | StepInput): Promise<SearchResult> {
  const { params: p, state: carried } = searchParamsOf(input);
  const info = workflowInfo();
  const heavy = proxyActivities<typeof activities>(trainingActivityOptions(p));
  const light = proxyActivities<typeof activities>({
    taskQueue: p.taskQueues.control,
    startToCloseTimeout: '1m',
    retry: { maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
  });

  // Findable in the Web UI by pipeline and dataset; `autogan resume` finds the state file through it.
  upsertMemo({ pipeline: p.name, dataset: p.dataset.kind, artifacts: p.artifacts, mode: p.mode });
  let phase: SearchProgress['phase'] = 'init';
  let stopping = false;
  let lastRewards: number[] = [];
  let state: SearchState;

  const progress = (): SearchProgress => ({
    name: p.name,
    iteration: state?.iteration ?? 0,
    maxIterations: p.maxIterations,
    stage: state?.stage ?? 0,
    phase: state?.paused && phase !== 'done' ? 'paused' : phase,
    lastRewards,
    best: state?.best ?? [],
    resets: state?.resets ?? 0,
    computeSeconds: state?.computeSeconds ?? 0,
    paused: state?.paused ?? false,
    stopping,
    run: state?.runs ?? 1,
  });
  setHandler(progressQuery, progress);
  setHandler(pauseSignal, () => {
    if (state) state.paused = true;
  });
  setHandler(resumeSignal, () => {
    if (state) state.paused = false;
  });
  setHandler(stopSignal, () => {
    stopping = true;
  });

  /** Adds the compute seconds an activity reports. */
  const timed = async <T extends { seconds: number }>(fn: () => Promise<T>): Promise<T> => {
    const r = await fn();
    state.computeSeconds += r.seconds;
    return r;
  };
  /** Pause point between steps: waits while paused; false when a stop was requested. */
  const gate = async (): Promise<boolean> => {
    await condition(() => !state.paused || stopping);
    return !stopping;
  };
  const refs = () => ({
    supernet: state.supernet,
    controller: state.controller,
    beams: state.beams,
    stage: state.stage,
    iteration: state.iteration,
  });

  if (carried) {
    state = { ...carried, runs: carried.runs + 1 };
  } else {
    state = {
      iteration: 0,
      stage: 0,
      supernet: '',
      controller: null,
      beams: [],
      resets: 0,
      rewards: [],
      history: [],
      best: [],
      grown: [],
      children: [],
      computeSeconds: 0,
      paused: false,
      runs: 1,
    };
    const init = await timed(() => heavy.searchInit(p));
    Object.assign(state, { supernet: init.supernet, controller: init.controller, stage: init.stage });
  }

  while (state.iteration < p.maxIterations && (await gate())) {
    if (stageAt(p, state.iteration) > state.stage) {
      phase = 'grow';
      const g = await timed(() => heavy.searchGrow(p, refs()));
      Object.assign(state, {
        beams: g.beams,
        controller: g.controller,
        supernet: g.supernet,
        stage: g.stage,
      });
      state.grown.push({ iteration: state.iteration, topK: g.topK });
      if (!(await gate())) break;
    }
    phase = 'shared';
    const r = await timed(() => heavy.searchTrainShared(p, refs()));
    state.supernet = r.supernet;
    let meanReward: number | null = null;
    let entropy: number | null = null;
    if (r.child) {
      state.children.push(r.child);
      meanReward = r.child.score;
    }
    if (p.mode !== 'random' && (await gate())) {
      phase = 'controller';
      const c = await timed(() => heavy.searchTrainController(p, refs()));
      state.controller = c.controller;
      meanReward = c.meanReward;
      entropy = c.entropy;
      lastRewards = c.rewards;
      const seen = c.archs.map((arch, i) => ({ arch, score: c.rewards[i] }));
      state.best = [...state.best, ...seen].sort((a, b) => b.score - a.score).slice(0, p.topK);
    }
    if (r.reset) {
      phase = 'reset';
      state.supernet = (await timed(() => heavy.searchReset(p, refs()))).supernet;
      state.resets++;
    }
    state.history = [
      ...state.history,
      {
        iteration: state.iteration,
        stage: state.stage,
        dLoss: r.dLoss,
        gLoss: r.gLoss,
        meanReward,
        entropy,
        reset: r.reset,
      },
    ].slice(-HISTORY_KEEP);
    state.rewards.push(meanReward);
    state.iteration++;
    await light.searchRecordState(p.artifacts, info.workflowId, { params: p, state });
    if (state.iteration % p.continueAsNewEvery === 0 && state.iteration < p.maxIterations && !stopping) {
      await continueAsNew<typeof autoganSearch>({ ...p, state });
    }
  }

  phase = 'derive';
  let topK: SearchResult['topK'];
  if (p.mode === 'random' && !p.weightSharing) {
    // Only children of the final stage are whole generators; an earlier, shallower child's score
    // (at a lower resolution) does not compete with them.
    const finalLength = 4 + 5 * state.stage;
    topK = state.children
      .filter((c) => c.arch.length === finalLength)
      .sort((a, b) => b.score - a.score)
      .slice(0, p.topK);
  } else {
    const d = await timed(() => heavy.searchDerive(p, refs(), p.candidates, p.topK));
    topK = d.topK;
  }
  phase = 'done';
  const result: SearchResult = {
    name: p.name,
    params: p,
    iterations: state.iteration,
    stage: state.stage,
    stopped: stopping,
    topK,
    supernet: state.supernet,
    controller: state.controller,
    beams: state.beams,
    resets: state.resets,
    rewards: state.rewards,
    grown: state.grown,
    history: state.history,
    computeSeconds: state.computeSeconds,
  };
  await light.searchRecordState(p.artifacts, info.workflowId, { params: p, state, result });
  return result;
}
