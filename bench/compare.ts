// `npm run bench:compare [-- --case demo|search|derive] [--reps N] [--rounds N | --interleave N
// [--block-reps N]]`: our training step against the same step in PyTorch on this machine, each case
// in a fresh process per side, run one after the other under the same environment (--rounds N:
// alternating N times, the median round reported; --interleave N: both processes kept up and
// taking turns in N blocks of steps, the median block ratio reported, for steps short enough that
// the machine's noise swamps sequential runs). Prints one JSON document: per case the seconds per D
// and G step on both sides (medians after warm-up), images/s, peak RSS, achieved GFLOP/s against
// the measured GEMM rate, and ratio { d, g } = ours / PyTorch.
//
// PyTorch is optional: bench/torch/gan_step.py runs under $AUTOGAN_PYTHON (default python3); when
// torch is not importable the document says so and reports our side only. torch from PyPI:
//   python3 -m venv .cache/torch && .cache/torch/bin/pip install torch
//   AUTOGAN_PYTHON=.cache/torch/bin/python npm run bench:compare
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../core/paths';
import { asyncSmallTrainings, INTRA_OP_ENV, threadsFor } from '../activities/cpu-threads';
import { ASYNC_EXECUTOR_ENV } from '../core/backend';
import { COMPARE_CASES, environmentRecord, median, type CompareCase } from './compare-cases';

interface Args {
  cases: CompareCase[];
  torch: boolean;
  /** cpu: tfjs-node against CPU torch; gpu: tfjs-node-gpu against CUDA torch. */
  device: 'cpu' | 'gpu';
  /** Ours then PyTorch, this many times per case; the ratio is the median of the rounds' ratios. @default 1 */
  rounds: number;
  /**
   * Blocks per side with both sides' processes kept running and their blocks alternated (A B B A
   * …), so both meet the same phases of a shared machine; the ratio is the median of the blocks'
   * ratios. 0: one run per side per round (--rounds). @default 0
   */
  interleave: number;
  /** Timed D+G steps per interleaved block. @default 5 */
  blockReps: number;
  /**
   * Write each case's PyTorch configuration (what gan_step.py is given) to DIR/<case>.json and
   * time nothing: for a host that has CUDA torch but no Node (bench/gpu-table.sh --torch-only).
   * @default undefined (time the cases)
   */
  torchConfigsDir?: string;
}

