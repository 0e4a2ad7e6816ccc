// Benchmark: shared-GAN and derived training steps on each available backend at a few sizes.
// Prints one JSON document: per backend and size, D-step and G-step seconds, images/s, achieved
// GFLOP/s (2 FLOP per multiply-accumulate, backward counted as 2× forward) and the share of step
// time spent outside tensor kernels (tf.time's wall − kernel time).
import * as tf from '@tensorflow/tfjs';
import { archCost } from '../core/arch/cost';
import { randomArch } from '../core/arch/encoding';
import { selectBackend } from '../core/backend';
import { imageSizeAt, type GanConfig } from '../core/gan/config';
import { discriminatorMacs } from '../core/gan/discriminator';
import { DEFAULT_TRAIN, GanTrainer } from '../core/gan/trainer';
import { Rng } from '../core/rng';

interface Case {
  name: string;
  gfDim: number;
  dfDim: number;
  stage: number;
  batch: number;
  derived: boolean;
}

const FAST: Case[] = [
  { name: 'shared gf8 16px b32', gfDim: 8, dfDim: 8, stage: 1, batch: 32, derived: false },
  { name: 'shared gf16 16px b32', gfDim: 16, dfDim: 16, stage: 1, batch: 32, derived: false },
  { name: 'shared gf32 32px b32', gfDim: 32, dfDim: 32, stage: 2, batch: 32, derived: false },
  { name: 'derived gf32 32px b32', gfDim: 32, dfDim: 16, stage: 2, batch: 32, derived: true },
  { name: 'derived gf64 32px b32', gfDim: 64, dfDim: 32, stage: 2, batch: 32, derived: true },
];

/** Wall time of a step, and the summed time of its kernels from tf.profile (per-kernel timing). */
async function timeStep(fn: () => void): Promise<{ wallMs: number; kernelMs: number }> {
  const start = performance.now();
  fn();
  const wallMs = performance.now() - start;
  const info = await tf.profile(fn);
  const profiledWall = info.kernels.length ? 0 : 1;
  let kernelMs = 0;
  for (const k of info.kernels) kernelMs += Number(await k.kernelTimeMs);
  void profiledWall;
  return { wallMs, kernelMs };
}

async function runCase(c: Case, reps: number) {
  const gan: GanConfig = {
    latentDim: 64,
    gfDim: c.gfDim,
    dfDim: c.dfDim,
    bottomWidth: 4,
    cells: 3,
    channels: 3,
    dSpectralNorm: true,
  };
  const size = imageSizeAt(gan, c.stage);
  const rng = new Rng(1);
  const arch = randomArch(c.stage, rng);
  const train = {
    ...DEFAULT_TRAIN,
    nCritic: 1,
    genBatchSize: c.batch,
    disBatchSize: c.batch,
    ...(c.derived ? { emaDecay: 0.999, lrDecaySteps: 1000 } : {}),
  };
  const t = GanTrainer.create(gan, train, { seed: 1, stage: c.stage, ...(c.derived ? { arch } : {}) });
  const real = tf.randomUniform([c.batch, size, size, 3], -1, 1) as tf.Tensor4D;
  // nCritic 1: every call is a D step followed by a G step; time them apart by toggling.
  const dOnly = { ...train, nCritic: 1e9 };
  t.step(real, c.derived ? undefined : arch); // warm-up (kernels, optimizer slots)
  const d: Array<{ wallMs: number; kernelMs: number }> = [];
  const both: Array<{ wallMs: number; kernelMs: number }> = [];
  for (let i = 0; i < reps; i++) {
    Object.assign(t.train, dOnly);
    t.dSteps = 1; // not a multiple of nCritic: D only
    d.push(await timeStep(() => void t.step(real, c.derived ? undefined : arch)));
    Object.assign(t.train, train);
    t.dSteps = 0;
    both.push(await timeStep(() => void t.step(real, c.derived ? undefined : arch)));
  }
  real.dispose();
  t.dispose();
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const dWall = med(d.map((x) => x.wallMs)) / 1000;
  const dKernel = med(d.map((x) => x.kernelMs)) / 1000;
  const gWall = Math.max(1e-9, med(both.map((x) => x.wallMs)) / 1000 - dWall);
  const gKernel = Math.max(0, med(both.map((x) => x.kernelMs)) / 1000 - dKernel);
  const gMacs = archCost(arch, {
    latentDim: gan.latentDim,
    gfDim: gan.gfDim,
    bottomWidth: 4,
    channels: 3,
  }).macs;
  const dMacs = discriminatorMacs(gan, c.stage, size);
  const dFlops = 2 * c.batch * (gMacs + 3 * 2 * dMacs);
  const gFlops = 2 * c.batch * 3 * (gMacs + dMacs);
  return {
    case: c.name,
    arch: arch.join(' '),
    imageSize: size,
    batch: c.batch,
    dStepSeconds: +dWall.toFixed(4),
    gStepSeconds: +gWall.toFixed(4),
    imagesPerSecond: +(c.batch / (dWall + gWall)).toFixed(1),
    dGflops: +(dFlops / dWall / 1e9).toFixed(3),
    gGflops: +(gFlops / gWall / 1e9).toFixed(3),
    outsideKernelsShare: +Math.max(0, 1 - (dKernel + gKernel) / (dWall + gWall)).toFixed(3),
  };
}

async function main() {
  const backends = (process.env.BENCH_BACKENDS ?? 'tensorflow,cpu').split(',');
  const results: Record<string, unknown> = {};
  for (const b of backends) {
    let info;
    try {
      info = await selectBackend(b as 'tensorflow' | 'cpu', () => undefined);
    } catch (err) {
      results[b] = { error: (err as Error).message };
      continue;
    }
    // Pure JS is ~100× slower: only the two smallest cases, fewer repetitions.
    const cases = b === 'cpu' ? FAST.slice(0, 2) : FAST;
    const reps = b === 'cpu' ? 1 : 3;
    const rows = [];
    for (const c of cases) {
      rows.push(await runCase(c, reps));
      console.error(`[bench] ${info.package}: ${c.name} done`);
    }
    results[info.package] = rows;
  }
  console.log(
    JSON.stringify({ benchmark: 'gan-training', date: new Date().toISOString(), results }, null, 2),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
