// The `autogan-search` workflow: AutoGAN's Algorithm 1 as durable steps. Heavy steps run as
// activities on the gpu queue and pass artifact references; this code only keeps small JSON state,
// answers the `progress` query, obeys pause/resume/stop signals, and continues-as-new every N
// iterations so the history stays bounded over a 90-iteration search.
import {
  ApplicationFailure,
  condition,
  setCurrentDetails,
  continueAsNew,
  defineQuery,
  defineSignal,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities/search';
import type { Beam } from '../core/controller/controller';
import { DIRECT_INPUT_PATCH, directInputProblems } from '../pipeline/direct-input';
import { specParams, type StepInput } from '../pipeline/plan';
import {
  archLength,
  stageAt,
  withSearchDefaults,
  type SearchInput,
  type SearchParams,
} from '../pipeline/search-params';
import { NON_RETRYABLE } from './pipeline';
import { trainingActivityOptions } from './training-options';

export interface IterationSummary {
  iteration: number;
  stage: number;
  dLoss: number;
  gLoss: number;
  meanReward: number | null;
  entropy: number | null;
  /** The controller's moving-average baseline at the end of the iteration (absent before reports). */
  baseline?: number | null;
  reset: boolean;
  /** Std of one child's reward over fresh image draws (rewardProbes); absent before reports had it. */
  rewardNoise?: number | null;
  /** Std of the rewards across the iteration's children: signal plus noise. */
  rewardSpread?: number | null;
  /** The lowest G/D loss-window spread the reset detector compared with its threshold. */
  lossSpread?: { g: number | null; d: number | null };
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
  /**
   * Top-K of each grow step, with the supernet and controller the finished stage ended with (for
   * diagnostics; absent in states recorded before they were kept).
   */
  grown: Array<{
    iteration: number;
    topK: Array<{ arch: number[]; score: number }>;
    supernet?: string;
    controller?: string | null;
  }>;
  /** Random search without weight sharing: every trained child and its score. */
  children: Array<{ arch: number[]; score: number }>;
  computeSeconds: number;
  paused: boolean;
  runs: number;
  /** Checkpoints retries had to skip (corrupt or missing) and where they resumed, newest last. */
  recoveries?: string[];
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
  /** The last checkpoint recoveries (a retry that skipped a corrupt or missing checkpoint). */
  recoveries?: string[];
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
  /** Checkpoints retries had to skip during the search (corrupt or missing), as in the state. */
  recoveries?: string[];
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
        ...specParams(input.spec),
      } as SearchInput),
    };
  }
  const { state, ...rest } = input;
  return { params: withSearchDefaults(rest), ...(state ? { state } : {}) };
}

