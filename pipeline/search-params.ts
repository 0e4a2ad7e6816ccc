// Parameters of an AutoGAN search (the `with:` of an `autogan.search` step, or the JSON input of
// `temporal workflow start --type autogan-search`). Pure data and pure functions: the workflow
// imports this module. Defaults are the reference search script's (exps/autogan_search.sh).
// Type-only imports: erased at build time, so workflow code stays free of tfjs.
import type { GanConfig } from '../core/gan/config';
import type { TrainConfig } from '../core/gan/trainer';
import type { TfjsNetworkOptions } from '../core/metrics/features';
import type { DatasetRef } from './plan';

export interface DynamicReset {
  enabled: boolean;
  /** Loss window length (reference 500). */
  window: number;
  /** Threshold on the window's spread (reference 1e-3). */
  threshold: number;
  measure: 'std' | 'variance';
}

/** A feature network for rewards and evaluation: the bundled digit classifier or a tfjs model. */
export type NetworkRef = 'digits' | Omit<TfjsNetworkOptions, 'name'>;

/** The training settings a search or a retrain takes (the rest of TrainConfig is derived). */
export type TrainSettings = Pick<
  TrainConfig,
  | 'gLr'
  | 'dLr'
  | 'beta1'
  | 'beta2'
  | 'nCritic'
  | 'genBatchSize'
  | 'disBatchSize'
  | 'snIterations'
  | 'adamOffPath'
>;

export interface SearchParams {
  /** Shown in progress and memo. */
  name: string;
  dataset: DatasetRef;
  /** Artifact store directory (absolute on the workers). */
  artifacts: string;
  seed: number;
  backend: 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'cpu';
  taskQueues: { control: string; gpu: string };
  gan: GanConfig;
  train: TrainSettings;
  /** 'multi-level' (the paper), 'single-level' (one controller for every cell), 'random' (uniform sampler). */
  mode: 'multi-level' | 'single-level' | 'random';
  /** Random search only: false trains every sampled child from scratch instead of sharing weights. */
  weightSharing: boolean;
  /** Reward of a child: 'is' (the paper) or 'inverse-fid' (1/FID, the ablation). */
  reward: 'is' | 'inverse-fid';
  maxIterations: number;
  /** Search iterations at which the next cell is added (reference grow_step1/2: 15, 35). */
  growSteps: number[];
  /** Shared-GAN training per iteration: epochs over the data (reference 15)… */
  sharedEpochs: number;
  /** …or, when set, exactly this many D steps (small runs). */
  sharedSteps?: number;
  controllerSteps: number;
  /** Architectures sampled per controller step (reference ctrl_sample_batch 1). */
  controllerBatch: number;
  /** Images generated to score one child (reference rl_num_eval_img 5000). */
  rewardImages: number;
  candidates: number;
  topK: number;
  hiddenSize: number;
  ctrlLr: number;
  /** Reference code 1e-3; the paper's text 1e-4. */
  entropyCoeff: number;
  baselineDecay: number;
  /** REINFORCE arithmetic (ControllerConfig.reinforce). @default 'reference' */
  reinforce: 'reference' | 'per-sample';
  /** When the baseline starts afresh (ControllerConfig.baselineScope). @default 'call' */
  baselineScope: 'call' | 'search';
  dynamicReset: DynamicReset;
  network: NetworkRef;
  /** Optional .npz statistics of real images for the 1/FID reward (default: computed from the dataset). */
  fidStats?: string;
  evalBatchSize: number;
  /** Checkpoint (and report) every N training steps inside an activity. */
  checkpointEvery: number;
  /** Start a fresh run history every N iterations (continue-as-new). */
  continueAsNewEvery: number;
  /** Limit of the dataset (first N images), for small runs. */
  datasetLimit?: number;
  /** Heartbeat timeout of training activities: how fast a dead worker's step is retried elsewhere. */
  heartbeatTimeout: string;
  /** Longest one training activity may run (a full step at paper scale). */
  activityTimeout: string;
}

export const DEFAULT_SEARCH: Omit<SearchParams, 'dataset' | 'artifacts'> = {
  name: 'autogan-search',
  seed: 12345,
  backend: 'auto',
  taskQueues: { control: 'autogan-control', gpu: 'autogan-gpu' },
  gan: {
    latentDim: 128,
    gfDim: 128,
    dfDim: 64,
    bottomWidth: 4,
    cells: 3,
    channels: 3,
    dSpectralNorm: true,
    skipOut: 'with-skip-ins',
  },
  train: {
    gLr: 2e-4,
    dLr: 2e-4,
    beta1: 0,
    beta2: 0.9,
    nCritic: 5,
    genBatchSize: 128,
    disBatchSize: 64,
    snIterations: 'per-forward',
    adamOffPath: 'zero-grad',
  },
  mode: 'multi-level',
  weightSharing: true,
  reward: 'is',
  maxIterations: 65,
  growSteps: [15, 35],
  sharedEpochs: 15,
  controllerSteps: 30,
  controllerBatch: 1,
  rewardImages: 5000,
  candidates: 10,
  topK: 5,
  hiddenSize: 100,
  ctrlLr: 3.5e-4,
  entropyCoeff: 1e-3,
  baselineDecay: 0.9,
  reinforce: 'reference',
  baselineScope: 'call',
  dynamicReset: { enabled: true, window: 500, threshold: 1e-3, measure: 'variance' },
  network: 'digits',
  evalBatchSize: 100,
  checkpointEvery: 50,
  continueAsNewEvery: 10,
  heartbeatTimeout: '2m',
  activityTimeout: '24h',
};

type Partialish<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : Partialish<T[K]>) : T[K];
};

export type SearchInput = Partialish<SearchParams> & Pick<SearchParams, 'dataset' | 'artifacts'>;

/** Fills defaults (one level deep for nested groups). Deterministic, no I/O. */
export function withSearchDefaults(input: SearchInput): SearchParams {
  const d = DEFAULT_SEARCH as SearchParams;
  return {
    ...d,
    ...(input as SearchParams),
    taskQueues: { ...d.taskQueues, ...(input.taskQueues ?? {}) },
    gan: { ...d.gan, ...(input.gan ?? {}) },
    train: { ...d.train, ...(input.train ?? {}) },
    dynamicReset: { ...d.dynamicReset, ...(input.dynamicReset ?? {}) },
  };
}

/** Stage of an iteration: the number of grow steps at or before it (capped by the cell count). */
export function stageAt(p: Pick<SearchParams, 'growSteps' | 'gan' | 'mode'>, iteration: number): number {
  if (p.mode === 'single-level') return p.gan.cells - 1;
  return Math.min(p.gan.cells - 1, p.growSteps.filter((g) => g <= iteration).length);
}
