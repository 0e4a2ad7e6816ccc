// Thin Temporal adapters over services/retrain: retraining a derived architecture in chunks.
import * as retrain from '../services/retrain';
import { activityHooks } from './heartbeat';
import { onTensorHost } from './on-backend';
import { tensorCall } from './tensor-call';
import { noHooks } from '../services/search/context';

export async function retrainInit(p: retrain.RetrainParams) {
  return onTensorHost(p.backend, () => tensorCall('retrainInit', [p], noHooks, p.backend), paths(p));
}

export async function retrainChunk(p: retrain.RetrainParams, checkpoint: string) {
  return onTensorHost(
    p.backend,
    () => tensorCall('retrainChunk', [p, checkpoint], activityHooks(), p.backend),
    paths(p),
    `the retraining of ${p.label} [${p.arch.join(' ')}]`,
  );
}

const paths = (p: retrain.RetrainParams) => ({ artifacts: p.artifacts, 'dataset.path': p.dataset?.path });