function parseArgs(argv: string[]): Args {
  const names: string[] = [];
  let reps: number | undefined;
  let torch = true;
  let device: Args['device'] = 'cpu';
  let rounds = 1;
  let interleave = 0;
  let blockReps = 5;
  let torchConfigsDir: string | undefined;
  const positive = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!(Number.isInteger(n) && n >= 1)) throw new Error(`${flag} must be a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--case') names.push(...(argv[++i] ?? '').split(','));
    else if (a === '--rounds') rounds = positive(a, argv[++i]);
    else if (a === '--interleave') interleave = positive(a, argv[++i]);
    else if (a === '--block-reps') blockReps = positive(a, argv[++i]);
    else if (a === '--reps') reps = Number(argv[++i]);
    else if (a === '--no-torch') torch = false;
    else if (a === '--torch-configs') {
      torchConfigsDir = argv[++i];
      if (!torchConfigsDir) throw new Error('--torch-configs needs a directory');
    } else if (a === '--device') {
      const d = argv[++i];
      if (d !== 'cpu' && d !== 'gpu') throw new Error(`--device must be cpu or gpu, got ${d}`);
      device = d;
    } else
      throw new Error(
        `unknown argument ${a}: expected --case demo|search|derive, --reps N, --rounds N, --interleave N, --block-reps N, --no-torch, --device cpu|gpu, --torch-configs DIR`,
      );
  }
  for (const n of names)
    if (!COMPARE_CASES.some((c) => c.name === n))
      throw new Error(`unknown case "${n}": expected one of ${COMPARE_CASES.map((c) => c.name).join(', ')}`);
  if (reps !== undefined && !(Number.isInteger(reps) && reps >= 1))
    throw new Error('--reps must be a positive integer');
  const cases = names.length ? COMPARE_CASES.filter((c) => names.includes(c.name)) : COMPARE_CASES;
  if (interleave && rounds > 1)
    throw new Error('--interleave and --rounds are two ways to repeat: choose one');
  return {
    cases: cases.map((c) => ({ ...c, ...(reps ? { reps } : {}) })),
    torch,
    device,
    rounds,
    interleave,
    blockReps,
    torchConfigsDir,
  };
}

function caseThreads(c: CompareCase, cores: number): number {
  return threadsFor(
    {
      gan: { gfDim: c.gfDim, dfDim: c.dfDim, bottomWidth: c.bottomWidth, cells: c.cells },
      train: { genBatchSize: c.gBatch, disBatchSize: c.dBatch },
    },
    cores,
  );
}

/** ours[k] / pytorch[k] to 3 decimals, or null where either side has no number. */
function ratioOf(
  ours: Record<string, unknown>,
  pytorch: Record<string, unknown> | undefined,
  k: string,
): number | null {
  const a = ours[k];
  const b = pytorch?.[k];
  return typeof a === 'number' && typeof b === 'number' ? +(a / b).toFixed(3) : null;
}

function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env,
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    const err = (r.error?.message ?? r.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
    return { error: `${path.basename(cmd)} exited ${r.status}: ${err || 'no output'}` };
  }
}

interface Side {
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** A side started with --serve: asks it for blocks of timed steps, then for its final document. */
class StepServer {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiting?: (line: string | undefined) => void;
  private stderr = '';
  private closed = false;

  constructor(
    readonly name: string,
    side: Side,
  ) {
    this.child = spawn(side.cmd, [...side.args, '--serve'], {
      env: side.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return; // only the protocol's JSON lines
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(line);
      } else this.lines.push(line);
    });
    this.child.stderr!.on('data', (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-2000)));
    this.child.on('close', () => {
      this.closed = true;
      this.waiting?.(undefined);
    });
  }

  private async next(): Promise<Record<string, unknown>> {
    const line =
      this.lines.shift() ??
      (this.closed ? undefined : await new Promise<string | undefined>((r) => (this.waiting = r)));
    if (line === undefined)
      throw new Error(`${this.name} ended early: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const doc = JSON.parse(line) as Record<string, unknown>;
    if ('error' in doc) throw new Error(`${this.name}: ${String(doc.error)}`);
    return doc;
  }

  ready(): Promise<Record<string, unknown>> {
    return this.next();
  }

  async block(reps: number): Promise<{ d: number; g: number }> {
    this.child.stdin!.write(`${reps}\n`);
    const b = (await this.next()) as { d: number[]; g: number[] };
    return { d: median(b.d), g: median(b.g) };
  }

  async end(): Promise<Record<string, unknown>> {
    this.child.stdin!.end('end\n');
    return this.next();
  }

  kill(): void {
    if (!this.closed) this.child.kill('SIGKILL');
  }
}

/** Idle time before each interleaved block, ms (see runInterleaved). */
const SETTLE_MS = 250;

/**
 * Both sides running at once, taking turns: blocks of `reps` steps in the order A B B A A B …,
 * so a slow phase of a shared machine lands on both within seconds. Each pair of blocks gives a
 * ratio; the case's ratio is their median.
 */
async function runInterleaved(
  name: string,
  oursSide: Side,
  torchSide: Side,
  blocks: number,
  reps: number,
): Promise<{
  ours: Record<string, unknown>;
  pytorch: Record<string, unknown>;
  ratio: { d: number; g: number };
  blocks: Array<{ ours: { d: number; g: number }; pytorch: { d: number; g: number } }>;
}> {
  const ours = new StepServer('ours', oursSide);
  const pt = new StepServer('PyTorch', torchSide);
  try {
    console.error(
      `[bench:compare] ${name}: starting both sides, ${blocks} interleaved blocks of ${reps} steps`,
    );
    await ours.ready();
    await pt.ready();
    const pairs: Array<{ ours: { d: number; g: number }; pytorch: { d: number; g: number } }> = [];
    // A pause before each block: thread pools spin for a while after their work (OpenMP, Eigen),
    // and a side's block must not start while the other's threads still hold the cores.
    const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));
    for (let b = 0; b < blocks; b++) {
      const oursFirst = b % 2 === 0;
      await settle();
      const first = await (oursFirst ? ours : pt).block(reps);
      await settle();
      const second = await (oursFirst ? pt : ours).block(reps);
      pairs.push(oursFirst ? { ours: first, pytorch: second } : { ours: second, pytorch: first });
    }
    const ratio = (k: 'd' | 'g') => +median(pairs.map((p) => p.ours[k] / p.pytorch[k])).toFixed(3);
    const round = (x: { d: number; g: number }) => ({ d: +x.d.toPrecision(4), g: +x.g.toPrecision(4) });
    return {
      ours: await ours.end(),
      pytorch: await pt.end(),
      ratio: { d: ratio('d'), g: ratio('g') },
      blocks: pairs.map((p) => ({ ours: round(p.ours), pytorch: round(p.pytorch) })),
    };
  } finally {
    ours.kill();
    pt.kill();
  }
}

