// The `autogan.evaluate` step: IS and FID of every retrained model, the winner by IS.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';
import type { StepInput, StepOutput } from '../pipeline/plan';
import { artifactStore } from '../services/artifact-store';
import * as retrain from '../services/retrain';
import { badInput } from './errors';
import { activityHooks } from './heartbeat';
import { onBackend } from './on-backend';
import { tensorCall } from './tensor-call';
import { checkedWith } from './step-input';

export async function evaluateStep(input: StepInput): Promise<StepOutput> {
  const w = checkedWith<{
    models: Array<{ arch: number[]; label: string; checkpoint: string }>;
    images: number;
    evalBatchSize: number;
    network: retrain.RetrainParams['network'];
    fidStats?: string;
  }>('autogan.evaluate', input);
  if (!Array.isArray(w.models) || w.models.length === 0)
    throw badInput('evaluate: "models" must be a non-empty list of retrained models');
  const where = { artifacts: input.spec.artifacts.path, s3: input.spec.artifacts.s3 };
  const backend = input.spec.backend;
  // In a tensor host like training (this process initializes no backend); the files after it here.
  return onBackend(
    backend,
    async () => {
      const results = await tensorCall(
        'evaluateModels',
        [
          {
            models: w.models,
            images: w.images,
            evalBatchSize: w.evalBatchSize,
            network: w.network,
            ...(w.fidStats !== undefined ? { fidStats: w.fidStats } : {}),
            seed: input.spec.seed,
            ...where,
            runId: input.runId,
            dataset: input.spec.dataset,
          },
        ],
        activityHooks(),
        backend,
      );
      const store = artifactStore(where);
      const winner = [...results].sort((a, b) => b.is - a.is)[0];
      const dir = store.runDir(input.runId);
      const best = path.join(dir, 'best-samples.png');
      fs.copyFileSync(winner.samples, best);
      const summary = {
        pipeline: input.pipeline,
        images: w.images,
        network: w.network === 'digits' ? 'digit-classifier' : w.network.source,
        winner,
        results,
      };
      writeFileAtomic(path.join(dir, 'evaluation.json'), JSON.stringify(summary, null, 2));
      for (const file of [best, path.join(dir, 'evaluation.json')]) await store.publish(input.runId, file);
      return { winner, results, bestSamples: best, summary: path.join(dir, 'evaluation.json') };
    },
    { inTensorHost: true },
  );
}
