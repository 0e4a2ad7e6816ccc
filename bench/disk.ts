// Benchmark: disk used per search iteration.
//
// At the demo's settings (the search step of pipelines/demo-mnist.yaml), a real search runs over
// the phases (as test/artifact-gc.test.ts drives them, without a server) and the store is measured
// after every iteration:
//   - before: checkpoints every checkpointEvery steps and every controller step, nothing removed
//     (the rule before checkpointMinSeconds; every object ever written is counted, also the
//     intermediate ones an activity now prunes when it completes);
//   - now, without gc: the demo's settings with the default checkpointMinSeconds, intermediate
//     checkpoints pruned at the end of each activity;
//   - now, with `autogan gc` after every iteration (the durable state recorded first, as the
//     workflow does; no grace period, as between iterations nothing is in flight).
// At the paper's settings the checkpoint sizes are measured by saving the real models (the supernet
// at gf 128 / D df 64 with both Adam states, the controller, a derived generator at gf 256 / D
// df 128 with EMA), and disk per iteration is computed from them and the checkpoint counts of each
// rule (no paper-scale training is run).
//
//   npm run bench:disk [-- --iterations 6]
// Prints the JSON document and writes it to bench/results/disk-<date>.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { searchRecordState } from '../activities/search';
import { randomArch } from '../core/arch/encoding';
import { artifactPath, type ArtifactRef } from '../core/artifacts';
import { disposeLoaded, loadCheckpoint } from '../core/checkpoint/format';
import { selectBackend } from '../core/backend';
import { CHECKPOINT_DEFAULTS, DERIVED_WIDTHS, GAN_DEFAULTS } from '../core/defaults';
import { imageSizeAt } from '../core/gan/config';
import { DEFAULT_TRAIN, GanTrainer } from '../core/gan/trainer';
import { projectRoot } from '../core/paths';
import { Rng } from '../core/rng';
import { loadPipeline } from '../pipeline/load';
import { DEFAULT_RETRAIN } from '../pipeline/retrain-params';
import { DEFAULT_SEARCH, stageAt, withSearchDefaults, type SearchParams } from '../pipeline/search-params';
import { collectGarbage, storeSize } from '../services/artifact-gc';
import {
  grow,
  initSearch,
  newController,
  noHooks,
  resetShared,
  trainConfig,
  trainController,
  trainShared,
  type Hooks,
  type SearchRefs,
} from '../services/search';

const MB = 1e6;
const round = (x: number, d = 1) => +x.toFixed(d);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The demo pipeline's search parameters, with a fresh store. */
function demoParams(file: string, overrides: Partial<SearchParams> = {}): SearchParams {
  const plan = loadPipeline(file);
  const step = plan.steps.find((s) => s.uses === 'autogan.search');
  if (!step) throw new Error(`${file} has no autogan.search step`);
  return withSearchDefaults({
    ...(step.with as Partial<SearchParams>),
    dataset: plan.spec.dataset,
    artifacts: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-disk-')),
    seed: plan.spec.seed,
    backend: 'auto',
    ...overrides,
  } as SearchParams);
}

interface IterationRecord {
  iteration: number;
  seconds: number;
  /** Intermediate checkpoints written in the iteration (heartbeat refs). */
  intermediate: number;
  objects: number;
  bytes: number;
}

