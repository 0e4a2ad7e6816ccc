// Thin Temporal adapters over services/retrain: retraining a derived architecture in chunks.
import type * as retrain from '../services/retrain';
import { activityHooks } from './heartbeat';
import { onBackend } from './on-backend';
import { tensorCall } from './tensor-call';

export async function retrainInit(p: retrain.RetrainParams) {
  // Hooks here too: waiting for cores heartbeats and sees a cancellation.
  return onBackend(p.backend, () => tensorCall('retrainInit', [p], activityHooks(), p.backend), {
    paths: paths(p),
    inTensorHost: true,
  });
}

export async function retrainChunk(p: retrain.RetrainParams, checkpoint: string) {
  return onBackend(p.backend, () => tensorCall('retrainChunk', [p, checkpoint], activityHooks(), p.backend), {
    paths: paths(p),
    where: `the retraining of ${p.label} [${p.arch.join(' ')}]`,
    inTensorHost: true,
  });
}

const paths = (p: retrain.RetrainParams) => ({ artifacts: p.artifacts, 'dataset.path': p.dataset?.path });