function freshState(): SearchState {
  return {
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
}

/** Input a direct start can get wrong fails the workflow with a message, not a task-retry loop. */
function checkInput(p: SearchParams, input: SearchWorkflowInput | StepInput): void {
  // A direct start's raw input (not a continued run's, which carries its state and our defaults).
  // Patched: a run recorded before these checks replays without them.
  const direct = !isStepInput(input) && !input.state && patched(DIRECT_INPUT_PATCH);
  const problems: string[] = direct ? directInputProblems(input as Record<string, unknown>) : [];
  if (!p.dataset || typeof p.dataset !== 'object' || typeof p.dataset.kind !== 'string')
    problems.push('"dataset" must be an object with a "kind" (e.g. {"kind":"mnist"})');
  if (typeof p.artifacts !== 'string' || !p.artifacts) problems.push('"artifacts" must be a directory path');
  if (!p.taskQueues || typeof p.taskQueues.gpu !== 'string' || typeof p.taskQueues.control !== 'string')
    problems.push('"taskQueues" must name the control and gpu queues');
  if (problems.length)
    throw ApplicationFailure.nonRetryable(`invalid autogan-search input: ${problems.join('; ')}`, 'BadInput');
}

export async function autoganSearch(input: SearchWorkflowInput | StepInput): Promise<SearchResult> {
  const { params: p, state: carried } = searchParamsOf(input);
  checkInput(p, input);
  const run = new SearchRun(p, carried);
  await run.start();
  // Algorithm 1: for each iteration, grow when a grow step is reached, train the shared GAN, train
  // the controller, reset the shared GAN when its losses stalled; then derive the top K.
  while (run.state.iteration < p.maxIterations && (await run.gate())) {
    if (stageAt(p, run.state.iteration) > run.state.stage) {
      await run.grow();
      if (!(await run.gate())) break;
    }
    const shared = await run.trainShared();
    const controller = p.mode !== 'random' && (await run.gate()) ? await run.trainController() : null;
    if (shared.reset) await run.reset();
    await run.endIteration(shared, controller);
  }
  return run.finish();
}

type Activities = typeof activities;
type SharedResult = Awaited<ReturnType<Activities['searchTrainShared']>>;
type ControllerResult = Awaited<ReturnType<Activities['searchTrainController']>>;

/** One run (between continue-as-new boundaries) of a search: its state, handlers and steps. */
class SearchRun {
  state: SearchState;
  private phaseNow: SearchProgress['phase'] = 'init';
  /** Waiting at a pause point. A pause requested mid-step lets that step finish first. */
  private holding = false;
  private stopping = false;
  private lastRewards: number[] = [];
  /** The training phases: the gpu queue, long timeouts, heartbeats. */
  private readonly onGpuQueue;
  /** Bookkeeping (state files, TensorBoard events): the control queue, short timeouts. */
  private readonly onControlQueue;
  private readonly workflowId = workflowInfo().workflowId;

  constructor(
    private readonly p: SearchParams,
    private readonly carried?: SearchState,
  ) {
    this.state = carried ? { ...carried, runs: carried.runs + 1 } : freshState();
    this.onGpuQueue = proxyActivities<Activities>(trainingActivityOptions(p));
    this.onControlQueue = proxyActivities<Activities>({
      taskQueue: p.taskQueues.control,
      startToCloseTimeout: '1m',
      retry: { maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
    });
    // Findable in the Web UI by pipeline and dataset; `autogan resume` finds the state file through it.
    upsertMemo({ pipeline: p.name, dataset: p.dataset.kind, artifacts: p.artifacts, mode: p.mode });
    setHandler(progressQuery, () => this.progress());
    setHandler(pauseSignal, () => {
      this.state.paused = true;
    });
    setHandler(resumeSignal, () => {
      this.state.paused = false;
    });
    setHandler(stopSignal, () => {
      this.stopping = true;
    });
  }

  private progress(): SearchProgress {
    const s = this.state;
    return {
      name: this.p.name,
      iteration: s.iteration,
      maxIterations: this.p.maxIterations,
      stage: s.stage,
      // 'paused' only once nothing runs; until then the step in flight is the phase (and paused: true).
      phase: this.holding && this.phaseNow !== 'done' ? 'paused' : this.phaseNow,
      lastRewards: this.lastRewards,
      best: s.best,
      resets: s.resets,
      computeSeconds: s.computeSeconds,
      paused: s.paused,
      stopping: this.stopping,
      run: s.runs,
      recoveries: s.recoveries ?? [],
    };
  }

  /**
   * The current phase, also shown in the Web UI's workflow details (markdown) so an operator sees
   * where a days-long search stands without querying it.
   */
  private set phase(phase: SearchProgress['phase']) {
    this.phaseNow = phase;
    const s = this.state;
    const best = s.best[0];
    setCurrentDetails(
      [
        `**${this.p.name}** — ${phase}`,
        `iteration ${s.iteration}/${this.p.maxIterations}, stage ${s.stage}, dynamic resets ${s.resets}`,
        best ? `best sampled reward ${best.score.toFixed(3)}: \`${best.arch.join(' ')}\`` : 'no reward yet',
      ].join('\n\n'),
    );
  }

  /** Adds the compute seconds an activity reports. */
  private async timed<T extends { seconds: number }>(fn: () => Promise<T>): Promise<T> {
    const r = await fn();
    this.state.computeSeconds += r.seconds;
    return r;
  }

  private refs() {
    const s = this.state;
    return {
      supernet: s.supernet,
      controller: s.controller,
      beams: s.beams,
      stage: s.stage,
      iteration: s.iteration,
    };
  }

  /** Pause point between steps: waits while paused; false when a stop was requested. */
  async gate(): Promise<boolean> {
    this.holding = this.state.paused && !this.stopping;
    await condition(() => !this.state.paused || this.stopping);
    this.holding = false;
    return !this.stopping;
  }

  /** A new search creates the shared GAN and the first controller; a continued one has them. */
  async start(): Promise<void> {
    this.phase = 'init';
    if (this.carried) return;
    const init = await this.timed(() => this.onGpuQueue.searchInit(this.p));
    Object.assign(this.state, { supernet: init.supernet, controller: init.controller, stage: init.stage });
  }

  /** Grow: the finished stage's top-K beams start the next stage's controller. */
  async grow(): Promise<void> {
    this.phase = 'grow';
    const ended = this.refs();
    const g = await this.timed(() => this.onGpuQueue.searchGrow(this.p, ended));
    Object.assign(this.state, {
      beams: g.beams,
      controller: g.controller,
      supernet: g.supernet,
      stage: g.stage,
    });
    this.state.grown.push({
      iteration: this.state.iteration,
      topK: g.topK,
      supernet: ended.supernet,
      controller: ended.controller,
    });
  }

  async trainShared(): Promise<SharedResult> {
    this.phase = 'shared';
    const r = await this.timed(() => this.onGpuQueue.searchTrainShared(this.p, this.refs()));
    this.state.supernet = r.supernet;
    if (r.child) this.state.children.push(r.child);
    this.recovered('shared training', r.recovered);
    return r;
  }

  async trainController(): Promise<ControllerResult> {
    this.phase = 'controller';
    const c = await this.timed(() => this.onGpuQueue.searchTrainController(this.p, this.refs()));
    this.state.controller = c.controller;
    this.lastRewards = c.rewards;
    this.recovered('controller training', c.recovered);
    const seen = c.archs.map((arch, i) => ({ arch, score: c.rewards[i] }));
    this.state.best = [...this.state.best, ...seen].sort((a, b) => b.score - a.score).slice(0, this.p.topK);
    return c;
  }

  /** Keeps a recovery note in the durable state (the last 10), where progress and status show it. */
  private recovered(phase: string, note: string | undefined): void {
    if (!note) return;
    const s = this.state;
    s.recoveries = [...(s.recoveries ?? []), `iteration ${s.iteration}, ${phase}: ${note}`].slice(-10);
  }

  /** Dynamic reset: a fresh shared GAN (the controller is kept). */
  async reset(): Promise<void> {
    this.phase = 'reset';
    this.state.supernet = (
      await this.timed(() => this.onGpuQueue.searchResetShared(this.p, this.refs()))
    ).supernet;
    this.state.resets++;
  }

  /** Bookkeeping: the iteration's summary, the durable state file, continue-as-new when due. */
  async endIteration(r: SharedResult, c: ControllerResult | null): Promise<void> {
    const s = this.state;
    const meanReward = c ? c.meanReward : (r.child?.score ?? null);
    const summary: IterationSummary = {
      iteration: s.iteration,
      stage: s.stage,
      dLoss: r.dLoss,
      gLoss: r.gLoss,
      meanReward,
      entropy: c ? c.entropy : null,
      baseline: c ? c.baseline : null,
      reset: r.reset,
      // Data only (no commands): histories recorded before these fields replay unchanged.
      rewardNoise: c?.rewardNoise ?? null,
      rewardSpread: c?.rewardSpread ?? null,
      lossSpread: r.lossSpread ?? { g: null, d: null },
    };
    s.history = [...s.history, summary].slice(-HISTORY_KEEP);
    s.rewards.push(meanReward);
    s.iteration++;
    await this.onControlQueue.searchRecordState(
      this.p.artifacts,
      this.workflowId,
      { params: this.p, state: s },
      this.p.s3,
    );
    if (
      s.iteration % this.p.continueAsNewEvery === 0 &&
      s.iteration < this.p.maxIterations &&
      !this.stopping
    ) {
      await continueAsNew<typeof autoganSearch>({ ...this.p, state: s });
    }
  }

  /** The final top K: derived from the policy, or (random search without sharing) the best children. */
  private async finalTopK(): Promise<SearchResult['topK']> {
    const p = this.p;
    if (p.mode === 'random' && !p.weightSharing) {
      // Only children of the final stage are whole generators; an earlier, shallower child's score
      // (at a lower resolution) does not compete with them.
      const finalLength = archLength(this.state.stage);
      return this.state.children
        .filter((c) => c.arch.length === finalLength)
        .sort((a, b) => b.score - a.score)
        .slice(0, p.topK);
    }
    return (await this.timed(() => this.onGpuQueue.searchDerive(p, this.refs(), p.candidates, p.topK))).topK;
  }

  async finish(): Promise<SearchResult> {
    this.phase = 'derive';
    const topK = await this.finalTopK();
    this.phase = 'done';
    const s = this.state;
    const result: SearchResult = {
      name: this.p.name,
      params: this.p,
      iterations: s.iteration,
      stage: s.stage,
      stopped: this.stopping,
      topK,
      supernet: s.supernet,
      controller: s.controller,
      beams: s.beams,
      resets: s.resets,
      rewards: s.rewards,
      grown: s.grown,
      history: s.history,
      computeSeconds: s.computeSeconds,
      // Data only (no new command): a recovery note stays in the final result, not just in progress.
      ...(s.recoveries?.length ? { recoveries: s.recoveries } : {}),
    };
    await this.onControlQueue.searchRecordState(
      this.p.artifacts,
      this.workflowId,
      { params: this.p, state: s, result },
      this.p.s3,
    );
    return result;
  }
}
