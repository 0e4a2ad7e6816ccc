// Initialise a search: the shared GAN and the first controller.
import { type ArtifactRef } from '../../core/artifacts';
import { openDataset } from '../../core/datasets';
import { GanTrainer } from '../../core/gan/trainer';
import { Rng } from '../../core/rng';
import { stageAt, type SearchParams } from '../../pipeline/search-params';
import { derivedSeed, ganConfig, newController, saveController, saveTrainer, trainConfig } from './context';

/** Creates the shared GAN and the first controller. */
export function initSearch(p: SearchParams): {
  supernet: ArtifactRef;
  controller: ArtifactRef | null;
  stage: number;
} {
  openDataset(p.dataset); // fail early on a bad dataset
  const stage = stageAt(p, 0);
  const t = GanTrainer.create(ganConfig(p), trainConfig(p), { seed: derivedSeed(p, 'gan'), stage });
  const supernet = saveTrainer(p, t, { loader: null, sampler: new Rng(derivedSeed(p, 'sampler')).state() });
  t.dispose();
  let controller: ArtifactRef | null = null;
  if (p.mode !== 'random') {
    const c = newController(p, stage);
    controller = saveController(p, c);
    c.dispose();
  }
  return { supernet, controller, stage };
}
