// Builds a Temporal worker for one task queue, with every workflow and activity registered.
import * as os from 'node:os';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import * as activities from '../activities';
import { CORES_PER_CPU_TRAINING } from '../activities/cpu-threads';
import { ALLOW_GROWTH_ENV, workerGpus } from '../activities/gpu-placement';
import { planCpuThreads, planGpus } from '../activities/tensor-call';
import { selectBackend, type BackendInfo, type BackendPreference } from '../core/backend';
import { tlsOptions, unreachable, type TemporalTarget } from './connection';

let runtimeInstalled = false;

/**
 * SDK warnings that only say a query expired unanswered. A worker whose JS thread is inside a long
 * tensor step answers queries late; the caller (progress display, `status`) already falls back to
 * heartbeat details, so one console line per expired query is noise. Counted, shown at DEBUG.
 */
const EXPIRED_QUERY = /query not found|query task not found|already expired/i;
let expiredQueries = 0;

/** Core's log lines for a lost connection to the server (tonic's transport errors, UNAVAILABLE). */
const TRANSPORT =
  /tonic::transport|transport error|Connection refused|status: Unavailable|error trying to connect/i;

/** How many expired-query warnings were kept off the console. */
export function expiredQueryWarnings(): number {
  return expiredQueries;
}

/**
 * Temporal's own logs at WARN unless AUTOGAN_LOG_LEVEL says otherwise (INFO is chatty per worker);
 * with `metricsAddress`, Prometheus metrics (Temporal's worker metrics and ours: training steps,
 * steps/s, checkpoints) served at http://<metricsAddress>/metrics. Once per process: the first call
 * decides.
 */
export function installRuntime(metricsAddress?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.AUTOGAN_LOG_LEVEL ?? 'WARN').toUpperCase() as
    'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  const inner = new DefaultLogger(level);
  const verbose = level === 'DEBUG' || level === 'TRACE';
  let lastUnreachable = 0;
  const logger = new DefaultLogger(level, (entry) => {
    if (entry.level === 'WARN' && EXPIRED_QUERY.test(entry.message)) {
      expiredQueries++;
      if (!verbose) return;
    }
    // While the server is down, Core logs a raw transport error per poll (dozens a minute): one
    // plain line every 30 s says the same, and the worker reconnects on its own.
    if (!verbose && (entry.level === 'WARN' || entry.level === 'ERROR') && TRANSPORT.test(entry.message)) {
      const now = Date.now();
      if (now - lastUnreachable >= 30_000) {
        lastUnreachable = now;
        console.error(
          '[autogan] the Temporal server is unreachable; the worker keeps retrying (running training goes on)',
        );
      }
      return;
    }
    inner.log(entry.level, entry.message, entry.meta);
  });
  try {
    Runtime.install({
      logger,
      ...(metricsAddress
        ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } }
        : {}),
    });
  } catch {
    // Already installed by the embedding program: keep its logger.
  }
}

/** A worker's connection to the target (the SDK's native connection; quiet runtime logs first). */
export async function connectWorker(t: TemporalTarget, waitMs = 30_000): Promise<NativeConnection> {
  installRuntime();
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await NativeConnection.connect({
        address: t.address,
        ...(t.tls ? { tls: tlsOptions(t) } : {}),
        ...(t.apiKey ? { apiKey: t.apiKey } : {}),
      });
    } catch (err) {
      // A server that just started listens before its frontend is healthy ("Frontend is not
      // healthy yet"): a benchmark run failed so. Wait for it; any other error is the caller's.
      if (!/not healthy yet/i.test(String((err as Error)?.message ?? err)) || Date.now() > deadline)
        throw unreachable(t, err);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflow code once per process (workers on several queues share it). */
function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietLogger });
  return bundle;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.error(`[bundler] ${m}`),
  error: (m: string) => console.error(`[bundler] ${m}`),
};

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /**
   * Concurrent activities on this worker; 'tensor' sizes it for training steps from the hardware
   * (tensorConcurrency).
   * @default 1
   */
  maxConcurrentActivities?: number | 'tensor';
  backend?: BackendPreference;
  /**
   * GPU worker: the devices to place tensor hosts on, one training per device (`--gpus 0,1`).
   * @default the devices CUDA_VISIBLE_DEVICES lists, else none (every host sees what the worker sees)
   */
  gpus?: string;
  log?: (line: string) => void;
}

