// Where a training step's memory goes: for one bench:compare case, the process's RSS (sampled every
// millisecond from a worker thread, so it sees inside a step), the high-water of live tensor data
// (counted per data buffer through the engine's track/dispose) and, for the G step's forward pass,
// the tensors the gradient tape saves for the backward pass, by kernel. A peak RSS far above
// (process base + live tensor high-water) is memory held below tfjs: the allocator, not our tensors.
// With torch under $AUTOGAN_PYTHON it adds what PyTorch's autograd saves for the same G step
// (bench/torch/gan_step.py --saved-bytes).
//
//   npm run bench:step-memory [-- --case derive] [--steps N]    # prints one JSON document
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../core/backend';
import { discriminate } from '../core/gan/discriminator';
import { generate } from '../core/gan/generator';
import { trainingContext } from '../core/nn/layers';
import { projectRoot } from '../core/paths';
import { caseTrainer } from './case-trainer';
import { COMPARE_CASES, environmentRecord, type CompareCase } from './compare-cases';

const MB = 1e6;
const round = (bytes: number) => Math.round(bytes / MB);

interface EngineHooks {
  trackTensor(t: tf.Tensor, backend: unknown): void;
  disposeTensor(t: tf.Tensor): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  state: { activeTape: Array<{ kernelName: string; saved?: tf.Tensor[] }> | null };
}

/** Live tensor bytes, counted once per data buffer, and their high-water since the last reset. */
function watchTensors(e: EngineHooks) {
  const refs = new Map<object, number>();
  const s = { live: 0, highWater: 0 };
  const track = e.trackTensor.bind(e);
  const dispose = e.disposeTensor.bind(e);
  e.trackTensor = (t, backend) => {
    track(t, backend);
    const n = refs.get(t.dataId) ?? 0;
    if (n === 0) s.live += t.size * 4;
    s.highWater = Math.max(s.highWater, s.live);
    refs.set(t.dataId, n + 1);
  };
  e.disposeTensor = (t) => {
    const n = refs.get(t.dataId) ?? 0;
    if (n === 1) {
      s.live -= t.size * 4;
      refs.delete(t.dataId);
    } else if (n > 1) refs.set(t.dataId, n - 1);
    dispose(t);
  };
  return s;
}

/** The process's peak RSS since the last reset, sampled every ms off the main thread. */
function watchRss() {
  const shared = new Float64Array(new SharedArrayBuffer(8));
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const p = new Float64Array(workerData);
     setInterval(() => { const r = process.memoryUsage.rss(); if (r > p[0]) p[0] = r; }, 1);`,
    { eval: true, workerData: shared.buffer },
  );
  worker.unref();
  return {
    peakAndReset(): number {
      const now = process.memoryUsage.rss();
      const peak = Math.max(shared[0], now);
      shared[0] = now;
      return peak;
    },
    stop: () => void worker.terminate(),
  };
}

/** PyTorch's saved bytes for the case's G step, or why there is no number. */
function torchSaved(c: CompareCase): number | string {
  const python = process.env.AUTOGAN_PYTHON ?? 'python3';
  const script = path.join(projectRoot(), 'bench', 'torch', 'gan_step.py');
  const r = spawnSync(python, [script, '--json', JSON.stringify(c), '--saved-bytes'], { encoding: 'utf8' });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const doc = JSON.parse(last) as { gStepSavedForBackwardBytes?: number; error?: string };
    return doc.gStepSavedForBackwardBytes !== undefined
      ? round(doc.gStepSavedForBackwardBytes)
      : String(doc.error);
  } catch {
    return `${python} gave no result (${r.error?.message ?? `exit ${r.status}`})`;
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const name = argv.includes('--case') ? argv[argv.indexOf('--case') + 1] : 'derive';
  const steps = argv.includes('--steps') ? Number(argv[argv.indexOf('--steps') + 1]) : 4;
  const c = COMPARE_CASES.find((k) => k.name === name);
  if (!c) throw new Error(`unknown case "${name}": expected ${COMPARE_CASES.map((k) => k.name).join(', ')}`);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error('--steps must be a positive integer');
  const backend = await selectBackend('auto', () => undefined);
  const { gan, trainer: t, real } = caseTrainer(c);
  const e = tf.engine() as unknown as EngineHooks;
  const tensors = watchTensors(e);
  const rss = watchRss();
  await new Promise((r) => setTimeout(r, 20));
  const baseRss = rss.peakAndReset();
  const phases: Array<Record<string, number | string>> = [];
  const phase = (label: string) => {
    phases.push({
      phase: label,
      rssPeakMB: round(rss.peakAndReset()),
      rssAfterMB: round(process.memoryUsage.rss()),
      tensorsHighWaterMB: round(tensors.highWater),
      tensorsAfterMB: round(tensors.live),
    });
    tensors.highWater = tensors.live;
  };
  for (let i = 0; i < steps; i++) {
    t.dStep(real, c.arch);
    phase(`D step ${i + 1}`);
    t.gStep(c.arch);
    phase(`G step ${i + 1}`);
  }
  // The G step's forward pass under a tape, as leanVariableGrads runs it: what it saves, by kernel.
  const ctx = trainingContext();
  const z = tf.randomNormal([c.gBatch, c.latentDim]) as tf.Tensor2D;
  const loss = e.scopedRun(
    () => e.startTape(),
    () => e.endTape(),
    () => tf.tidy(() => tf.neg(tf.mean(discriminate(t.D, gan, c.stage, generate(t.G, gan, c.arch, z, ctx))))),
  );
  const seen = new Set<object>();
  const savedByKernel: Record<string, number> = {};
  let saved = 0;
  for (const node of e.state.activeTape ?? [])
    for (const s of node.saved ?? []) {
      if (!seen.has(s.dataId)) {
        seen.add(s.dataId);
        savedByKernel[node.kernelName] = (savedByKernel[node.kernelName] ?? 0) + s.size * 4;
        saved += s.size * 4;
      }
      s.dispose();
    }
  e.state.activeTape = null;
  for (const u of ctx.updates) u.value.dispose();
  tf.dispose([loss, z, real]);
  t.dispose();
  rss.stop();
  const doc = {
    benchmark: 'step-memory',
    case: c.name,
    description: c.description,
    backend: `${backend.package} (${backend.device})`,
    environment: environmentRecord(),
    baseRssMB: round(baseRss),
    peakRssMB: Math.max(...phases.map((p) => p.rssPeakMB as number)),
    maxRssMB: round(process.resourceUsage().maxRSS * 1024),
    phases,
    gStepSavedForBackwardMB: round(saved),
    pytorchGStepSavedForBackwardMB: torchSaved(c),
    gStepSavedByKernelMB: Object.fromEntries(
      Object.entries(savedByKernel)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, round(v)]),
    ),
  };
  console.log(JSON.stringify(doc, null, 2));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
