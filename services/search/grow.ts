// Growing to the next stage: the finished stage's top-K beams start the new controller.
import { type ArtifactRef } from '../../core/artifacts';
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

/** Grows to `stage`: beams of the finished stage become the new controller's starting points. */
export async function grow(
  p: SearchParams,
  s: SearchRefs,
  hooks: Hooks = noHooks,
): Promise<DeriveResult & { controller: ArtifactRef | null; supernet: ArtifactRef; stage: number }> {
  const to = stageAt(p, s.iteration);
  const d =
    p.mode === 'random'
      ? { topK: [], beams: [], candidates: [] }
      : await derive(p, s, { m: p.candidates, k: p.topK }, hooks);
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
