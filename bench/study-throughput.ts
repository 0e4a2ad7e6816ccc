// How many small trainings (the demo's retrain size) this machine completes per hour, by how they
// share its cores — the question behind a study's scheduler, whose hundreds of cells are such
// trainings. Each mode runs `processes` trainer processes (as a worker runs tensor hosts), each
// stepping `perProcess` trainings together (round-robin at every step boundary, in one thread)
// with `threads` TensorFlow threads, for --window seconds after a warm-up; the modes take turns
// for --rounds rounds (A B C D, then D C B A, …) so each meets the same phases of a shared machine,
// and each mode's median round is reported.
//
// A training is the demo's retrain step (pipelines/demo-mnist.yaml: its sizes, rates, checkpoint
// interval, data limit and final evaluation) of the demo's winning architecture, shortened to
// --iterations; each runs through services/retrain (init, one chunk, its checkpoints and its final
// IS/FID), as a worker's activity does. Trainings per hour = D steps done in the window (all
// processes) / D steps per training × 3600 / window: a training cut by the window counts by the
// share it finished.
//
//   npm run bench:study-throughput -- [--window 60] [--rounds 3] [--iterations 600]
//                                     [--modes one-per-core,two-per-core,two-in-one-host,one-wide,
//                                              async-per-two-cores]
//                                     [--out FILE]
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { INTRA_OP_ENV } from '../activities/cpu-threads';
import { ASYNC_EXECUTOR_ENV, selectBackend } from '../core/backend';
import { median } from './compare-cases';
import { projectRoot } from '../core/paths';
import { loadPipeline } from '../pipeline/load';
import { retrainParamsOf } from '../pipeline/retrain-params';
import { retrainChunk, retrainInit, type RetrainParams } from '../services/retrain';
import type { Hooks } from '../services/search/context';
import { benchHeader, emit, intOption, runMain } from './search-run';

/** The demo's winner (bench/results/demo-2026-12-05.json): two cells. */
const ARCH = [1, 0, 1, 1, 1, 1, 1, 1, 0];
const PIPELINE = path.join(projectRoot(), 'pipelines', 'demo-mnist.yaml');

interface Mode {
  name: string;
  what: string;
  processes: number;
  perProcess: number;
  threads: number;
  /** TensorFlow's async executor in the hosts (AUTOGAN_TFE_ASYNC=1): a training then keeps two cores busy. @default false */
  asyncExecutor?: boolean;
}

/** The modes on a machine with `cores` cores. */
function modes(cores: number): Mode[] {
  return [
    {
      name: 'one-per-core',
      what: 'one training per core, each in its own host with 1 thread (a worker today)',
      processes: cores,
      perProcess: 1,
      threads: 1,
    },
    {
      name: 'two-per-core',
      what: 'two trainings per core, each in its own host with 1 thread',
      processes: 2 * cores,
      perProcess: 1,
      threads: 1,
    },
    {
      name: 'two-in-one-host',
      what: 'one host per core stepping two trainings together (1 thread)',
      processes: cores,
      perProcess: 2,
      threads: 1,
    },
    {
      name: 'one-wide',
      what: `one training at a time using every core (${cores} threads)`,
      processes: 1,
      perProcess: 1,
      threads: cores,
    },
    {
      name: 'async-per-two-cores',
      what: 'one training per two cores, 1 thread on the async executor (AUTOGAN_TFE_ASYNC=1)',
      processes: Math.max(1, Math.floor(cores / 2)),
      perProcess: 1,
      threads: 1,
      asyncExecutor: true,
    },
  ];
}

interface Args {
  window: number;
  rounds: number;
  iterations: number;
  modes: string[];
  out?: string;
}

function parseArgs(argv: string[], all: Mode[]): Args {
  const a: Args = { window: 60, rounds: 3, iterations: 600, modes: all.map((m) => m.name) };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--window') a.window = intOption(argv, ++i, k, 5);
    else if (k === '--rounds') a.rounds = intOption(argv, ++i, k, 1);
    else if (k === '--iterations') a.iterations = intOption(argv, ++i, k, 10);
    else if (k === '--out') a.out = path.resolve(argv[++i] ?? '');
    else if (k === '--modes') {
      a.modes = (argv[++i] ?? '').split(',').filter(Boolean);
      const unknown = a.modes.filter((m) => !all.some((x) => x.name === m));
      if (unknown.length || !a.modes.length)
        throw new Error(`--modes: expected some of ${all.map((m) => m.name).join(', ')}`);
    } else throw new Error(`unknown option ${k}`);
  }
  return a;
}

/** The demo's retrain step as one training of `iterations` (one chunk), in its own store. */
function trainingParams(iterations: number, artifacts: string, seed: number): RetrainParams {
  const plan = loadPipeline(PIPELINE);
  const step = plan.steps.find((s) => s.uses === 'autogan.retrain');
  if (!step) throw new Error(`${PIPELINE}: no autogan.retrain step`);
  const nCritic = Number((step.with.train as { nCritic?: number } | undefined)?.nCritic ?? 1);
  const p = retrainParamsOf({
    pipeline: plan.name,
    stepId: step.id,
    with: { ...step.with, arch: ARCH, label: `t${seed}`, iterations, stepsPerActivity: iterations * nCritic },
    spec: { ...plan.spec, seed },
    runId: 'throughput',
  });
  return { ...p, evalEvery: 0, artifacts } as RetrainParams;
}

// ---- a trainer process ----------------------------------------------------------------------

type ToChild = { type: 'go'; until: number };
type FromChild =
  { type: 'ready' } | { type: 'done'; steps: number; completed: number; stepsPerTraining: number };

