// The `autogan.evaluate` step: IS and FID of every retrained model, the winner by IS.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';
import { GanTrainer } from '../core/gan/trainer';
import type { StepInput, StepOutput } from '../pipeline/plan';
import { artifactStore } from '../services/artifact-store';
import * as retrain from '../services/retrain';
import { badInput } from './errors';
import { activityHooks } from './heartbeat';
import { onBackend } from './on-backend';
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
  return onBackend(input.spec.backend, async () => {
    const hooks = activityHooks();
    const where = { artifacts: input.spec.artifacts.path, s3: input.spec.artifacts.s3 };
    const store = artifactStore(where);
    const results = [];
    for (const [i, m] of w.models.entries()) {
      const { trainer } = GanTrainer.load(await store.get(m.checkpoint));
      try {
        const ev = await retrain.evaluateTrainer(
          {
            ...w,
            seed: input.spec.seed,
            ...where,
            runId: input.runId,
            dataset: input.spec.dataset,
            gan: trainer.gan,
          },
          trainer,
          w.images,
          `final-${m.label}`,
          // A heartbeat (at most every few seconds) and a cancellation check per batch: the paper's
          // 50,000-image evaluation runs for over an hour per model on a CPU.
          async (done) => {
            hooks.progress({ step: i * w.images + done, total: w.models.length * w.images });
            await hooks.atStepBoundary();
          },
        );
        results.push({
          label: m.label,
          arch: m.arch,
          checkpoint: m.checkpoint,
          is: ev.is,
          isStd: ev.isStd,
          fid: ev.fid,
          samples: ev.samples,
        });
      } finally {
        trainer.dispose();
      }
    }
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
  });
}
