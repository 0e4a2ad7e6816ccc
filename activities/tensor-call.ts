// Runs an activity's tensor work: in a tensor host process (activities/tensor-host.ts) by default, so
// this worker's JavaScript thread stays free for heartbeats, cancellation, queries and workflow
// tasks during a long step; in this process with AUTOGAN_TENSOR_HOST=inline. Hosts are kept and
// reused, one per concurrent activity; a host that dies fails only its call (retried by Temporal).
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { ArtifactMissingError } from '../core/artifacts';
import { useBackend } from '../core/backend';
import { CheckpointError } from '../core/checkpoint/format';
import { DatasetError } from '../core/datasets/types';
import { ArtifactStoreError } from '../services/artifact-store';
import { NumericalFault } from '../services/numerical-fault';
import type { Hooks } from '../services/search/context';
import { runTensorOp, type OpArgs, type OpResult, type TensorOp } from '../services/tensor-ops';
import type { HostMessage, HostRequest, SerializedError } from './tensor-host-protocol';
import {
  asyncSmallTrainings,
  CoreSlots,
  coresHeld,
  holdCores,
  INTRA_OP_ENV,
  threadsFor,
} from './cpu-threads';
import { GpuSlots, hostEnv } from './gpu-placement';

export const TENSOR_HOST_ENV = 'AUTOGAN_TENSOR_HOST';

type Backend = Extract<HostRequest, { type: 'call' }>['backend'];

/** 'process' (default) or 'inline'. */
export function tensorHostMode(): 'process' | 'inline' {
  const v = (process.env[TENSOR_HOST_ENV] ?? 'process').toLowerCase();
  if (v !== 'process' && v !== 'inline')
    throw new Error(`${TENSOR_HOST_ENV} is "${v}"; expected "process" or "inline"`);
  return v;
}

const CLASSES: Record<string, { prototype: Error }> = {
  DatasetError,
  NumericalFault,
  CheckpointError,
  ArtifactMissingError,
  ArtifactStoreError,
};

/** The host's error as the class the activity layer knows (for retry decisions and messages). */
function revive(e: SerializedError): Error {
  const err = Object.create((CLASSES[e.name] ?? Error).prototype) as Error;
  Object.assign(err, e.props);
  Object.defineProperty(err, 'message', { value: e.message, enumerable: false, writable: true });
  Object.defineProperty(err, 'name', { value: e.name, enumerable: false, writable: true });
  Object.defineProperty(err, 'stack', { value: e.stack ?? `${e.name}: ${e.message}`, writable: true });
  return err;
}

/**
 * TensorFlow's start-up lines (absl's "All log messages before absl::InitializeLog()" and the oneDNN
 * notice) say nothing a user can act on, and every host prints them again: they are dropped unless
 * AUTOGAN_VERBOSE is set (`autogan --verbose …`). Everything else the host writes passes through.
 */
const BANNER = /absl::InitializeLog\(\)|oneDNN custom operations are on|\[autogan\] tensor backend: /;

function forwardStderr(child: ChildProcess): void {
  const verbose = !!process.env.AUTOGAN_VERBOSE;
  let rest = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (verbose || !BANNER.test(l)) process.stderr.write(`${l}\n`);
  });
  child.stderr?.on('end', () => rest && process.stderr.write(rest));
}

class TensorHost {
  readonly child: ChildProcess;
  private onMessage?: (m: HostMessage) => void;
  private onExit?: (why: string) => void;
  readonly ready: Promise<void>;
  dead = false;