function torchAvailable(python: string): { ok: true; version: string } | { ok: false; reason: string } {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.status === 0) return { ok: true, version: r.stdout.trim() };
  return {
    ok: false,
    reason:
      `torch is not importable with ${python} (${(r.error?.message ?? r.stderr ?? '').trim().split('\n').pop()}); ` +
      'install it (python3 -m venv .cache/torch && .cache/torch/bin/pip install torch) and set AUTOGAN_PYTHON',
  };
}

/** What gan_step.py is given for a case: the case itself, torch's threads and its device. */
function torchConfig(c: CompareCase, threads: number, device: Args['device']) {
  return { ...c, threads, device: device === 'gpu' ? 'cuda' : 'cpu' };
}

/**
 * --torch-configs: one JSON file per case, written whole (temp file, then rename). No thread count:
 * gan_step.py then uses every core of the host that runs it, which is not this one.
 */
function writeTorchConfigs(dir: string, args: Args): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const c of args.cases) {
    const file = path.join(dir, `${c.name}.json`);
    const { threads: _hostThreads, ...config } = torchConfig(c, os.cpus().length, args.device);
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(config)}\n`);
    fs.renameSync(`${file}.tmp`, file);
    console.error(`[compare] ${file}`);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.torchConfigsDir) {
    writeTorchConfigs(args.torchConfigsDir, args);
    return;
  }
  const python = process.env.AUTOGAN_PYTHON ?? 'python3';
  const torch = args.torch ? torchAvailable(python) : { ok: false as const, reason: 'skipped (--no-torch)' };
  const threads = os.cpus().length;
  const results = [];
  for (const c of args.cases) {
    // On a GPU the native GPU package is required, never a silent fallback to the CPU one.
    // On CPU, the TensorFlow threads a worker's tensor host would get for this case (one for the
    // demo's small networks, activities/cpu-threads.ts) unless TF_NUM_INTRAOP_THREADS is set.
    // AUTOGAN_TFE_ASYNC=1 applies as a worker applies it: to one-thread (small) trainings only.
    const cpuThreads = process.env[INTRA_OP_ENV] ?? String(caseThreads(c, threads));
    const oursEnv: NodeJS.ProcessEnv =
      args.device === 'gpu'
        ? { ...process.env, AUTOGAN_BACKEND: 'tensorflow-gpu' }
        : {
            ...process.env,
            [INTRA_OP_ENV]: cpuThreads,
            [ASYNC_EXECUTOR_ENV]: asyncSmallTrainings() && cpuThreads === '1' ? '1' : '0',
          };
    // Rounds alternate the two sides, so a slow phase of a shared machine hits both: each round's
    // ratio compares runs made minutes apart at most, and the median round is reported.
    const oursArgs = [
      path.join(__dirname, 'compare-ours.js'),
      JSON.stringify({ ...c, requireGpu: args.device === 'gpu' }),
    ];
    const torchArgs = [
      path.join(projectRoot(), 'bench', 'torch', 'gan_step.py'),
      '--json',
      JSON.stringify(torchConfig(c, threads, args.device)),
    ];
    const interleaved =
      args.interleave && torch.ok
        ? await runInterleaved(
            c.name,
            { cmd: process.execPath, args: oursArgs, env: oursEnv },
            { cmd: python, args: torchArgs, env: process.env },
            args.interleave,
            args.blockReps,
          )
        : undefined;
    const runs: Array<{ ours: Record<string, unknown>; pytorch?: Record<string, unknown> }> = interleaved
      ? [{ ours: interleaved.ours, pytorch: interleaved.pytorch }]
      : [];
    for (let r = 0; r < (interleaved ? 0 : args.rounds); r++) {
      const tag = args.rounds > 1 ? ` (round ${r + 1} of ${args.rounds})` : '';
      console.error(`[bench:compare] ${c.name}: ours …${tag}`);
      const ours = runJson(process.execPath, oursArgs, oursEnv);
      let pytorch: Record<string, unknown> | undefined;
      if (torch.ok) {
        console.error(`[bench:compare] ${c.name}: PyTorch …${tag}`);
        pytorch = runJson(python, torchArgs);
      }
      runs.push({ ours, ...(pytorch ? { pytorch } : {}) });
    }
    const roundRatio = (x: (typeof runs)[number]) =>
      ((ratioOf(x.ours, x.pytorch, 'dMedian') ?? Infinity) +
        (ratioOf(x.ours, x.pytorch, 'gMedian') ?? Infinity)) /
      2;
    // The round with the median ratio stands for the case (its own numbers, not a mix of rounds).
    const ranked = [...runs].sort((x, y) => roundRatio(x) - roundRatio(y));
    const { ours, pytorch } = ranked[Math.floor((ranked.length - 1) / 2)]!;
    const num = (o: Record<string, unknown> | undefined, k: string) =>
      o && typeof o[k] === 'number' ? (o[k] as number) : undefined;
    const ratio = (k: string) =>
      interleaved && (k === 'dMedian' || k === 'gMedian')
        ? interleaved.ratio[k === 'dMedian' ? 'd' : 'g']
        : ratioOf(ours, pytorch, k);
    const pyImages =
      num(pytorch, 'dMedian') !== undefined
        ? c.gBatch / (num(pytorch, 'dMedian')! + num(pytorch, 'gMedian')!)
        : null;
    results.push({
      case: c.name,
      description: c.description,
      config: c,
      ours: {
        ...summarize(ours),
        ...(oursEnv[INTRA_OP_ENV] ? { tfThreads: Number(oursEnv[INTRA_OP_ENV]) } : {}),
      },
      pytorch: pytorch ? { ...summarize(pytorch), imagesPerSecond: pyImages && +pyImages.toFixed(2) } : null,
      ratio: { d: ratio('dMedian'), g: ratio('gMedian'), peakRss: ratio('peakRssBytes') },
      ...(interleaved
        ? { interleave: { blocks: args.interleave, repsPerBlock: args.blockReps, pairs: interleaved.blocks } }
        : {}),
      ...(args.rounds > 1
        ? {
            rounds: runs.map((x) => ({
              ours: { d: x.ours.dMedian ?? null, g: x.ours.gMedian ?? null },
              pytorch: { d: x.pytorch?.dMedian ?? null, g: x.pytorch?.gMedian ?? null },
              ratio: { d: ratioOf(x.ours, x.pytorch, 'dMedian'), g: ratioOf(x.ours, x.pytorch, 'gMedian') },
            })),
          }
        : {}),
      gemmShare:
        num(ours, 'gemmGflops') !== undefined
          ? {
              d: +(num(ours, 'dGflops')! / num(ours, 'gemmGflops')!).toFixed(3),
              g: +(num(ours, 'gGflops')! / num(ours, 'gemmGflops')!).toFixed(3),
            }
          : null,
    });
  }
  console.log(
    JSON.stringify(
      {
        benchmark: 'compare',
        date: new Date().toISOString(),
        machine: { cpu: os.cpus()[0]?.model, cores: threads, memoryBytes: os.totalmem() },
        device: args.device,
        environment: environmentRecord(),
        pytorch: torch.ok ? { python, version: torch.version, threads } : { absent: torch.reason },
        cases: results,
      },
      null,
      2,
    ),
  );
}

function summarize(o: Record<string, unknown>): Record<string, unknown> {
  if ('error' in o) return o;
  const round = (x: unknown) => (typeof x === 'number' ? +x.toPrecision(4) : x);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = Array.isArray(v) ? v.map(round) : round(v);
  return out;
}

main().catch((err: Error) => {
  console.error(`bench:compare: ${err.message}`);
  process.exit(2);
});
