// The steps of AutoGAN's Algorithm 1 as plain functions over artifact references: initialise,
// train the shared GAN, train the controller, grow (derive beams, new controller), reset, derive.
// Each loads what it needs from the artifact store, works, checkpoints every N steps through
// `hooks` (so a retried attempt resumes from hooks.resumeFrom), and returns small JSON.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { randomArch, vectorLength } from '../arch/encoding';
import { getArtifact, putArtifact, type ArtifactRef } from '../artifacts';
import { Controller, type Beam } from '../controller/controller';
import { openDataset } from '../datasets';
import { BatchLoader, type LoaderState } from '../datasets/loader';
import { imageSizeAt, type GanConfig } from '../gan/config';
import { DEFAULT_TRAIN, GanTrainer, type TrainConfig } from '../gan/trainer';
import { evaluateImages, type ImageSource } from '../metrics/evaluate';
import { loadDigitClassifier, loadTfjsNetwork, type FeatureNetwork } from '../metrics/features';
import { frechetDistance, type GaussianStats } from '../metrics/fid';
import { readStatsNpz, writeStatsNpz } from '../metrics/npz';
import { datasetSource } from '../metrics/sources';
import { Rng, type RngState } from '../rng';
import { stageAt, type NetworkRef, type SearchParams } from '../../pipeline/search-params';

export interface Hooks {
  /** Reports progress; `ref` is the newest checkpoint of this phase, from which a retry resumes. */
  progress(p: { step: number; total: number; ref?: ArtifactRef }): void;
  /** Where a retried attempt resumes. */
  resumeFrom?: { step: number; ref: ArtifactRef };
  /** Lets the event loop run (heartbeats) between steps. */
  breathe(): Promise<void>;
}

export const noHooks: Hooks = {
  progress: () => undefined,
  breathe: () => new Promise((r) => setImmediate(r)),
};

export interface SearchRefs {
  supernet: ArtifactRef;
  controller: ArtifactRef | null;
  beams: Beam[];
  stage: number;
  iteration: number;
}

interface SupernetExtra {
  loader: LoaderState | null;
  sampler: RngState;
  /** Progress inside a shared-training activity (for resume). */
  phase?: { iteration: number; step: number; dSum: number; gSum: number; dCount: number; gCount: number };
}

interface ControllerExtra {
  phase?: { iteration: number; step: number; rewards: number[]; entropies: number[]; archs: number[][] };
}

export function ganConfig(p: SearchParams): GanConfig {
  return { ...p.gan };
}

export function trainConfig(p: SearchParams): TrainConfig {
  return {
    ...DEFAULT_TRAIN,
    ...p.train,
    reset: {
      window: p.dynamicReset.window,
      threshold: p.dynamicReset.enabled ? p.dynamicReset.threshold : -Infinity,
      measure: p.dynamicReset.measure,
    },
  };
}

/** A deterministic seed for a named purpose (scoring, controllers) from the search seed. */
export function derivedSeed(p: Pick<SearchParams, 'seed'>, ...parts: Array<string | number>): number {
  return createHash('sha256')
    .update(JSON.stringify([p.seed, ...parts]))
    .digest()
    .readUInt32LE(0);
}

const networks = new Map<string, Promise<FeatureNetwork>>();

/** The feature network, loaded once per worker process. */
export function network(ref: NetworkRef): Promise<FeatureNetwork> {
  const key = JSON.stringify(ref);
  let n = networks.get(key);
  if (!n) {
    n = ref === 'digits' ? loadDigitClassifier() : loadTfjsNetwork(ref);
    networks.set(key, n);
    // A failed load is not cached: the next attempt (e.g. after the file appears) tries again.
    n.catch(() => networks.delete(key));
  }
  return n;
}

function loaderFor(p: SearchParams, stage: number, state: LoaderState | null): BatchLoader {
  const ds = openDataset(p.dataset);
  const opts = {
    batchSize: p.train.disBatchSize,
    imageSize: imageSizeAt(p.gan, stage),
    channels: p.gan.channels,
    ...(p.datasetLimit ? { limit: p.datasetLimit } : {}),
  };
  return new BatchLoader(ds, opts, state ?? derivedSeed(p, 'data'));
}

function saveTrainer(p: SearchParams, t: GanTrainer, extra: SupernetExtra): ArtifactRef {
  return putArtifact(p.artifacts, 'ckpt', (f) => t.save(f, extra));
}

function loadTrainer(p: SearchParams, ref: ArtifactRef): { t: GanTrainer; extra: SupernetExtra } {
  const { trainer, extra } = GanTrainer.load(getArtifact(p.artifacts, ref));
  return { t: trainer, extra: extra as SupernetExtra };
}