class WindowClosed extends Error {}

/**
 * Runs trainings back to back until `until` (epoch ms) or `most` of them finished; returns D steps
 * done and trainings finished.
 */
async function trainUntil(
  p: RetrainParams,
  until: number,
  most = Infinity,
): Promise<{ steps: number; completed: number }> {
  let steps = 0;
  let completed = 0;
  for (let n = 0; n < most; n++) {
    let reached = 0;
    const hooks: Hooks = {
      progress: (x) => (reached = x.step),
      atStepBoundary: () =>
        Date.now() >= until ? Promise.reject(new WindowClosed()) : new Promise((r) => setImmediate(r)),
    };
    try {
      const q = { ...p, seed: p.seed + n };
      const { checkpoint, totalSteps } = await retrainInit(q);
      await retrainChunk(q, checkpoint, hooks);
      steps += totalSteps;
      completed++;
    } catch (err) {
      if (!(err instanceof WindowClosed)) throw err;
      return { steps: steps + reached, completed };
    }
  }
  return { steps, completed };
}

async function child(perProcess: number, iterations: number): Promise<void> {
  await selectBackend('auto', () => undefined);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'throughput-'));
  const params = Array.from({ length: perProcess }, (_, i) =>
    trainingParams(iterations, path.join(root, `t${i}`), 100 + i),
  );
  // Warm-up: a short training per slot (kernels, dataset, classifier loaded).
  await Promise.all(params.map((p) => trainUntil({ ...p, iterations: 5, stepsPerActivity: 5 }, Infinity, 1)));
  process.send!({ type: 'ready' } satisfies FromChild);
  const go = await new Promise<ToChild>((r) => process.once('message', (m: ToChild) => r(m)));
  const runs = await Promise.all(params.map((p) => trainUntil(p, go.until)));
  process.send!({
    type: 'done',
    steps: runs.reduce((s, r) => s + r.steps, 0),
    completed: runs.reduce((s, r) => s + r.completed, 0),
    stepsPerTraining: iterations * params[0].train.nCritic,
  } satisfies FromChild);
  fs.rmSync(root, { recursive: true, force: true });
  process.disconnect();
}

// ---- the parent -----------------------------------------------------------------------------

function next(c: ChildProcess): Promise<FromChild> {
  return new Promise((resolve, reject) => {
    c.once('message', (m: FromChild) => resolve(m));
    c.once('exit', (code) => reject(new Error(`a trainer process exited (code ${code})`)));
  });
}

/** One window of a mode: trainings per hour over all its processes. */
async function runMode(
  m: Mode,
  a: Args,
): Promise<{ perHour: number; completed: number; stepsPerSecond: number }> {
  const kids = Array.from({ length: m.processes }, () =>
    fork(__filename, ['--child', String(m.perProcess), String(a.iterations)], {
      env: {
        ...process.env,
        [INTRA_OP_ENV]: String(m.threads),
        [ASYNC_EXECUTOR_ENV]: m.asyncExecutor ? '1' : '0',
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
  );
  try {
    await Promise.all(kids.map((k) => next(k)));
    const until = Date.now() + a.window * 1000;
    const done = kids.map((k) => next(k));
    for (const k of kids) k.send({ type: 'go', until } satisfies ToChild);
    const results = (await Promise.all(done)) as Array<Extract<FromChild, { type: 'done' }>>;
    const steps = results.reduce((s, r) => s + r.steps, 0);
    return {
      perHour: +((steps / results[0].stepsPerTraining) * (3600 / a.window)).toFixed(1),
      completed: results.reduce((s, r) => s + r.completed, 0),
      stepsPerSecond: +(steps / a.window).toFixed(1),
    };
  } finally {
    for (const k of kids) if (k.exitCode === null) k.kill('SIGKILL');
  }
}

async function main() {
  const cores = os.cpus().length;
  const all = modes(cores);
  const a = parseArgs(process.argv.slice(2), all);
  const chosen = a.modes.map((n) => all.find((m) => m.name === n)!);
  const backend = await selectBackend('auto', () => undefined);
  const rounds: Record<string, Array<Awaited<ReturnType<typeof runMode>>>> = {};
  for (let r = 0; r < a.rounds; r++) {
    for (const m of r % 2 ? [...chosen].reverse() : chosen) {
      const res = await runMode(m, a);
      (rounds[m.name] ??= []).push(res);
      console.error(
        `[throughput] round ${r + 1} ${m.name}: ${res.perHour} trainings/h (${res.stepsPerSecond} D steps/s)`,
      );
    }
  }
  const base = median(rounds['one-per-core']?.map((x) => x.perHour) ?? []);
  emit(
    {
      ...benchHeader('study-throughput', 'demo-mnist', PIPELINE, backend.package),
      command: `npm run bench:study-throughput -- ${process.argv.slice(2).join(' ')}`.trim(),
      training: {
        arch: ARCH.join(' '),
        iterations: a.iterations,
        what: "the demo's retrain step, shortened",
      },
      window: a.window,
      rounds: a.rounds,
      modes: chosen.map((m) => {
        const perHour = median(rounds[m.name].map((x) => x.perHour));
        return {
          ...m,
          trainingsPerHour: perHour,
          stepsPerSecond: median(rounds[m.name].map((x) => x.stepsPerSecond)),
          ...(base ? { vsOnePerCore: +(perHour / base).toFixed(3) } : {}),
          rounds: rounds[m.name],
        };
      }),
    },
    a.out,
  );
}

if (process.argv[2] === '--child') {
  child(Number(process.argv[3]), Number(process.argv[4])).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else runMain(main);
