// Retrain parameters for tests that run `retrainInit`/`retrainChunk` themselves: two cells at
// 16×16 on MNIST with networks of width 16, a fresh store, one D step per G step.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_RETRAIN } from '../../pipeline/retrain-params';
import type { RetrainParams } from '../../services/retrain';

export function smallRetrain(over: Partial<RetrainParams> & { label: string; runId: string }): RetrainParams {
  return {
    ...DEFAULT_RETRAIN,
    arch: [0, 1, 0, 1, 1, 0, 1, 1, 1],
    dataset: { kind: 'mnist' },
    artifacts: fs.mkdtempSync(path.join(os.tmpdir(), `${over.runId}-`)),
    seed: 5,
    backend: 'auto',
    taskQueues: { control: 'c', gpu: 'g' },
    gan: { ...DEFAULT_RETRAIN.gan, latentDim: 16, gfDim: 16, dfDim: 16, bottomWidth: 4, channels: 1 },
    train: { ...DEFAULT_RETRAIN.train, nCritic: 1, genBatchSize: 16, disBatchSize: 16 },
    evalEvery: 0,
    checkpointMinSeconds: 0,
    datasetLimit: 256,
    ...over,
  } as RetrainParams;
}
