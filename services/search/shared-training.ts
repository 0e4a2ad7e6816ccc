// Training the shared GAN for one search iteration (Algorithm 1, line 3), resumable from the
// checkpoint a retried attempt's heartbeat names; and the no-sharing random-search ablation,
// which trains each sampled child from scratch instead.
import { randomArch } from '../../core/arch/encoding';
import { type ArtifactRef } from '../../core/artifacts';
import { Controller, type Beam } from '../../core/controller/controller';
import { BatchLoader } from '../../core/datasets/loader';
import { GanTrainer } from '../../core/gan/trainer';
import { Rng } from '../../core/rng';
import { type SearchParams } from '../../pipeline/search-params';
import {
  derivedSeed,
  ganConfig,
  loaderFor,
  loadController,
  loadTrainer,
  noHooks,
  saveTrainer,
  trainConfig,
  type Hooks,
  type SearchRefs,
} from './context';
import { scoreArch } from './scoring';

/** Samples one architecture for a shared-training step: from the controller, or uniformly. */
function sampler(
  p: SearchParams,
  c: Controller | null,
  beams: Beam[],
  stage: number,
  rng: Rng,
): () => number[] {
  if (!c) return () => randomArch(stage, rng);
  return () => c.sample(1, beams.length ? beams : undefined, rng)[0].arch;
}

export interface SharedResult {
  supernet: ArtifactRef;
  steps: number;
  dLoss: number;
  gLoss: number;
  reset: boolean;
  /** The step a retried attempt resumed from (0: started fresh). */
  resumedFromStep: number;
  /** Random search without weight sharing: the child trained and its score. */
  child?: { arch: number[]; score: number };
}

export async function trainShared(
  p: SearchParams,
  s: SearchRefs,
  hooks: Hooks = noHooks,
): Promise<SharedResult> {
  const resume = hooks.resumeFrom;
  const { t, extra } = loadTrainer(p, resume?.ref ?? s.supernet);
  const ctrl = s.controller ? loadController(p, s.controller).c : null;
  try {
    if (t.stage !== s.stage) t.setStage(s.stage);
    const loader = loaderFor(p, s.stage, extra.loader);
    const total = p.sharedSteps ?? p.sharedEpochs * loader.batchesPerEpoch;
    const samplerRng = new Rng(extra.sampler);
    const sample = sampler(p, ctrl, s.beams, s.stage, samplerRng);
    const acc =
      resume && extra.phase?.iteration === s.iteration
        ? extra.phase
        : { iteration: s.iteration, step: 0, dSum: 0, gSum: 0, dCount: 0, gCount: 0 };

    if (p.mode === 'random' && !p.weightSharing) return await trainChild(p, s, sample, loader, total, hooks);

    let reset = false;
    let ref: ArtifactRef | undefined;
    const resumedFromStep = acc.step;
    const checkpoint = () =>
      saveTrainer(p, t, { loader: loader.state(), sampler: samplerRng.state(), phase: { ...acc } });
    while (acc.step < total && !reset) {
      const real = loader.next();
      const r = t.step(real, sample());
      real.dispose();
      acc.step++;
      acc.dSum += r.dLoss;
      acc.dCount++;
      if (r.gLoss !== undefined) {
        acc.gSum += r.gLoss;
        acc.gCount++;
      }
      reset = r.reset;
      if (acc.step % p.checkpointEvery === 0 && acc.step < total && !reset) {
        ref = checkpoint();
        hooks.progress({ step: acc.step, total, ref });
      } else hooks.progress({ step: acc.step, total, ...(ref ? { ref } : {}) });
      await hooks.breathe();
    }
    const supernet = saveTrainer(p, t, { loader: loader.state(), sampler: samplerRng.state() });
    return {
      supernet,
      steps: acc.step,
      dLoss: acc.dSum / Math.max(1, acc.dCount),
      gLoss: acc.gSum / Math.max(1, acc.gCount),
      reset,
      resumedFromStep,
    };
  } finally {
    t.dispose();
    ctrl?.dispose();
  }
}

/** Random search without weight sharing: one child trained from scratch, then scored. */
async function trainChild(
  p: SearchParams,
  s: SearchRefs,
  sample: () => number[],
  loader: BatchLoader,
  total: number,
  hooks: Hooks,
): Promise<SharedResult> {
  const arch = sample();
  const child = GanTrainer.create(
    ganConfig(p),
    { ...trainConfig(p), reset: { window: 1, threshold: -Infinity, measure: 'std' } },
    { seed: derivedSeed(p, 'child', s.iteration), arch },
  );
  let d = 0;
  let g = 0;
  let gc = 0;
  try {
    for (let i = 0; i < total; i++) {
      const real = loader.next();
      const r = child.step(real);
      real.dispose();
      d += r.dLoss;
      if (r.gLoss !== undefined) {
        g += r.gLoss;
        gc++;
      }
      hooks.progress({ step: i + 1, total });
      await hooks.breathe();
    }
    const score = await scoreArch(p, child, arch, s.stage, derivedSeed(p, 'child-score', s.iteration));
    return {
      supernet: s.supernet,
      steps: total,
      dLoss: d / total,
      gLoss: g / Math.max(1, gc),
      reset: false,
      resumedFromStep: 0,
      child: { arch, score },
    };
  } finally {
    child.dispose();
  }
}
