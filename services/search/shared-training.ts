// Training the shared GAN for one search iteration (Algorithm 1, line 3), resumable from the
// checkpoint a retried attempt's heartbeat names; and the no-sharing random-search ablation,
// which trains each sampled child from scratch instead.
import { randomArch } from '../../core/arch/encoding';
import { type ArtifactRef } from '../../core/artifacts';
import { Controller, type Beam } from '../../core/controller/controller';
import { BatchLoader } from '../../core/datasets/loader';
import { type ResetSpread } from '../../core/gan/reset-detector';
import { GanTrainer } from '../../core/gan/trainer';
import { Rng } from '../../core/rng';
import { type SearchParams } from '../../pipeline/search-params';
import {
  derivedSeed,
  ganConfig,
  loaderFor,
  loadController,
  loadTrainer,
  noHooks,
  saveTrainer,
  trainConfig,
  type Hooks,
  type SearchRefs,
} from './context';
import { scoreArch } from './scoring';
import { artifactStore } from '../artifact-store';
import { AttemptCheckpoints, resumeOrStart } from '../checkpoints';
import { freshLoopState, meanLosses, trainLoop } from '../train-loop';

/** Samples one architecture for a shared-training step: from the controller, or uniformly. */
function sampler(
  p: SearchParams,
  ctrl: Controller | null,
  beams: Beam[],
  stage: number,
  rng: Rng,
): () => number[] {
  if (!ctrl) return () => randomArch(stage, rng);
  return () => ctrl.sample(1, beams.length ? beams : undefined, rng)[0].arch;
}

export interface SharedResult {
  supernet: ArtifactRef;
  steps: number;
  dLoss: number;
  gLoss: number;
  reset: boolean;
  /** The step a retried attempt resumed from (0: started fresh). */
  resumedFromStep: number;
  /** Checkpoints a retry had to skip (corrupt, missing) and where it resumed instead. */
  recovered?: string;
  /** Random search without weight sharing: the child trained and its score. */
  child?: { arch: number[]; score: number };
  /**
   * The lowest spread (variance or std, as dynamicReset.measure) of the G and D loss windows that
   * the reset detector compared with its threshold in this iteration; null where no window filled.
   */
  lossSpread: ResetSpread;
}

export async function trainShared(
  p: SearchParams,
  s: SearchRefs,
  hooks: Hooks = noHooks,
): Promise<SharedResult> {
  // The small controller first: a store error loading either then leaves no supernet undisposed.
  const ctrl = s.controller ? (await loadController(p, s.controller)).controller : null;
  let start;
  try {
    start = await resumeOrStart(hooks, (ref) => loadTrainer(p, ref), s.supernet);
  } catch (err) {
    ctrl?.dispose();
    throw err;
  }
  const { trainer, extra } = start.loaded;
  const resume = start.resumed;
  try {
    if (trainer.stage !== s.stage) trainer.setStage(s.stage);
    const loader = loaderFor(p, s.stage, extra.loader);
    const total = p.sharedSteps ?? p.sharedEpochs * loader.batchesPerEpoch;
    const samplerRng = new Rng(extra.sampler);
    const sample = sampler(p, ctrl, s.beams, s.stage, samplerRng);
    const acc =
      resume && extra.phase?.iteration === s.iteration
        ? extra.phase
        : { iteration: s.iteration, ...freshLoopState() };

    if (p.mode === 'random' && !p.weightSharing) return await trainChild(p, s, sample, loader, total, hooks);

    const resumedFromStep = acc.step;
    const lowest: ResetSpread = acc.lowestSpread ?? { g: null, d: null };
    acc.lowestSpread = lowest;
    const scratch = new AttemptCheckpoints(artifactStore(p));
    const { stopped: reset } = await trainLoop(trainer, loader, acc, {
      end: total,
      arch: sample,
      checkpointEvery: p.checkpointEvery,
      checkpointMinSeconds: p.checkpointMinSeconds,
      checkpoint: () =>
        scratch.put((f) =>
          trainer.save(f, {
            loader: loader.state(),
            sampler: samplerRng.state(),
            phase: { ...acc, lowestSpread: { ...lowest } },
          }),
        ),
      hooks,
      stopOn: (r) => {
        keepLowest(lowest, trainer.detector.lastSpread);
        return r.reset;
      },
    });
    const supernet = await saveTrainer(p, trainer, { loader: loader.state(), sampler: samplerRng.state() });
    // The result exists: this attempt's intermediate checkpoints are garbage from here on.
    await scratch.prune([supernet]);
    return {
      supernet,
      steps: acc.step,
      ...meanLosses(acc),
      reset,
      resumedFromStep,
      lossSpread: lowest,
      ...(start.recovered ? { recovered: start.recovered } : {}),
    };
  } finally {
    trainer.dispose();
    ctrl?.dispose();
  }
}

/** Folds one check's spreads into the iteration's lowest. */
function keepLowest(lowest: ResetSpread, now: ResetSpread): void {
  for (const k of ['g', 'd'] as const) {
    const v = now[k];
    if (v !== null && (lowest[k] === null || v < lowest[k]!)) lowest[k] = v;
  }
}

/** Random search without weight sharing: one child trained from scratch, then scored. */
async function trainChild(
  p: SearchParams,
  s: SearchRefs,
  sample: () => number[],
  loader: BatchLoader,
  total: number,
  hooks: Hooks,
): Promise<SharedResult> {
  const arch = sample();
  const child = GanTrainer.create(
    ganConfig(p),
    { ...trainConfig(p), reset: { window: 1, threshold: -Infinity, measure: 'std' } },
    { seed: derivedSeed(p, 'child', s.iteration), arch },
  );
  const losses = freshLoopState();
  try {
    await trainLoop(child, loader, losses, { end: total, hooks });
    const score = await scoreArch(p, child, arch, s.stage, derivedSeed(p, 'child-score', s.iteration));
    return {
      supernet: s.supernet,
      steps: total,
      ...meanLosses(losses),
      reset: false,
      resumedFromStep: 0,
      lossSpread: { g: null, d: null },
      child: { arch, score },
    };
  } finally {
    child.dispose();
  }
}
