// Retraining a derived architecture from scratch (the paper's final step), in chunks that an
// activity runs and checkpoints, with periodic IS/FID evaluation and sample grids.
import * as path from 'node:path';
import { type ArtifactRef } from '../core/artifacts';
import { BatchLoader, type LoaderState } from '../core/datasets/loader';
import { openDataset } from '../core/datasets';
import { imageSizeAt, type GanConfig } from '../core/gan/config';
import { DEFAULT_TRAIN, GanTrainer } from '../core/gan/trainer';
import { evaluateImages, type ImageSource } from '../core/metrics/evaluate';
import { frechetDistance } from '../core/metrics/fid';
import { saveGrid } from '../core/metrics/grid';
import { Rng } from '../core/rng';
import type { SpecParams } from '../pipeline/plan';
import { DEFAULT_RETRAIN } from '../pipeline/retrain-params';
import type { NetworkRef, TrainSettings } from '../pipeline/search-params';
import { writeRetrainEvents } from './tensorboard';
import { artifactStore } from './artifact-store';
import { AttemptCheckpoints, resumeOrStart } from './checkpoints';
import { derivedSeed, network, noHooks, realStats, type Hooks } from './search';
import { freshLoopState, meanLosses, trainLoop } from './train-loop';

export interface RetrainParams extends SpecParams {
  arch: number[];
  /** Label for outputs (e.g. "top1"). */
  label: string;
  runId: string;
  /** The derived generator's cell count comes from the architecture. @default latent 128, gf 256, df 128, bottom 4, 3 channels (reference train_derived) */
  gan: Omit<GanConfig, 'cells'>;
  /** @default as the search's (lr 2e-4, β 0/0.9, nCritic 5, batches 128/64) */
  train: TrainSettings;
  /** Generator iterations (reference max_iter 50000); D steps = iterations × nCritic. @default 50000 */
  iterations: number;
  /** D steps per activity (each activity checkpoints every checkpointEvery steps). @default 1000 */
  stepsPerActivity: number;
  /** Evaluate IS/FID and save a sample grid every N D steps (0: only at the end). @default 0 */
  evalEvery: number;
  /** Images of each evaluation. @default 5000 */
  evalImages: number;
  /** @default 100 */
  evalBatchSize: number;
  /** @default 'digits' */
  network: NetworkRef;
  /** .npz statistics of real images for FID (default: computed from the dataset). */
  fidStats?: string;
  /** Linear LR decay to 0 over the run (reference). @default true */
  lrDecay: boolean;
  /** EMA of G's weights (reference 0.999). @default 0.999 */
  emaDecay: number;
  /** @default true (see TrainConfig.emaWarmup) */
  emaWarmup?: boolean;
  /** @default 'recompute' (see TrainConfig.emaBnStats) */
  emaBnStats?: 'recompute' | 'live';
  /** @default 200 */
  checkpointEvery: number;
  /** …and at most one checkpoint per this many seconds of compute (0: every checkpointEvery steps). @default 180 */
  checkpointMinSeconds?: number;
  /** @default '2m' */
  heartbeatTimeout: string;
  /** @default '24h' */
  activityTimeout: string;
  datasetLimit?: number;
}

interface Extra {
  loader: LoaderState | null;
}

function totalSteps(p: RetrainParams): number {
  return p.iterations * p.train.nCritic;
}

export async function retrainInit(
  p: RetrainParams,
): Promise<{ checkpoint: ArtifactRef; totalSteps: number }> {
  openDataset(p.dataset);
  const cells = (p.arch.length - 4) / 5 + 1;
  const trainer = GanTrainer.create(
    { ...p.gan, cells },
    {
      ...DEFAULT_TRAIN,
      ...p.train,
      reset: { window: 1, threshold: -Infinity, measure: 'std' },
      emaDecay: p.emaDecay,
      emaWarmup: p.emaWarmup ?? true,
      emaBnStats: p.emaBnStats ?? 'recompute',
      lrDecaySteps: p.lrDecay ? totalSteps(p) : 0,
    },
    { seed: derivedSeed(p, 'retrain', p.arch.join(',')), arch: p.arch },
  );
  try {
    const checkpoint = await artifactStore(p).put('ckpt', (f) =>
      trainer.save(f, { loader: null } satisfies Extra),
    );
    return { checkpoint, totalSteps: totalSteps(p) };
  } finally {
    trainer.dispose();
  }
}

export interface ChunkResult {
  checkpoint: ArtifactRef;
  step: number;
  dLoss: number;
  gLoss: number;
  evaluation?: { step: number; is: number; isStd: number; fid: number | null; samples: string };
  /** Checkpoints a retry had to skip (corrupt, missing) and where it resumed instead. */
  recovered?: string;
  /** The D step this attempt started from (its chunk's start, or a retried attempt's checkpoint). */
  resumedFromStep: number;
}

