// Growing to the next stage: the finished stage's top-K beams start the new controller.
import * as path from 'node:path';
import { type ArtifactRef } from '../../core/artifacts';
import { type GanTrainer } from '../../core/gan/trainer';
import { saveGrid } from '../../core/metrics/grid';
import { Rng } from '../../core/rng';
import { artifactStore } from '../artifact-store';
import { stageAt, type SearchParams } from '../../pipeline/search-params';
import {
  loadTrainer,
  newController,
  noHooks,
  saveController,
  saveTrainer,
  type Hooks,
  type SearchRefs,
} from './context';
import { derive, type DeriveResult } from './derive';

/**
 * A 64-image grid of `arch` from the shared generator as it stands (eval mode, fixed latents), into
 * the run folder as samples-stage<stage>-iter<iteration>.png: what each stage of a search looked like.
 */
export async function stageGrid(
  p: SearchParams,
  s: SearchRefs,
  arch: readonly number[],
  runId: string,
): Promise<string> {
  const { trainer } = await loadTrainer(p, s.supernet);
  try {
    if (trainer.stage !== s.stage) trainer.setStage(s.stage);
    return await writeStageGrid(p, trainer, s.stage, s.iteration, arch, runId);
  } finally {
    trainer.dispose();
  }
}

/** The grid of `arch` on a loaded supernet, as samples-stage<stage>-iter<iterations done>.png. */
export async function writeStageGrid(
  p: SearchParams,
  trainer: GanTrainer,
  stage: number,
  iterationsDone: number,
  arch: readonly number[],
  runId: string,
): Promise<string> {
  const images = trainer.sample(64, { arch, rng: new Rng(1) });
  const store = artifactStore(p);
  const file = path.join(store.runDir(runId), `samples-stage${stage}-iter${iterationsDone}.png`);
  saveGrid(file, images);
  images.dispose();
  await store.publish(runId, file);
  return file;
}

/** Grows to `stage`: beams of the finished stage become the new controller's starting points. */
export async function grow(
  p: SearchParams,
  s: SearchRefs,
  hooks: Hooks = noHooks,
  /** Write the finished stage's best beam's samples into this run's folder. */
  gridRunId?: string,
): Promise<DeriveResult & { controller: ArtifactRef | null; supernet: ArtifactRef; stage: number }> {
  const to = stageAt(p, s.iteration);
  const d =
    p.mode === 'random'
      ? { topK: [], beams: [], candidates: [] }
      : await derive(p, s, { m: p.candidates, k: p.topK }, hooks);
  if (gridRunId && d.topK[0]) await stageGrid(p, s, d.topK[0].arch, gridRunId);
  const { trainer, extra } = await loadTrainer(p, s.supernet);
  trainer.setStage(to);
  // A new stage reads images at a new resolution: the loader starts a fresh order (as the reference rebuilds it).
  const supernet = await saveTrainer(p, trainer, { ...extra, loader: null, phase: undefined });
  trainer.dispose();
  let controller: ArtifactRef | null = null;
  if (p.mode !== 'random') {
    const ctrl = newController(p, to);
    controller = await saveController(p, ctrl);
    ctrl.dispose();
  }
  return { ...d, controller, supernet, stage: to };
}
