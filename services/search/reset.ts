// Dynamic reset: a fresh shared GAN at the same stage (the controller is kept).
import { type ArtifactRef } from '../../core/artifacts';
import { type SearchParams } from '../../pipeline/search-params';
import { loadTrainer, saveTrainer, type SearchRefs } from './context';

/** Dynamic reset: a fresh shared GAN at the same stage (the controller is kept). */
export async function resetShared(p: SearchParams, s: SearchRefs): Promise<ArtifactRef> {
  const { trainer, extra } = await loadTrainer(p, s.supernet);
  trainer.reset();
  const ref = await saveTrainer(p, trainer, { ...extra, phase: undefined });
  trainer.dispose();
  return ref;
}
