// The `autogan.evaluate` step's tensor work: the IS and FID of each retrained model, in order. It
// runs in a tensor host like training does, so a GPU worker's own process holds no device memory
// for it.
import type { DatasetRef, S3Settings } from '../pipeline/plan';
import { GanTrainer } from '../core/gan/trainer';
import { artifactStore } from './artifact-store';
import { evaluateTrainer, type RetrainParams } from './retrain';
import type { Hooks } from './search/context';

export interface EvaluateModelsInput {
  models: Array<{ arch: number[]; label: string; checkpoint: string }>;
  images: number;
  evalBatchSize: number;
  network: RetrainParams['network'];
  fidStats?: string;
  seed: number;
  artifacts: string;
  s3?: S3Settings;
  runId: string;
  dataset: DatasetRef;
}

export interface ModelEvaluation {
  label: string;
  arch: number[];
  checkpoint: string;
  is: number;
  isStd: number;
  fid: number | null;
  /** Its sample grid, in the run folder. */
  samples: string;
}

export async function evaluateModels(o: EvaluateModelsInput, hooks: Hooks): Promise<ModelEvaluation[]> {
  const store = artifactStore(o);
  const results: ModelEvaluation[] = [];
  for (const [i, m] of o.models.entries()) {
    const { trainer } = GanTrainer.load(await store.get(m.checkpoint));
    try {
      const ev = await evaluateTrainer(
        { ...o, gan: trainer.gan },
        trainer,
        o.images,
        `final-${m.label}`,
        // A heartbeat (at most every few seconds) and a cancellation check per batch: the paper's
        // 50,000-image evaluation runs for over an hour per model on a CPU.
        async (done) => {
          hooks.progress({ step: i * o.images + done, total: o.models.length * o.images });
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
  return results;
}