function newController(p: SearchParams, stage: number): Controller {
  const cells = p.mode === 'single-level' ? Array.from({ length: p.gan.cells }, (_, i) => i) : [stage];
  return Controller.create(
    {
      cells,
      hiddenSize: p.hiddenSize,
      lr: p.ctrlLr,
      beta1: p.train.beta1,
      beta2: p.train.beta2,
      entropyCoeff: p.entropyCoeff,
      baselineDecay: p.baselineDecay,
      reinforce: p.reinforce,
      baselineScope: p.baselineScope,
    },
    derivedSeed(p, 'controller', stage),
  );
}

function saveController(p: SearchParams, c: Controller, extra: ControllerExtra = {}): ArtifactRef {
  return putArtifact(p.artifacts, 'ckpt', (f) => c.save(f, extra));
}

function loadController(p: SearchParams, ref: ArtifactRef): { c: Controller; extra: ControllerExtra } {
  const { controller, extra } = Controller.load(getArtifact(p.artifacts, ref));
  return { c: controller, extra: (extra ?? {}) as ControllerExtra };
}

/** Creates the shared GAN and the first controller. */
export function initSearch(p: SearchParams): {
  supernet: ArtifactRef;
  controller: ArtifactRef | null;
  stage: number;
} {
  openDataset(p.dataset); // fail early on a bad dataset
  const stage = stageAt(p, 0);
  const t = GanTrainer.create(ganConfig(p), trainConfig(p), { seed: derivedSeed(p, 'gan'), stage });
  const supernet = saveTrainer(p, t, { loader: null, sampler: new Rng(derivedSeed(p, 'sampler')).state() });
  t.dispose();
  let controller: ArtifactRef | null = null;
  if (p.mode !== 'random') {
    const c = newController(p, stage);
    controller = saveController(p, c);
    c.dispose();
  }
  return { supernet, controller, stage };
}

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

const realStatsCache = new Map<string, GaussianStats>();

