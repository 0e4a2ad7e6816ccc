import { useBackend } from '../core/backend';
import { getArtifact, runDir } from '../core/artifacts';
import { writeFileAtomic } from '../core/atomic-write';
import { GanTrainer } from '../core/gan/trainer';
import * as phases from '../services/search';
import * as retrain from '../services/retrain';
import type { StepInput, StepOutput } from '../pipeline/plan';
import type { SearchParams } from '../pipeline/search-params';
import type { Beam } from '../core/controller/controller';
import { asNonRetryable, badInput } from './errors';
import { activityHooks } from './heartbeat';
import { checkedWith } from './step-input';
import * as path from 'node:path';
import * as fs from 'node:fs';

async function run<T>(backend: SearchParams['backend'], fn: () => Promise<T> | T): Promise<T> {
  await useBackend(backend);
  try {
    return await fn();
  } catch (err) {
    throw asNonRetryable(err);
  }
}

export async function retrainInit(p: retrain.RetrainParams) {
  return run(p.backend, () => retrain.retrainInit(p));
}

export async function retrainChunk(p: retrain.RetrainParams, checkpoint: string) {
  return run(p.backend, () => retrain.retrainChunk(p, checkpoint, activityHooks()));
}

/** The `autogan.derive` step: top K of M candidates from a finished search's policy. */
export async function deriveStep(input: StepInput): Promise<StepOutput> {
  const w = checkedWith<{
    search: {
      params: SearchParams;
      supernet: string;
      controller: string | null;
      beams: Beam[];
      stage: number;
      iterations: number;
    };
    candidates?: number;
    topK?: number;
  }>('autogan.derive', input);
  const s = w.search;
  if (!s?.params || !s.supernet)
    throw badInput(
      'derive: "search" must be the output of an autogan.search step (${{ steps.<search>.outputs }})',
    );
  const p = s.params;
  return run(p.backend, async () => {
    const r = await phases.derive(
      p,
      {
        supernet: s.supernet,
        controller: s.controller,
        beams: s.beams ?? [],
        stage: s.stage,
        iteration: s.iterations,
      },
      w.candidates ?? p.candidates,
      w.topK ?? p.topK,
      activityHooks(),
    );
    return { topK: r.topK, candidates: r.candidates };
  });
}

/** The `autogan.evaluate` step: IS and FID of every retrained model; the winner by IS. */
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
  return run(input.spec.backend, async () => {
    const hooks = activityHooks();
    const results = [];
    for (const [i, m] of w.models.entries()) {
      const { trainer } = GanTrainer.load(getArtifact(input.spec.artifacts.path, m.checkpoint));
      try {
        const ev = await retrain.evaluateTrainer(
          {
            ...w,
            seed: input.spec.seed,
            artifacts: input.spec.artifacts.path,
            runId: input.runId,
            dataset: input.spec.dataset,
            gan: trainer.gan,
          },
          trainer,
          w.images,
          `final-${m.label}`,
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
      hooks.progress({ step: i + 1, total: w.models.length });
    }
    const winner = [...results].sort((a, b) => b.is - a.is)[0];
    const dir = runDir(input.spec.artifacts.path, input.runId);
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
    return { winner, results, bestSamples: best, summary: path.join(dir, 'evaluation.json') };
  });
}
