// Our side of `bench:compare`: one case in its own process (so peak RSS is the case's), printing
// one JSON line. Usage: node dist/bench/compare-ours.js '<CompareCase JSON>' [--serve]
// --serve: after warm-up print {"ready":true}; then each stdin line N times N reps and prints
// {"d":[...],"g":[...]}; a line "end" prints the final document (all reps served) and exits.
import * as readline from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { archCost } from '../core/arch/cost';
import { finishQueuedOps, selectBackend } from '../core/backend';
import { setLeanGrads } from '../core/nn/lean-grads';
import { imageSizeAt } from '../core/gan/config';
import { discriminatorMacs } from '../core/gan/discriminator';
import { caseTrainer } from './case-trainer';
import { median, type CompareCase } from './compare-cases';

/** fp32 GEMM rate of this process's backend (1024³ MatMul, best of 5), GFLOP/s. */
function gemmRate(): number {
  const a = tf.randomNormal([1024, 1024]) as tf.Tensor2D;
  const b = tf.randomNormal([1024, 1024]) as tf.Tensor2D;
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    const dt = performance.now() - t0;
    c.dispose();
    if (i > 0) best = Math.min(best, dt);
  }
  tf.dispose([a, b]);
  return (2 * 1024 ** 3) / (best / 1000) / 1e9;
}

async function main() {
  const c = JSON.parse(process.argv[2]) as CompareCase & { requireGpu?: boolean };
  const serve = process.argv[3] === '--serve';
  const backend = await selectBackend('auto', () => undefined);
  // AUTOGAN_LEAN_GRADS=0 measures tfjs's own backward pass (everything kept to the end) instead.
  const lean = process.env.AUTOGAN_LEAN_GRADS !== '0';
  setLeanGrads(lean);
  if (c.requireGpu && backend.device !== 'gpu')
    throw new Error(`--device gpu: ${backend.package} runs on the CPU here (TensorFlow sees no GPU)`);
  const { gan, trainer: t, real } = caseTrainer(c);
  const d: number[] = [];
  const g: number[] = [];
  const tensorsAfterWarmup: number[] = [];
  const timeReps = (n: number, record: boolean) => {
    const ds: number[] = [];
    const gs: number[] = [];
    for (let i = 0; i < n; i++) {
      // With the async executor a step's kernels may still run after it returns: wait for them, so
      // each step is charged its own kernels (and none of the overlap with the next step's dispatch).
      const t0 = performance.now();
      t.dStep(real, c.arch);
      finishQueuedOps();
      const t1 = performance.now();
      t.gStep(c.arch);
      finishQueuedOps();
      const t2 = performance.now();
      if (!record) continue;
      ds.push((t1 - t0) / 1000);
      gs.push((t2 - t1) / 1000);
      tensorsAfterWarmup.push(tf.memory().numTensors);
    }
    d.push(...ds);
    g.push(...gs);
    return { d: ds, g: gs };
  };
  timeReps(c.warmup, false);
  if (serve) {
    // Blocks on request (bench/compare.ts --interleave), alternating with PyTorch's blocks.
    console.log(JSON.stringify({ ready: true }));
    for await (const line of readline.createInterface({ input: process.stdin })) {
      if (line.trim() === 'end') break;
      console.log(JSON.stringify(timeReps(Number(line), true)));
    }
  } else timeReps(c.reps, true);
  real.dispose();
  t.dispose();
  const gMacs = archCost(c.arch, gan).macs;
  const size = imageSizeAt(gan, c.stage);
  const dMacs = discriminatorMacs(gan, c.stage, size);
  // D step: G forward on the fake batch, D forward + backward (≈3×) on real and fake.
  // G step: G forward + backward (≈3×), D forward + input-gradient backward (≈2×).
  const dFlops = 2 * c.dBatch * (gMacs + 2 * 3 * dMacs);
  const gFlops = 2 * c.gBatch * (3 * gMacs + 2 * dMacs);
  const dMedian = median(d);
  const gMedian = median(g);
  console.log(
    JSON.stringify({
      backend: `${backend.package} (${backend.device})`,
      executor: backend.executor,
      leanGrads: lean,
      dStepSeconds: d,
      gStepSeconds: g,
      dMedian,
      gMedian,
      imagesPerSecond: c.gBatch / (dMedian + gMedian),
      dGflops: dFlops / dMedian / 1e9,
      gGflops: gFlops / gMedian / 1e9,
      gemmGflops: gemmRate(),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      // flat across repetitions = no tensor leak in the training step
      numTensors: { first: tensorsAfterWarmup[0], last: tensorsAfterWarmup[tensorsAfterWarmup.length - 1] },
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