/**
 * How many training/evaluation activities a worker runs at once: one per device on a GPU (two
 * trainings on one GPU compete for its memory and SMs); one per core on CPU, where each call then
 * holds the cores its TensorFlow threads use (activities/cpu-threads.ts: one for a small network,
 * up to CORES_PER_CPU_TRAINING for a large one), so large trainings never share cores either.
 */
export function tensorConcurrency(
  backend: Pick<BackendInfo, 'device'>,
  cores = os.availableParallelism(),
  gpus = 1,
): { count: number; why: string } {
  if (backend.device === 'gpu')
    return {
      count: Math.max(1, gpus),
      why: `one training per GPU (${gpus === 1 ? '1 GPU' : `${gpus} GPUs`}); --concurrency overrides`,
    };
  const count = Math.max(1, cores);
  return {
    count,
    why: `sized from ${cores} CPU core${cores === 1 ? '' : 's'}: a small training holds one core, a large one up to ${CORES_PER_CPU_TRAINING}; --concurrency overrides`,
  };
}

export interface StartedWorker {
  worker: Worker;
  backend: BackendInfo;
  description: string;
}

/** The GPUs hosts go on: --gpus (a bad list is an error), else CUDA_VISIBLE_DEVICES when it lists devices. */
function placementOf(flag: string | undefined, log: (line: string) => void): string[] | undefined {
  if (flag !== undefined) return workerGpus(flag);
  try {
    return workerGpus(undefined);
  } catch (err) {
    log(`[autogan] ${(err as Error).message}; hosts see what the worker sees`);
    return undefined;
  }
}

/** How often a training activity's heartbeat reaches the server at most. */
const HEARTBEAT_THROTTLE = '1s';

export async function createWorker(opts: WorkerOptions): Promise<StartedWorker> {
  const log = opts.log ?? ((l: string) => console.error(l));
  installRuntime();
  // Before TensorFlow loads here or in a host: grow GPU memory on demand (unless the user chose).
  process.env[ALLOW_GROWTH_ENV] ??= 'true';
  const backend = await selectBackend(opts.backend ?? 'auto', log);
  const devices = backend.device === 'gpu' ? placementOf(opts.gpus, log) : undefined;
  if (opts.gpus !== undefined && backend.device !== 'gpu')
    log(`[autogan] --gpus ${opts.gpus} is ignored: backend ${backend.package} runs on the CPU`);
  const gpus = planGpus(devices);
  const sized =
    opts.maxConcurrentActivities === 'tensor'
      ? tensorConcurrency(backend, os.availableParallelism(), devices?.length ?? 1)
      : undefined;
  // On CPU, tensor hosts get TensorFlow threads by the size of their work and hold that many cores.
  const threads = backend.device === 'cpu' ? planCpuThreads(os.availableParallelism()) : gpus;
  const concurrency = sized?.count ?? (opts.maxConcurrentActivities as number | undefined) ?? 1;
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    maxConcurrentActivityTaskExecutions: concurrency,
    // Heartbeats carry cancellation back: the server answers one with "cancelled" or "not found"
    // (terminated). The SDK's default throttle (up to 80% of the heartbeat timeout, 60 s at most)
    // let a terminated training run on for seconds; one RPC per second per training is cheap.
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    defaultHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
  });
  const description = `worker on queue "${opts.taskQueue}" (namespace ${opts.namespace}): backend ${backend.package} [${backend.backend}/${backend.device}], ${concurrency} concurrent activit${concurrency === 1 ? 'y' : 'ies'}${sized ? ` (${sized.why})` : ''}${threads ? `, ${threads}` : ''}, host ${os.hostname()}, pid ${process.pid}`;
  log(`[autogan] ${description}`);
  return { worker, backend, description };
}