  /**
   * @param threads TensorFlow's intra-op threads in this host (undefined: TensorFlow's default or the user's setting).
   * @param gpu The one device this host sees (undefined: what the worker sees).
   * @param asyncExecutor TensorFlow's async executor in this host (undefined: the worker's environment).
   */
  constructor(
    readonly threads?: number,
    readonly gpu?: string,
    readonly asyncExecutor?: boolean,
  ) {
    const entry = path.join(__dirname, 'tensor-host.js');
    this.child = fork(entry, [], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      execArgv: [],
      env: hostEnv(process.env, { threads, gpu, asyncExecutor }),
    });
    forwardStderr(this.child);
    this.keepWorkerAlive(false);
    this.ready = new Promise((resolve, reject) => {
      this.onMessage = (m) => m.type === 'ready' && resolve();
      this.onExit = (why) => reject(new Error(`the tensor host process ${why} before it was ready`));
    });
    this.child.on('message', (m: HostMessage) => this.onMessage?.(m));
    this.child.on('exit', (code, signal) =>
      this.die(signal ? `was killed by ${signal}` : `exited with code ${code}`),
    );
    // A host killed (OOM) between its channel closing and its 'exit' makes a send fail with an
    // 'error' event: without this listener that would crash the worker and every activity on it.
    this.child.on('error', (err) => this.die(`failed (${err.message})`));
  }

  /** The host is gone: its pending call (or start) fails, once; later events change nothing. */
  private die(why: string): void {
    if (this.dead) return;
    this.dead = true;
    this.onExit?.(why);
  }

  /** Ends an idle host: closing its channel makes it exit (it ignores the signals a terminal sends). */
  end(): void {
    this.dead = true;
    if (this.child.connected) this.child.disconnect();
  }

  /** An idle host never keeps its worker alive; a host at work does (its call is pending). */
  keepWorkerAlive(on: boolean): void {
    const channel = this.child.channel as { ref?: () => void; unref?: () => void } | undefined;
    if (on) {
      this.child.ref();
      channel?.ref?.();
    } else {
      this.child.unref();
      channel?.unref?.();
    }
  }

  private send(m: HostRequest): void {
    if (this.dead || !this.child.connected) return;
    this.child.send(m, (err) => err && this.die(`could not be reached (${err.message})`));
  }

  call<T>(op: TensorOp, args: unknown[], hooks: Hooks, backend: Backend): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let cancelled: unknown;
      this.onExit = (why) =>
        reject(new Error(`the tensor host process (pid ${this.child.pid}) ${why} while running ${op}`));
      this.onMessage = (m) => {
        if (m.type === 'progress') hooks.progress(m.p);
        else if (m.type === 'backend') lastBackend = m.package;
        else if (m.type === 'step-boundary') {
          // The worker's own checks at each step boundary: heartbeats go out, a cancellation stops
          // the host there. Nothing more runs in the host until this answers.
          hooks.atStepBoundary().then(
            () => this.send({ type: 'continue' }),
            (err: unknown) => {
              cancelled = err;
              const workerShutdown = !!(err as { workerShutdown?: boolean }).workerShutdown;
              this.send({ type: 'stop', ...(workerShutdown ? { workerShutdown } : {}) });
            },
          );
        } else if (m.type === 'result') {
          if (cancelled !== undefined) reject(cancelled);
          else resolve(m.value as T);
        } else if (m.type === 'error') reject(cancelled ?? revive(m.error));
      };
      this.send({
        type: 'call',
        op,
        args,
        backend,
        ...(hooks.resumeFrom ? { resumeFrom: hooks.resumeFrom } : {}),
      });
    });
  }
}

const idle: TensorHost[] = [];
let lastBackend: string | undefined;
let slots: CoreSlots | undefined;
let gpus: GpuSlots | undefined;

/**
 * A GPU worker's devices: each call runs in a host that sees one of them, one call per device.
 * Returns a description for the worker's start line (undefined: no placement).
 */
export function planGpus(ids: readonly string[] | undefined): string | undefined {
  gpus = ids?.length ? new GpuSlots(ids) : undefined;
  return gpus
    ? `GPU${ids!.length === 1 ? '' : 's'} ${ids!.join(', ')}: one training per GPU, each host sees its own`
    : undefined;
}