/** Runs `iterations` search iterations; `after` measures the store after each one. */
async function search(
  p: SearchParams,
  iterations: number,
  after: (s: SearchRefs, seen: Map<ArtifactRef, number>) => Promise<{ objects: number; bytes: number }>,
): Promise<IterationRecord[]> {
  const init = await initSearch(p);
  let s: SearchRefs = {
    supernet: init.supernet,
    controller: init.controller,
    beams: [],
    stage: init.stage,
    iteration: 0,
  };
  const seen = new Map<ArtifactRef, number>(); // every object stored, with its size
  const note = (ref?: ArtifactRef) => {
    if (ref && !seen.has(ref)) seen.set(ref, fs.statSync(artifactPath(p.artifacts, ref)).size);
  };
  note(s.supernet);
  note(s.controller ?? undefined);
  const out: IterationRecord[] = [];
  for (let it = 0; it < iterations; it++) {
    const t0 = performance.now();
    let intermediate = 0;
    const hooks: Hooks = {
      ...noHooks,
      progress: ({ ref }) => {
        if (ref && !seen.has(ref)) intermediate++;
        note(ref);
      },
    };
    if (stageAt(p, s.iteration) > s.stage) {
      const g = await grow(p, s, hooks);
      s = { ...s, beams: g.beams, controller: g.controller, supernet: g.supernet, stage: g.stage };
      note(s.supernet);
      note(s.controller ?? undefined);
    }
    const r = await trainShared(p, s, hooks);
    s = { ...s, supernet: r.supernet };
    note(s.supernet);
    if (s.controller) {
      const c = await trainController(p, s, hooks);
      s = { ...s, controller: c.controller };
      note(c.controller);
    }
    if (r.reset) {
      s = { ...s, supernet: await resetShared(p, s) };
      note(s.supernet);
    }
    s = { ...s, iteration: s.iteration + 1 };
    const seconds = round((performance.now() - t0) / 1000);
    const size = await after(s, seen);
    out.push({ iteration: it, seconds, intermediate, ...size });
    console.error(`[bench:disk] iteration ${it}: ${size.objects} objects, ${round(size.bytes / MB, 2)} MB`);
  }
  return out;
}

function perIteration(xs: IterationRecord[]) {
  const last = xs[xs.length - 1];
  return {
    objectsAfterLast: last.objects,
    mbAfterLast: round(last.bytes / MB, 2),
    mbPerIteration: round((last.bytes - xs[0].bytes) / MB / Math.max(1, xs.length - 1), 3),
    objectsPerIteration: round((last.objects - xs[0].objects) / Math.max(1, xs.length - 1), 2),
  };
}

/**
 * Bytes of a checkpoint of `save`, written to a temp file, as it is once every weight has its Adam
 * moments: the supernet's weights get theirs when first sampled (here: after one step, those of one
 * path), so the missing moments (two tensors the size of each weight) are added to the file's size.
 */
function checkpointBytes(save: (file: string) => void): number {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ckpt-')), 'x.ckpt');
  save(file);
  const bytes = fs.statSync(file).size;
  const loaded = loadCheckpoint(file);
  const { manifest } = loaded;
  disposeLoaded(loaded);
  const sum = (pre: string) =>
    manifest.tensors.filter((t) => t.name.startsWith(pre)).reduce((a, t) => a + t.bytes, 0);
  let missing = 0;
  for (const model of ['g', 'd']) missing += Math.max(0, 2 * sum(`${model}/`) - sum(`adam.${model}`));
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return bytes + missing;
}

