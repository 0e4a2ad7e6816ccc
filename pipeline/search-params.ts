// Parameters of an AutoGAN search (the `with:` of an `autogan.search` step, or the JSON input of
// `temporal workflow start --type autogan-search`). Pure data and pure functions: the workflow
// imports this module. Defaults are the reference search script's (exps/autogan_search.sh).
// Besides pure data (core/defaults) and the pure encoding arithmetic (core/arch/encoding), type-only
// imports: erased at build time, so workflow code stays free of tfjs.
import {
  CHECKPOINT_DEFAULTS,
  CONTROLLER_DEFAULTS,
  GAN_DEFAULTS,
  RESET_DEFAULTS,
  TRAIN_DEFAULTS,
} from '../core/defaults';
import { vectorLength } from '../core/arch/encoding';
import type { GanConfig } from '../core/gan/config';
import type { TrainConfig } from '../core/gan/trainer';
import type { TfjsNetworkOptions } from '../core/metrics/features';
import type { SpecParams } from './plan';

export interface DynamicReset {
  /** @default true */
  enabled: boolean;
  /** Loss window length (reference 500). @default 500 */
  window: number;
  /** Threshold on the window's spread (reference 1e-3). @default 1e-3 */
  threshold: number;
  /** What is compared with the threshold (see ResetConfig.measure). @default 'variance' */
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

export interface SearchParams extends SpecParams {
  /** Shown in progress and memo. @default 'autogan-search' (a pipeline step: the pipeline's name) */
  name: string;
  /** Supernet and D sizes. @default the reference search script's: latent 128, gf 128, df 64, bottom 4, 3 cells, 3 channels, SN on D */
  gan: GanConfig;
  /** @default lr 2e-4 (G and D), β 0/0.9, nCritic 5, G batch 128, D batch 64, SN per forward, Adam zero-grad off path */
  train: TrainSettings;
  /** 'multi-level' (the paper), 'single-level' (one controller for every cell), 'random' (uniform sampler). @default 'multi-level' */
  mode: 'multi-level' | 'single-level' | 'random';
  /** Random search only: false trains every sampled child from scratch instead of sharing weights. @default true */
  weightSharing: boolean;
  /** Reward of a child: 'is' (the paper) or 'inverse-fid' (1/FID, the ablation). @default 'is' */
  reward: 'is' | 'inverse-fid';
  /** Search iterations (reference script 65; its cfg.py default 90). @default 65 */
  maxIterations: number;
  /** Search iterations at which the next cell is added (reference grow_step1/2). @default [15, 35] */
  growSteps: number[];
  /** Shared-GAN training per iteration: epochs over the data (reference 15)… @default 15 */
  sharedEpochs: number;
  /** …or, when set, exactly this many D steps (small runs). */
  sharedSteps?: number;
  /** Controller steps per iteration (reference ctrl_step). @default 30 */
  controllerSteps: number;
  /** Architectures sampled per controller step (reference ctrl_sample_batch). @default 1 */
  controllerBatch: number;
  /** Images generated to score one child (reference rl_num_eval_img). @default 5000 */
  rewardImages: number;
  /**
   * Children of each controller call scored once more on fresh images: the reward's noise (the
   * std of one child's score), shown beside the reward curve. Not part of the method (the search's
   * own draws are unchanged); costs rewardProbes extra scores per iteration. @default 1
   */
  rewardProbes: number;
  /**
   * Every N iterations, a sample grid of the iteration's best child into the run folder
   * (samples-stage<s>-iter<n>.png, n = iterations done), so the report shows the supernet turning
   * from noise into digits; stage ends always get one (their derived top-1). 0: stage ends only.
   * @default 0
   */
  gridEvery: number;
  /** Candidates sampled when deriving (M, reference num_candidate). @default 10 */
  candidates: number;
  /** Kept when deriving (K, reference topk). @default 5 */
  topK: number;
  /** Controller LSTM size (reference hid_size). @default 100 */
  hiddenSize: number;
  /** Controller Adam learning rate (reference ctrl_lr). @default 3.5e-4 */
  ctrlLr: number;
  /** Entropy bonus weight: reference code 1e-3, the paper's text 1e-4. @default 1e-3 */
  entropyCoeff: number;
  /** Moving-average baseline decay. @default 0.9 */
  baselineDecay: number;
  /** REINFORCE arithmetic (ControllerConfig.reinforce). @default 'reference' */
  reinforce: 'reference' | 'per-sample';
  /** When the baseline starts afresh (ControllerConfig.baselineScope). @default 'call' */
  baselineScope: 'call' | 'search';
  dynamicReset: DynamicReset;
  /** Feature network of rewards. @default 'digits' */
  network: NetworkRef;
  /** Optional .npz statistics of real images for the 1/FID reward (default: computed from the dataset). */
  fidStats?: string;
  /** Images per forward pass of the feature network. @default 100 */
  evalBatchSize: number;
  /** Checkpoint (and report) every N training steps inside an activity. @default 50 */
  checkpointEvery: number;
  /**
   * …and only when at least this many seconds of compute passed since the attempt's last checkpoint
   * (0: every checkpointEvery steps). Controller training applies it to its steps. An activity's end
   * always checkpoints. @default 180
   */
  checkpointMinSeconds: number;
  /** Start a fresh run history every N iterations (continue-as-new). @default 10 */
  continueAsNewEvery: number;
  /** Limit of the dataset (first N images), for small runs. */
  datasetLimit?: number;
  /** Heartbeat timeout of training activities: how fast a dead worker's step is retried elsewhere. @default '2m' */
  heartbeatTimeout: string;
  /** Longest one training activity may run (a full step at paper scale). @default '24h' */
  activityTimeout: string;
}

export const DEFAULT_SEARCH: Omit<SearchParams, 'dataset' | 'artifacts'> = {
  name: 'autogan-search',
  seed: 12345,
  backend: 'auto',
  taskQueues: { control: 'autogan-control', gpu: 'autogan-gpu' },
  gan: { ...GAN_DEFAULTS },
  train: { ...TRAIN_DEFAULTS },
  mode: 'multi-level',
  weightSharing: true,
  reward: 'is',
  maxIterations: 65,
  growSteps: [15, 35],
  sharedEpochs: 15,
  controllerSteps: 30,
  controllerBatch: 1,
  rewardImages: 5000,
  rewardProbes: 1,
  gridEvery: 0,
  candidates: 10,
  topK: 5,
  hiddenSize: CONTROLLER_DEFAULTS.hiddenSize,
  ctrlLr: CONTROLLER_DEFAULTS.lr,
  entropyCoeff: CONTROLLER_DEFAULTS.entropyCoeff,
  baselineDecay: CONTROLLER_DEFAULTS.baselineDecay,
  reinforce: CONTROLLER_DEFAULTS.reinforce,
  baselineScope: CONTROLLER_DEFAULTS.baselineScope,
  dynamicReset: { enabled: true, ...RESET_DEFAULTS },
  network: 'digits',
  evalBatchSize: 100,
  checkpointEvery: 50,
  checkpointMinSeconds: CHECKPOINT_DEFAULTS.minSeconds,
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
/** How many integers encode a generator of `stage + 1` cells (for workflow code, which imports no core/ itself). */
export const archLength = vectorLength;

export function stageAt(p: Pick<SearchParams, 'growSteps' | 'gan' | 'mode'>, iteration: number): number {
  if (p.mode === 'single-level') return p.gan.cells - 1;
  return Math.min(p.gan.cells - 1, p.growSteps.filter((g) => g <= iteration).length);
}