/** Statistics of real images at a stage's resolution (for the 1/FID reward), cached on disk. */
export async function realStats(
  p: Pick<
    SearchParams,
    | 'fidStats'
    | 'gan'
    | 'dataset'
    | 'network'
    | 'datasetLimit'
    | 'rewardImages'
    | 'evalBatchSize'
    | 'artifacts'
  >,
  stage: number,
): Promise<GaussianStats> {
  if (p.fidStats) return readStatsNpz(p.fidStats);
  const size = imageSizeAt(p.gan, stage);
  const ds = openDataset(p.dataset);
  const n = Math.min(ds.count, p.datasetLimit ?? ds.count, Math.max(p.rewardImages, 2));
  // Everything the statistics depend on, the image count included (a 200-image estimate is not a
  // 5,000-image one).
  const key = createHash('sha256')
    .update(JSON.stringify([p.dataset, size, p.network, p.datasetLimit ?? null, n]))
    .digest('hex')
    .slice(0, 16);
  const cached = realStatsCache.get(key);
  if (cached) return cached;
  const file = path.join(p.artifacts, 'cache', `real-stats-${key}.npz`);
  if (fs.existsSync(file)) {
    const st = readStatsNpz(file);
    realStatsCache.set(key, st);
    return st;
  }
  const net = await network(p.network);
  const ev = await evaluateImages(net, datasetSource(ds, size), {
    images: n,
    batchSize: p.evalBatchSize,
    is: false,
    stats: true,
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeStatsNpz(file, ev.stats!);
  realStatsCache.set(key, ev.stats!);
  return ev.stats!;
}

/** The reward of an architecture: IS (or 1/FID) of rewardImages generated at the stage's resolution. */
export async function scoreArch(
  p: SearchParams,
  t: GanTrainer,
  arch: number[],
  stage: number,
  seed: number,
): Promise<number> {
  const net = await network(p.network);
  const rng = new Rng(seed);
  const source: ImageSource = {
    count: p.rewardImages,
    next: (n) => t.sample(n, { ...(t.arch ? {} : { arch }), rng, ema: !!t.ema }),
  };
  const wantFid = p.reward === 'inverse-fid';
  const ev = await evaluateImages(net, source, {
    images: p.rewardImages,
    batchSize: p.evalBatchSize,
    is: !wantFid,
    stats: wantFid,
    splits: Math.min(10, p.rewardImages),
  });
  if (!wantFid) return ev.is!.mean;
  return 1 / Math.max(1e-9, frechetDistance(ev.stats!, await realStats(p, stage)));
}

export interface ControllerResult {
  controller: ArtifactRef;
  archs: number[][];
  rewards: number[];
  meanReward: number;
  entropy: number;
  baseline: number | null;
}

export async function trainController(
  p: SearchParams,
  s: SearchRefs,
  hooks: Hooks = noHooks,
): Promise<ControllerResult> {
  if (!s.controller) throw new Error('this search has no controller (random search)');
  const resume = hooks.resumeFrom;
  const { c, extra } = loadController(p, resume?.ref ?? s.controller);
  const { t } = loadTrainer(p, s.supernet);
  try {
    if (t.stage !== s.stage) t.setStage(s.stage);
    const acc =
      resume && extra.phase?.iteration === s.iteration
        ? extra.phase
        : {
            iteration: s.iteration,
            step: 0,
            rewards: [] as number[],
            entropies: [] as number[],
            archs: [] as number[][],
          };
    const beams = s.beams.length ? s.beams : undefined;
    // A fresh call (not a resumed attempt of this iteration) starts its baseline afresh, as the
    // reference's train_controller does.
    if (acc.step === 0 && (c.config.baselineScope ?? 'call') === 'call') c.resetBaseline();
    while (acc.step < p.controllerSteps) {
      const batch = c.sample(p.controllerBatch, beams);
      const scores: number[] = [];
      for (const [k, smp] of batch.entries()) {
        scores.push(
          await scoreArch(p, t, smp.arch, s.stage, derivedSeed(p, 'reward', s.iteration, acc.step, k)),
        );
        await hooks.breathe();
      }
      const u = c.update(batch, scores, beams);
      acc.step++;
      acc.rewards.push(...u.rewards);
      acc.entropies.push(u.meanEntropy);
      acc.archs.push(...batch.map((b) => b.arch));
      const ref = saveController(p, c, { phase: { ...acc } });
      hooks.progress({ step: acc.step, total: p.controllerSteps, ref });
      await hooks.breathe();
    }
    const controller = saveController(p, c);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    return {
      controller,
      archs: acc.archs,
      rewards: acc.rewards,
      meanReward: mean(acc.rewards),
      entropy: mean(acc.entropies),
      baseline: c.baseline === null ? null : c.baseline.reduce((a, b) => a + b, 0) / c.baseline.length,
    };
  } finally {
    c.dispose();
    t.dispose();
  }
}

export interface DeriveResult {
  topK: Array<{ arch: number[]; score: number }>;
  beams: Beam[];
  candidates: Array<{ arch: number[]; score: number }>;
}

/** Samples M candidates from the policy (or uniformly), scores each on the supernet, keeps the top K. */
export async function derive(
  p: SearchParams,
  s: SearchRefs,
  m: number,
  k: number,
  hooks: Hooks = noHooks,
): Promise<DeriveResult> {
  const { t } = loadTrainer(p, s.supernet);
  const ctrl = s.controller ? loadController(p, s.controller).c : null;
  try {
    if (t.stage !== s.stage) t.setStage(s.stage);
    let done = 0;
    const score = async (arch: number[]) => {
      const v = await scoreArch(p, t, arch, s.stage, derivedSeed(p, 'derive', s.iteration, done));
      hooks.progress({ step: ++done, total: m });
      await hooks.breathe();
      return v;
    };
    if (!ctrl) {
      const rng = new Rng(derivedSeed(p, 'random-derive', s.iteration));
      const candidates = [];
      for (let i = 0; i < m; i++) {
        const arch = randomArch(s.stage, rng);
        candidates.push({ arch, score: await score(arch) });
      }
      const top = [...candidates].sort((a, b) => b.score - a.score).slice(0, k);
      return { topK: top, beams: [], candidates };
    }
    const r = await ctrl.topK(m, k, score, s.beams.length ? s.beams : undefined);
    return {
      topK: r.beams.map((b) => ({ arch: b.arch, score: b.score })),
      beams: r.beams.map(({ arch, h, c }) => ({ arch, h, c })),
      candidates: r.candidates,
    };
  } finally {
    t.dispose();
    ctrl?.dispose();
  }
}

/** Grows to `stage`: beams of the finished stage become the new controller's starting points. */
export async function grow(
  p: SearchParams,
  s: SearchRefs,
  hooks: Hooks = noHooks,
): Promise<DeriveResult & { controller: ArtifactRef | null; supernet: ArtifactRef; stage: number }> {
  const to = stageAt(p, s.iteration);
  const d =
    p.mode === 'random'
      ? { topK: [], beams: [], candidates: [] }
      : await derive(p, s, p.candidates, p.topK, hooks);
  const { t, extra } = loadTrainer(p, s.supernet);
  t.setStage(to);
  // A new stage reads images at a new resolution: the loader starts a fresh order (as the reference rebuilds it).
  const supernet = saveTrainer(p, t, { ...extra, loader: null, phase: undefined });
  t.dispose();
  let controller: ArtifactRef | null = null;
  if (p.mode !== 'random') {
    const c = newController(p, to);
    controller = saveController(p, c);
    c.dispose();
  }
  return { ...d, controller, supernet, stage: to };
}

/** Dynamic reset: a fresh shared GAN at the same stage (the controller is kept). */
export function resetShared(p: SearchParams, s: SearchRefs): ArtifactRef {
  const { t, extra } = loadTrainer(p, s.supernet);
  t.reinitialize();
  const ref = saveTrainer(p, t, { ...extra, phase: undefined });
  t.dispose();
  return ref;
}

/** Checks a vector against the stage (bad input from a user-supplied architecture). */
export function checkArch(arch: number[], stage: number): void {
  if (arch.length !== vectorLength(stage))
    throw new Error(`architecture has ${arch.length} integers; stage ${stage} needs ${vectorLength(stage)}`);
}
