// Thin Temporal adapters over services/retrain: retraining a derived architecture in chunks.
import * as retrain from '../services/retrain';
import { activityHooks } from './heartbeat';
import { onBackend } from './on-backend';

export async function retrainInit(p: retrain.RetrainParams) {
  return onBackend(p.backend, () => retrain.retrainInit(p), paths(p));
}

export async function retrainChunk(p: retrain.RetrainParams, checkpoint: string) {
  return onBackend(
    p.backend,
    () => retrain.retrainChunk(p, checkpoint, activityHooks()),
    paths(p),
    `the retraining of ${p.label} [${p.arch.join(' ')}]`,
  );
}

const paths = (p: retrain.RetrainParams) => ({ artifacts: p.artifacts, 'dataset.path': p.dataset?.path });
