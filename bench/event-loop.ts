// The longest event-loop stall of a worker during paper-size training steps, with the tensor work
// in the worker's own thread (AUTOGAN_TENSOR_HOST=inline, as before) and in a tensor host process
// (the default). A stall is time in which the worker can send no heartbeat, deliver no cancellation
// and answer no query. The activity runs in the SDK's activity test environment (its Context), with
// real tensors, files and checkpoints. Writes bench/results/event-loop-<date>.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MockActivityEnvironment } from '@temporalio/testing';
import { retrainChunk, retrainInit } from '../activities/retrain';
import { stopTensorHosts, TENSOR_HOST_ENV } from '../activities/tensor-call';
import { DEFAULT_RETRAIN } from '../pipeline/retrain-params';
import type { RetrainParams } from '../services/retrain';

async function measure(mode: 'inline' | 'process', steps: number) {
  process.env[TENSOR_HOST_ENV] = mode;
  const p = {
    ...DEFAULT_RETRAIN,
    // The paper's search size: gf 128 / df 64, three cells to 32×32, D batch 64, G batch 128.
    arch: [0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 2, 1, 0, 3],
    label: `bench-${mode}`,
    runId: `bench-event-loop-${mode}`,
    dataset: { kind: 'mnist' },
    artifacts: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-event-loop-')),
    seed: 1,
    backend: 'auto',
    taskQueues: { control: 'c', gpu: 'g' },
    gan: { ...DEFAULT_RETRAIN.gan, latentDim: 128, gfDim: 128, dfDim: 64, bottomWidth: 4, channels: 1 },
    train: { ...DEFAULT_RETRAIN.train, nCritic: 1, genBatchSize: 128, disBatchSize: 64 },
    iterations: steps,
    stepsPerActivity: steps,
    evalEvery: 0,
    evalImages: 10,
    checkpointEvery: 1000,
    checkpointMinSeconds: 0,
    datasetLimit: 512,
  } as RetrainParams;
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 120_000 });
  const { checkpoint } = (await env.run(retrainInit, p)) as { checkpoint: string };
  const h = monitorEventLoopDelay({ resolution: 5 });
  let heartbeats = 0;
  env.on('heartbeat', () => heartbeats++);
  h.enable();
  const t0 = performance.now();
  // The chunk trains `steps` D steps (and G steps); evaluation at the end is cut short (10 images).
  await env.run(retrainChunk, p, checkpoint);
  const seconds = (performance.now() - t0) / 1000;
  h.disable();
  fs.rmSync(p.artifacts, { recursive: true, force: true });
  return {
    mode,
    steps,
    seconds: +seconds.toFixed(2),
    maxStallMs: +(h.max / 1e6).toFixed(1),
    p99StallMs: +(h.percentile(99) / 1e6).toFixed(1),
    meanStallMs: +(h.mean / 1e6).toFixed(2),
    heartbeats,
  };
}

async function main() {
  const steps = Number(process.argv[2] ?? 4);
  const results = [await measure('inline', steps), await measure('process', steps)];
  stopTensorHosts();
  const doc = {
    bench: 'event-loop',
    date: new Date().toISOString(),
    host: { cpus: os.cpus().length, model: os.cpus()[0]?.model },
    note: 'longest event-loop stall of the worker while a paper-size (gf 128 / df 64, 32×32) retrain chunk trains',
    results,
    ratio: { maxStall: +(results[1].maxStallMs / results[0].maxStallMs).toFixed(3) },
  };
  const out = path.join(
    __dirname,
    '..',
    '..',
    'bench',
    'results',
    `event-loop-${doc.date.slice(0, 10)}.json`,
  );
  fs.writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(JSON.stringify(doc, null, 2));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
