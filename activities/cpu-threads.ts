// How many TensorFlow threads a tensor call gets on a CPU worker, and the cores it holds meanwhile.
//
// Why: TensorFlow spreads every kernel over its intra-op thread pool. On small networks the kernels
// are too short for that: handing half of a 1 MB ReLU to the second thread costs more than it saves;
// at paper size two threads are clearly faster (the measurements: docs/performance.md, "Threads per
// training"). So a small training runs in a one-thread tensor host and holds one core, a large one runs with up
// to CORES_PER_CPU_TRAINING threads and holds as many; the worker takes as many activities as it has
// cores, and a call waits (heartbeating) until the cores it needs are free, first come first served.
import type { Hooks } from '../services/search/context';
import { parseArch } from '../core/arch/encoding';
import { ASYNC_EXECUTOR_ENV } from '../core/backend';

/** The thread count TensorFlow reads at start; set by us on each tensor host, or by the user for all. */
export const INTRA_OP_ENV = 'TF_NUM_INTRAOP_THREADS';

/** Threads (and cores held) of a large training on CPU: more than this gained little in our runs. */
export const CORES_PER_CPU_TRAINING = 8;

/**
 * Work below which one thread is fastest: batch × pixels × max(gf, df)², i.e. a 3×3 convolution's
 * multiply-adds / 9. The demo's sizes are 2–8 M; the measured crossover lies between 8 M and 34 M.
 */
export const SMALL_WORK = 2 ** 24;

interface SizedParams {
  gan?: { gfDim?: number; dfDim?: number; bottomWidth?: number; cells?: number };
  train?: { genBatchSize?: number; disBatchSize?: number };
  arch?: number[];
}

/** The work of one training step of a call's networks (see SMALL_WORK), or undefined if unknown. */
export function stepWork(params: unknown): number | undefined {
  const p = params as SizedParams | undefined;
  const g = p?.gan;
  const t = p?.train;
  if (!g?.gfDim || !g.bottomWidth || !t?.genBatchSize || !t.disBatchSize) return undefined;
  let cells = g.cells;
  if (cells === undefined && p?.arch) {
    try {
      cells = parseArch(p.arch).length;
    } catch {
      return undefined;
    }
  }
  if (!cells) return undefined;
  const side = g.bottomWidth * 2 ** cells;
  const width = Math.max(g.gfDim, g.dfDim ?? 0);
  return Math.max(t.genBatchSize, t.disBatchSize) * side * side * width * width;
}

/**
 * TensorFlow threads for a call whose first argument is `params`, on a worker with `cores` CPU cores:
 * one for small work, else up to CORES_PER_CPU_TRAINING (unknown work counts as large).
 */
export function threadsFor(params: unknown, cores: number): number {
  const work = stepWork(params);
  if (work !== undefined && work < SMALL_WORK) return 1;
  return Math.max(1, Math.min(cores, CORES_PER_CPU_TRAINING));
}

/**
 * Whether small trainings run on TensorFlow's async executor (AUTOGAN_TFE_ASYNC=1 on the worker):
 * JavaScript builds the next ops while TensorFlow's thread runs the kernels, so such a training
 * keeps two cores busy and holds two (docs/performance.md, "The async executor"). Large trainings
 * keep the synchronous executor: their kernels already fill the cores they hold.
 */
export function asyncSmallTrainings(): boolean {
  return process.env[ASYNC_EXECUTOR_ENV] === '1';
}

/** The cores a call with `threads` TensorFlow threads holds, of `total`. */
export function coresHeld(threads: number, asyncExecutor: boolean, total: number): number {
  return Math.min(total, asyncExecutor ? threads + 1 : threads);
}

/** A first-come-first-served count of free cores. */
export class CoreSlots {
  private free: number;
  private readonly queue: Array<{ n: number; grant: () => void }> = [];

  constructor(readonly total: number) {
    this.free = total;
  }

  /** Asks for `n` cores (at most all): `granted` resolves when they are yours; `cancel` if you stop waiting. */
  request(n: number): { granted: Promise<void>; cancel: () => void } {
    const want = Math.min(n, this.total);
    let entry: { n: number; grant: () => void } | undefined;
    const granted = new Promise<void>((resolve) => {
      entry = { n: want, grant: resolve };
    });
    this.queue.push(entry!);
    this.pump();
    return {
      granted,
      cancel: () => {
        const i = this.queue.indexOf(entry!);
        if (i >= 0) this.queue.splice(i, 1);
        else this.release(want); // granted meanwhile: give the cores back
        this.pump();
      },
    };
  }

  release(n: number): void {
    this.free = Math.min(this.total, this.free + Math.min(n, this.total));
    this.pump();
  }

  get available(): number {
    return this.free;
  }

  private pump(): void {
    // In order: a large call at the head is not overtaken by small ones behind it.
    while (this.queue.length && this.queue[0]!.n <= this.free) {
      const head = this.queue.shift()!;
      this.free -= head.n;
      head.grant();
    }
  }
}

/**
 * Waits for `n` cores, keeping the activity alive (heartbeats, cancellation) every `pollMs` while it
 * waits; returns the function that gives them back.
 */
export async function holdCores(
  slots: CoreSlots,
  n: number,
  hooks: Hooks,
  pollMs = 1000,
): Promise<() => void> {
  const ticket = slots.request(n);
  let done = false;
  void ticket.granted.then(() => (done = true));
  try {
    while (!done) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ticket.granted, new Promise((r) => (timer = setTimeout(r, pollMs)))]);
      clearTimeout(timer);
      if (!done) {
        hooks.keepAlive?.();
        await hooks.atStepBoundary();
      }
    }
  } catch (err) {
    ticket.cancel();
    throw err;
  }
  let given = false;
  return () => {
    if (!given) slots.release(n); // release caps n at all cores, as request did
    given = true;
  };
}
