// What every phase of the search shares: progress hooks, the references a phase works on, the
// search's model configs and seeds, and loading/saving the supernet and controller checkpoints.
import { createHash } from 'node:crypto';
import { type ArtifactRef } from '../../core/artifacts';
import { Controller, type Beam } from '../../core/controller/controller';
import { openDataset } from '../../core/datasets';
import { BatchLoader, type LoaderState } from '../../core/datasets/loader';
import { imageSizeAt, type GanConfig } from '../../core/gan/config';
import { type ResetSpread } from '../../core/gan/reset-detector';
import { DEFAULT_TRAIN, GanTrainer, type TrainConfig } from '../../core/gan/trainer';
import { type RngState } from '../../core/rng';
import { type SearchParams } from '../../pipeline/search-params';
import { artifactStore } from '../artifact-store';

export interface Hooks {
  /** Reports progress; `ref` is the newest checkpoint of this phase, from which a retry resumes. */
  progress(p: { step: number; total: number; ref?: ArtifactRef }): void;
  /** Where a retried attempt resumes. */
  resumeFrom?: {
    step: number;
    ref: ArtifactRef;
    /** Earlier checkpoints of the same attempt chain, newest first: used when `ref` is corrupt. */
    earlier?: Array<{ step: number; ref: ArtifactRef }>;
  };
  /**
   * Called between steps: lets the event loop run (heartbeats go out) and throws when the attempt
   * was cancelled, so the work stops at this boundary.
   */
  atStepBoundary(): Promise<void>;
  /** Tells the server the activity is alive while it waits to start (no progress to report yet). */
  keepAlive?(): void;
}

export const noHooks: Hooks = {
  progress: () => undefined,
  atStepBoundary: () => new Promise((r) => setImmediate(r)),
};

export interface SearchRefs {
  supernet: ArtifactRef;
  controller: ArtifactRef | null;
  beams: Beam[];
  stage: number;
  iteration: number;
}

export interface SupernetExtra {
  loader: LoaderState | null;
  sampler: RngState;
  /** Progress inside a shared-training activity (for resume). */
  phase?: {
    iteration: number;
    step: number;
    dSum: number;
    gSum: number;
    dCount: number;
    gCount: number;
    /** The lowest loss-window spreads the reset detector saw so far in this iteration. */
    lowestSpread?: ResetSpread;
  };
}

export interface ControllerExtra {
  phase?: {
    iteration: number;
    step: number;
    rewards: number[];
    entropies: number[];
    archs: number[][];
    /** The raw scores (rewards without the entropy bonus); absent in checkpoints of older versions. */
    scores?: number[];
  };
}

export function ganConfig(p: SearchParams): GanConfig {
  return { ...p.gan };
}

export function trainConfig(p: SearchParams): TrainConfig {
  return {
    ...DEFAULT_TRAIN,
    ...p.train,
    reset: {
      window: p.dynamicReset.window,
      threshold: p.dynamicReset.enabled ? p.dynamicReset.threshold : -Infinity,
      measure: p.dynamicReset.measure,
    },
  };
}

/** A deterministic seed for a named purpose (scoring, controllers) from the search seed. */
export function derivedSeed(p: Pick<SearchParams, 'seed'>, ...parts: Array<string | number>): number {
  return createHash('sha256')
    .update(JSON.stringify([p.seed, ...parts]))
    .digest()
    .readUInt32LE(0);
}

export function loaderFor(p: SearchParams, stage: number, state: LoaderState | null): BatchLoader {
  const ds = openDataset(p.dataset);
  const opts = {
    batchSize: p.train.disBatchSize,
    imageSize: imageSizeAt(p.gan, stage),
    channels: p.gan.channels,
    ...(p.datasetLimit ? { limit: p.datasetLimit } : {}),
  };
  return new BatchLoader(ds, opts, state ?? derivedSeed(p, 'data'));
}

export function saveTrainer(
  p: SearchParams,
  trainer: GanTrainer,
  extra: SupernetExtra,
): Promise<ArtifactRef> {
  return artifactStore(p).put('ckpt', (f) => trainer.save(f, extra));
}

export async function loadTrainer(
  p: SearchParams,
  ref: ArtifactRef,
): Promise<{ trainer: GanTrainer; extra: SupernetExtra }> {
  const { trainer, extra } = GanTrainer.load(await artifactStore(p).get(ref));
  return { trainer, extra: extra as SupernetExtra };
}

export function newController(p: SearchParams, stage: number): Controller {
  const cells = p.mode === 'single-level' ? Array.from({ length: p.gan.cells }, (_, i) => i) : [stage];
  return Controller.create(
    {
      cells,
      hiddenSize: p.hiddenSize,
      lr: p.ctrlLr,
      beta1: p.train.beta1,
      beta2: p.train.beta2,
      entropyCoeff: p.entropyCoeff,
      baselineDecay: p.baselineDecay,
      reinforce: p.reinforce,
      baselineScope: p.baselineScope,
    },
    derivedSeed(p, 'controller', stage),
  );
}

export function saveController(
  p: SearchParams,
  controller: Controller,
  extra: ControllerExtra = {},
): Promise<ArtifactRef> {
  return artifactStore(p).put('ckpt', (f) => controller.save(f, extra));
}

export async function loadController(
  p: SearchParams,
  ref: ArtifactRef,
): Promise<{ controller: Controller; extra: ControllerExtra }> {
  const { controller, extra } = Controller.load(await artifactStore(p).get(ref));
  return { controller, extra: (extra ?? {}) as ControllerExtra };
}