/** Paper-scale disk use from the sizes of the real models' checkpoints and the checkpoint counts. */
function paperScale() {
  const p = {
    ...(DEFAULT_SEARCH as SearchParams),
    dataset: { kind: 'cifar10' },
    artifacts: '',
  } as SearchParams;
  const stage = p.gan.cells - 1;
  // One training step (tiny batches: the checkpoint's size does not depend on them) gives every
  // weight its Adam moments, as in any checkpoint after the first step.
  const tiny = { genBatchSize: 2, disBatchSize: 2, nCritic: 1 };
  const side = imageSizeAt(p.gan, stage);
  const real = () => tf.randomUniform([2, side, side, p.gan.channels], -1, 1) as tf.Tensor4D;
  const supernet = GanTrainer.create(p.gan, { ...trainConfig(p), ...tiny }, { seed: 1, stage });
  const params = [...supernet['G'].vars.values(), ...supernet['D'].vars.values()].reduce(
    (a, v) => a + v.size,
    0,
  );
  tf.tidy(() => void supernet.step(real(), randomArch(stage, new Rng(1))));
  const S = checkpointBytes((f) => supernet.save(f, { loader: null, sampler: [0, 0, 0, 0] }));
  supernet.dispose();
  const ctrl = newController(p, stage);
  const C = checkpointBytes((f) => ctrl.save(f));
  ctrl.dispose();
  const derived = GanTrainer.create(
    { ...GAN_DEFAULTS, ...DERIVED_WIDTHS },
    { ...DEFAULT_TRAIN, ...DEFAULT_RETRAIN.train, ...tiny, emaDecay: DEFAULT_RETRAIN.emaDecay },
    { seed: 1, arch: randomArch(stage, new Rng(1)) },
  );
  tf.tidy(() => void derived.step(real()));
  const R = checkpointBytes((f) => derived.save(f, { loader: null }));
  derived.dispose();

  // Shared training: sharedEpochs over CIFAR-10's 50,000 images in batches of disBatchSize.
  const sharedSteps = p.sharedEpochs * Math.floor(50_000 / p.train.disBatchSize);
  const oldShared = Math.floor((sharedSteps - 1) / p.checkpointEvery); // never at the last step
  const oldController = p.controllerSteps; // one per step, and the result
  // The paper's search: 43 GPU-hours for the whole search; spread over its 65 iterations this
  // bounds the compute of one iteration, hence the checkpoints the time rule lets through.
  const searchHours = 43;
  const secondsPerIteration = (searchHours * 3600) / p.maxIterations;
  const timeRuleMax = Math.floor(secondsPerIteration / CHECKPOINT_DEFAULTS.minSeconds);
  const newIntermediate = Math.min(oldShared + oldController - 1, timeRuleMax);
  const perIterBefore = (oldShared + 1) * S + (oldController + 1) * C;
  const perIterNow = S + C; // the results; intermediates pruned when each activity completes
  const retrainSteps = DEFAULT_RETRAIN.iterations * DEFAULT_RETRAIN.train.nCritic;
  const chunks = Math.ceil(retrainSteps / DEFAULT_RETRAIN.stepsPerActivity);
  const perChunkBefore =
    Math.floor((DEFAULT_RETRAIN.stepsPerActivity - 1) / DEFAULT_RETRAIN.checkpointEvery) + 1;
  return {
    settings: {
      gan: p.gan,
      supernetAndDParameters: params,
      sharedStepsPerIteration: sharedSteps,
      checkpointEvery: p.checkpointEvery,
      controllerSteps: p.controllerSteps,
      iterations: p.maxIterations,
      checkpointMinSeconds: CHECKPOINT_DEFAULTS.minSeconds,
      assumedComputeSecondsPerIteration: round(secondsPerIteration, 0),
      assumption: `the paper's ${searchHours} GPU-hours of search over ${p.maxIterations} iterations bound one iteration's compute`,
    },
    checkpointMB: {
      supernetWithDAndAdam: round(S / MB, 2),
      controller: round(C / MB, 3),
      derivedWithEma: round(R / MB, 2),
    },
    search: {
      before: {
        checkpointsPerIteration: oldShared + 1 + oldController + 1,
        gbPerIteration: round(perIterBefore / 1e9, 2),
        gbWholeSearch: round((perIterBefore * p.maxIterations) / 1e9, 1),
      },
      nowWithoutGc: {
        intermediateCheckpointsPerIterationAtMost: newIntermediate,
        peakTransientGB: round((newIntermediate * S) / 1e9, 2),
        keptPerIteration: 'the shared phase’s and the controller’s results',
        gbPerIteration: round(perIterNow / 1e9, 3),
        gbWholeSearch: round((perIterNow * p.maxIterations) / 1e9, 2),
      },
      nowWithGc: {
        note: 'live: the durable state (supernet, controller) and an open workflow’s newest results per phase, plus a running attempt’s intermediates and anything younger than the 1 h grace period',
        boundedGB: round(
          ((3 + newIntermediate + Math.ceil(3600 / secondsPerIteration) * 2) * S + 3 * C) / 1e9,
          2,
        ),
        gbPerIteration: 0,
      },
    },
    retrainPerModel: {
      dSteps: retrainSteps,
      chunks,
      before: { checkpoints: chunks * perChunkBefore, gb: round((chunks * perChunkBefore * R) / 1e9, 1) },
      nowWithoutGc: { checkpoints: chunks + 1, gb: round(((chunks + 1) * R) / 1e9, 1) },
      nowWithGc: {
        note: 'while it runs: the newest chunk result (and the initial checkpoint); after it: the result',
        gb: round((3 * R) / 1e9, 2),
      },
    },
  };
}

