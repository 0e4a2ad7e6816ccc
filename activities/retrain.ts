// Thin Temporal adapters over services/retrain: retraining a derived architecture in chunks.
import type * as retrain from '../services/retrain';
import { noHooks } from '../services/search/context';
import { activityHooks } from './heartbeat';
import { onBackend } from './on-backend';
import { tensorCall } from './tensor-call';

export async function retrainInit(p: retrain.RetrainParams) {
  return onBackend(
    p.backend,
    () => tensorCall('retrainInit', [p], noHooks, p.backend),
    paths(p),
    undefined,
    true,
  );
}

export async function retrainChunk(p: retrain.RetrainParams, checkpoint: string) {
  return onBackend(
    p.backend,
    () => tensorCall('retrainChunk', [p, checkpoint], activityHooks(), p.backend),
    paths(p),
    `the retraining of ${p.label} [${p.arch.join(' ')}]`,
    true,
  );
}

const paths = (p: retrain.RetrainParams) => ({ artifacts: p.artifacts, 'dataset.path': p.dataset?.path });
