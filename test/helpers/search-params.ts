import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SearchInput } from '../../pipeline/search-params';

/** A complete AutoGAN search small enough for integration tests (2 stages, 8×8 → 16×16... at 2×2 bottom: 4 → 8). */
export function tinySearch(
  queues: { control: string; gpu: string },
  overrides: Partial<SearchInput> = {},
): SearchInput {
  return {
    name: 'tiny',
    dataset: { kind: 'mnist' },
    artifacts: fs.mkdtempSync(path.join(os.tmpdir(), 'search-')),
    seed: 7,
    backend: 'auto',
    taskQueues: queues,
    gan: { latentDim: 8, gfDim: 4, dfDim: 4, bottomWidth: 2, cells: 2, channels: 1, dSpectralNorm: true },
    train: { gLr: 2e-4, dLr: 2e-4, beta1: 0, beta2: 0.9, nCritic: 2, genBatchSize: 4, disBatchSize: 4 },
    maxIterations: 4,
    growSteps: [2],
    sharedSteps: 6,
    controllerSteps: 2,
    controllerBatch: 2,
    rewardImages: 20,
    evalBatchSize: 20,
    candidates: 3,
    topK: 2,
    hiddenSize: 8,
    dynamicReset: { enabled: true, window: 500, threshold: 1e-3, measure: 'std' },
    checkpointEvery: 2,
    checkpointMinSeconds: 0, // every checkpointEvery steps: the tests resume from them
    continueAsNewEvery: 2,
    datasetLimit: 200,
    heartbeatTimeout: '4s',
    ...overrides,
  } as SearchInput;
}
