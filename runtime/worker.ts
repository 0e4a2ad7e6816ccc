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
import { selectBackend, type BackendInfo, type BackendPreference } from '../core/backend';
import { tlsOptions, type TemporalTarget } from './connection';

let runtimeInstalled = false;

/** Temporal's own logs at WARN unless AUTOGAN_LOG_LEVEL says otherwise (INFO is chatty per worker). */
export function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.AUTOGAN_LOG_LEVEL ?? 'WARN').toUpperCase() as
    'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed by the embedding program: keep its logger.
  }
}

/** A worker's connection to the target (the SDK's native connection; quiet runtime logs first). */
export async function connectWorker(t: TemporalTarget): Promise<NativeConnection> {
  installRuntime();
  return NativeConnection.connect({
    address: t.address,
    ...(t.tls ? { tls: tlsOptions(t) } : {}),
    ...(t.apiKey ? { apiKey: t.apiKey } : {}),
  });
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
  /** Concurrent activities on this worker (tensor steps: usually 1 per device). */
  maxConcurrentActivities?: number;
  backend?: BackendPreference;
  log?: (line: string) => void;
}

export interface StartedWorker {
  worker: Worker;
  backend: BackendInfo;
  description: string;
}

export async function createWorker(opts: WorkerOptions): Promise<StartedWorker> {
  const log = opts.log ?? ((l: string) => console.error(l));
  installRuntime();
  const backend = await selectBackend(opts.backend ?? 'auto', log);
  const concurrency = opts.maxConcurrentActivities ?? 1;
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    maxConcurrentActivityTaskExecutions: concurrency,
  });
  const description = `worker on queue "${opts.taskQueue}" (namespace ${opts.namespace}): backend ${backend.package} [${backend.backend}/${backend.device}], ${concurrency} concurrent activit${concurrency === 1 ? 'y' : 'ies'}, host ${os.hostname()}, pid ${process.pid}`;
  log(`[autogan] ${description}`);
  return { worker, backend, description };
}