/** Objects in the store now, by reference. */
function objectsIn(root: string): Map<ArtifactRef, number> {
  const out = new Map<ArtifactRef, number>();
  const dir = path.join(root, 'objects');
  for (const shard of fs.existsSync(dir) ? fs.readdirSync(dir) : [])
    for (const ref of fs.readdirSync(path.join(dir, shard)))
      out.set(ref, fs.statSync(path.join(dir, shard, ref)).size);
  return out;
}

const total = (m: Map<ArtifactRef, number>) => [...m.values()].reduce((a, b) => a + b, 0);

async function demoScale(file: string, iterations: number) {
  // Before: every checkpoint the old rule wrote (checkpointMinSeconds 0), none removed.
  const old = demoParams(file, { checkpointMinSeconds: 0 });
  const before = await search(old, iterations, async (_s, seen) => ({
    objects: seen.size,
    bytes: total(seen),
  }));

  // Now, the defaults: the store without gc is every object left after each iteration (read before
  // collecting: intermediates are already pruned), the store with gc is what collection leaves.
  const p = demoParams(file);
  const left = new Map<ArtifactRef, number>();
  const without: IterationRecord[] = [];
  const withGc = await search(p, iterations, async (s) => {
    for (const [ref, bytes] of objectsIn(p.artifacts)) left.set(ref, bytes);
    without.push({
      iteration: s.iteration - 1,
      seconds: 0,
      intermediate: 0,
      objects: left.size,
      bytes: total(left),
    });
    await searchRecordState(p.artifacts, 'bench-disk', { params: p, state: { ...s, history: [] } });
    collectGarbage({ root: p.artifacts, minAgeMs: 0 });
    const size = storeSize(p.artifacts);
    return { objects: size.count, bytes: size.bytes };
  });
  for (const [i, w] of without.entries())
    Object.assign(w, { seconds: withGc[i].seconds, intermediate: withGc[i].intermediate });
  for (const q of [old, p]) fs.rmSync(q.artifacts, { recursive: true, force: true });
  return {
    pipeline: path.relative(projectRoot(), file),
    iterations,
    settings: {
      gan: p.gan,
      sharedSteps: p.sharedSteps,
      checkpointEvery: p.checkpointEvery,
      controllerSteps: p.controllerSteps,
      checkpointMinSeconds: { before: 0, now: p.checkpointMinSeconds },
    },
    before: { summary: perIteration(before), iterations: before },
    nowWithoutGc: { summary: perIteration(without), iterations: without },
    nowWithGc: { summary: perIteration(withGc), iterations: withGc },
  };
}

async function main() {
  const backend = await selectBackend('auto', () => undefined);
  const file = arg('pipeline') ?? path.join(projectRoot(), 'pipelines', 'demo-mnist.yaml');
  const iterations = Number(arg('iterations') ?? 0) || demoParams(file).maxIterations;
  const doc = {
    benchmark: 'disk',
    date: new Date().toISOString(),
    backend: backend.package,
    demo: process.argv.includes('--paper-only') ? null : await demoScale(file, iterations),
    paper: paperScale(),
  };
  const text = JSON.stringify(doc, null, 2);
  const dir = path.join(projectRoot(), 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `disk-${doc.date.slice(0, 10)}.json`);
  fs.writeFileSync(out, text + '\n');
  console.log(text);
  console.error(`[bench:disk] written to ${path.relative(process.cwd(), out)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