/** A free device for a call; waits (checking for cancellation) while all are held. */
async function holdGpu(hooks: Hooks): Promise<string | undefined> {
  if (!gpus) return undefined;
  for (;;) {
    const id = gpus.take();
    if (id !== undefined) return id;
    await hooks.atStepBoundary();
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A CPU worker's plan (activities/cpu-threads.ts): each call gets TensorFlow threads by the size of
 * its networks and holds that many of `cores` while it runs. With TF_NUM_INTRAOP_THREADS set, every
 * host uses it and holds as many cores. Returns a description for the worker's start line.
 */
export function planCpuThreads(cores: number): string;
/** undefined: no plan (hosts start with TensorFlow's default threads and hold no cores). */
export function planCpuThreads(cores: undefined): undefined;
export function planCpuThreads(cores: number | undefined): string | undefined {
  slots = cores === undefined ? undefined : new CoreSlots(Math.max(1, cores));
  if (!slots) return undefined;
  const fixed = userThreads();
  return fixed
    ? `${fixed} TensorFlow thread${fixed === 1 ? '' : 's'} per training (${INTRA_OP_ENV})`
    : `TensorFlow threads per training by network size (1 for small ones${asyncSmallTrainings() ? ', on the async executor: 2 cores each' : ''})`;
}

function userThreads(): number | undefined {
  const v = Number(process.env[INTRA_OP_ENV]);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * A kept host with this thread count on this device; idle hosts with another count are ended (they
 * would sit on memory), and so are idle hosts on this device (one context per GPU).
 */
function takeHost(threads: number | undefined, gpu: string | undefined, asyncExecutor?: boolean): TensorHost {
  let found: TensorHost | undefined;
  for (let i = idle.length - 1; i >= 0; i--) {
    const h = idle[i]!;
    if (h.dead) idle.splice(i, 1);
    else if (!found && h.threads === threads && h.gpu === gpu && h.asyncExecutor === asyncExecutor)
      found = idle.splice(i, 1)[0];
  }
  if (found) return found;
  for (let i = idle.length - 1; i >= 0; i--)
    if (gpu === undefined || idle[i]!.gpu === gpu) idle.splice(i, 1)[0]!.end();
  return new TensorHost(threads, gpu, asyncExecutor);
}

/**
 * The tensor backend the work runs on. With hosts, this process never initializes one itself (on a
 * GPU worker that would hold device memory twice): the hosts report theirs.
 */
export async function tensorBackend(preference: Backend): Promise<string> {
  if (tensorHostMode() === 'inline') return (await useBackend(preference)).package;
  return lastBackend ?? `${preference} (tensor host)`;
}

/** Runs `op` with `args`; progress and step-boundary checks go through `hooks`. */
export async function tensorCall<K extends TensorOp>(
  op: K,
  args: OpArgs<K>,
  hooks: Hooks,
  backend: Backend,
): Promise<OpResult<K>> {
  if (tensorHostMode() === 'inline') return runTensorOp(op, hooks, args);
  const fixed = userThreads();
  const threads = slots ? (fixed ?? threadsFor((args as unknown[])[0], slots.total)) : undefined;
  // Small (one-thread) trainings on the async executor when the worker asks for it (cpu-threads.ts).
  const asyncExecutor = slots && threads ? threads === 1 && asyncSmallTrainings() : undefined;
  const release =
    slots && threads
      ? await holdCores(slots, coresHeld(threads, asyncExecutor === true, slots.total), hooks)
      : undefined;
  const gpu = await holdGpu(hooks).catch((err: unknown) => {
    release?.();
    throw err;
  });
  try {
    const host = takeHost(fixed ? undefined : threads, gpu, asyncExecutor);
    host.keepWorkerAlive(true);
    try {
      await host.ready;
      return await host.call<OpResult<K>>(op, args as unknown[], hooks, backend);
    } finally {
      host.keepWorkerAlive(false);
      if (!host.dead) idle.push(host);
    }
  } finally {
    if (gpu !== undefined) gpus?.give(gpu);
    release?.();
  }
}

/** Ends every idle host (a worker shutting down). */
export function stopTensorHosts(): void {
  for (const h of idle.splice(0)) h.end();
}
