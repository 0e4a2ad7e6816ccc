// Dynamic reset: a fresh shared GAN at the same stage (the controller is kept).
import { type ArtifactRef } from '../../core/artifacts';
import { type SearchParams } from '../../pipeline/search-params';
import { loadTrainer, saveTrainer, type SearchRefs } from './context';

/** Dynamic reset: a fresh shared GAN at the same stage (the controller is kept). */
export function resetShared(p: SearchParams, s: SearchRefs): ArtifactRef {
  const { t, extra } = loadTrainer(p, s.supernet);
  t.reinitialize();
  const ref = saveTrainer(p, t, { ...extra, phase: undefined });
  t.dispose();
  return ref;
}
