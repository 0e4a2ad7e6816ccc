// Initialise a search: the shared GAN and the first controller.
import { type ArtifactRef } from '../../core/artifacts';
import { openDataset } from '../../core/datasets';
import { GanTrainer } from '../../core/gan/trainer';
import { Rng } from '../../core/rng';
import { stageAt, type SearchParams } from '../../pipeline/search-params';
import { derivedSeed, ganConfig, newController, saveController, saveTrainer, trainConfig } from './context';

/** Creates the shared GAN and the first controller. */
export async function initSearch(p: SearchParams): Promise<{
  supernet: ArtifactRef;
  controller: ArtifactRef | null;
  stage: number;
}> {
  openDataset(p.dataset); // fail early on a bad dataset
  const stage = stageAt(p, 0);
  const trainer = GanTrainer.create(ganConfig(p), trainConfig(p), { seed: derivedSeed(p, 'gan'), stage });
  const supernet = await saveTrainer(p, trainer, {
    loader: null,
    sampler: new Rng(derivedSeed(p, 'sampler')).state(),
  });
  trainer.dispose();
  let controller: ArtifactRef | null = null;
  if (p.mode !== 'random') {
    const ctrl = newController(p, stage);
    controller = await saveController(p, ctrl);
    ctrl.dispose();
  }
  return { supernet, controller, stage };
}