export async function retrainChunk(
  p: RetrainParams,
  checkpoint: ArtifactRef,
  hooks: Hooks = noHooks,
): Promise<ChunkResult> {
  const store = artifactStore(p);
  const begin = await resumeOrStart(hooks, async (ref) => GanTrainer.load(await store.get(ref)), checkpoint);
  const { trainer, extra } = begin.loaded;
  try {
    const loader = new BatchLoader(
      openDataset(p.dataset),
      {
        batchSize: p.train.disBatchSize,
        imageSize: imageSizeAt(p.gan, trainer.stage),
        channels: p.gan.channels,
        ...(p.datasetLimit ? { limit: p.datasetLimit } : {}),
      },
      (extra as Extra).loader ?? derivedSeed(p, 'retrain-data', p.arch.join(',')),
    );
    const end = Math.min(
      totalSteps(p),
      Math.floor(trainer.dSteps / p.stepsPerActivity) * p.stepsPerActivity + p.stepsPerActivity,
    );
    const start = trainer.dSteps;
    const losses = freshLoopState(start);
    const scratch = new AttemptCheckpoints(store);
    await trainLoop(trainer, loader, losses, {
      end,
      checkpointEvery: p.checkpointEvery,
      checkpointMinSeconds: p.checkpointMinSeconds ?? DEFAULT_RETRAIN.checkpointMinSeconds,
      checkpoint: () => scratch.put((f) => trainer.save(f, { loader: loader.state() } satisfies Extra)),
      hooks,
    });
    const n = trainer.dSteps - start;
    const out = await store.put('ckpt', (f) => trainer.save(f, { loader: loader.state() } satisfies Extra));
    await scratch.prune([out]);
    const due =
      end >= totalSteps(p) ||
      (p.evalEvery > 0 && Math.floor(end / p.evalEvery) > Math.floor((end - n) / p.evalEvery));
    const result: ChunkResult = {
      checkpoint: out,
      step: trainer.dSteps,
      ...meanLosses(losses),
      ...(begin.recovered ? { recovered: begin.recovered } : {}),
      resumedFromStep: start,
      ...(due
        ? { evaluation: await evaluateTrainer(p, trainer, p.evalImages, `${p.label}-step${trainer.dSteps}`) }
        : {}),
    };
    await retrainEvents(p, result);
    return result;
  } finally {
    trainer.dispose();
  }
}

/** The candidate's TensorBoard events after a chunk; a failure only costs the events. */
async function retrainEvents(p: RetrainParams, r: ChunkResult): Promise<void> {
  try {
    const store = artifactStore(p);
    const { events, curve } = writeRetrainEvents(store.runDir(p.runId), p.label, {
      step: r.step,
      dLoss: r.dLoss,
      gLoss: r.gLoss,
      ...(r.evaluation ? { is: r.evaluation.is, fid: r.evaluation.fid, samples: r.evaluation.samples } : {}),
      wallTime: Date.now() / 1000,
    });
    await store.publish(p.runId, curve);
    await store.publish(p.runId, events);
  } catch (err) {
    console.error(`[autogan] no TensorBoard events for ${p.label}: ${(err as Error).message}`);
  }
}

/** IS and FID of a trained generator (EMA weights), and a sample grid PNG in the run folder. */
export async function evaluateTrainer(
  p: Pick<
    RetrainParams,
    | 'network'
    | 'seed'
    | 'evalBatchSize'
    | 'artifacts'
    | 's3'
    | 'runId'
    | 'fidStats'
    | 'dataset'
    | 'gan'
    | 'datasetLimit'
  >,
  trainer: GanTrainer,
  images: number,
  label: string,
  /** Called after each evaluated batch (a long evaluation heartbeats and can be cancelled there). */
  onProgress?: (done: number, total: number) => void | Promise<void>,
): Promise<{ step: number; is: number; isStd: number; fid: number | null; samples: string }> {
  const net = await network(p.network);
  const rng = new Rng(derivedSeed(p, 'eval', label));
  const source: ImageSource = { count: images, next: (n) => trainer.sample(n, { rng, ema: true }) };
  const ev = await evaluateImages(net, source, {
    images,
    batchSize: p.evalBatchSize,
    stats: true,
    splits: Math.min(10, images),
    ...(onProgress ? { onProgress } : {}),
  });
  const real = await realStats(
    { ...p, gan: { ...p.gan, cells: trainer.stage + 1 }, rewardImages: Math.max(images, 1000) },
    trainer.stage,
  );
  const grid = trainer.sample(64, { rng: new Rng(1), ema: true });
  const store = artifactStore(p);
  const samples = path.join(store.runDir(p.runId), `samples-${label}.png`);
  saveGrid(samples, grid);
  grid.dispose();
  await store.publish(p.runId, samples);
  return {
    step: trainer.dSteps,
    is: ev.is!.mean,
    isStd: ev.is!.std,
    fid: frechetDistance(ev.stats!, real),
    samples,
  };
}
