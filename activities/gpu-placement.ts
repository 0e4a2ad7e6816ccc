// Where a GPU worker's tensor hosts run. Each host sees one device (CUDA_VISIBLE_DEVICES), so one
// worker drives several GPUs with one training per GPU; and every TensorFlow context grows its
// memory as it needs it (TF_FORCE_GPU_ALLOW_GROWTH) instead of taking nearly the whole device at
// start, which made the second process on a GPU (an idle host beside a busy one, the worker itself)
// fail to allocate. Decisions only: testable without a GPU.
import { ASYNC_EXECUTOR_ENV } from '../core/backend';
import { INTRA_OP_ENV } from './cpu-threads';

export const ALLOW_GROWTH_ENV = 'TF_FORCE_GPU_ALLOW_GROWTH';
export const VISIBLE_DEVICES_ENV = 'CUDA_VISIBLE_DEVICES';

/**
 * The GPUs a worker places hosts on: `--gpus 0,1`, else the devices CUDA_VISIBLE_DEVICES lists
 * (a launcher's assignment), else none (each host sees what the worker sees). Ids are passed to
 * CUDA_VISIBLE_DEVICES as written (indices or GPU-… UUIDs). Throws on a malformed list.
 */
export function workerGpus(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string[] | undefined {
  const source = flag ?? env[VISIBLE_DEVICES_ENV];
  if (source === undefined || (flag === undefined && source.trim() === '')) return undefined;
  const ids = source.split(',').map((s) => s.trim());
  const where = flag !== undefined ? '--gpus' : VISIBLE_DEVICES_ENV;
  for (const id of ids)
    if (!/^(\d+|GPU-[0-9a-fA-F-]+|MIG-[\w/-]+)$/.test(id))
      throw new Error(`${where} is "${source}": expected device ids such as 0,1 (or GPU-… UUIDs)`);
  if (new Set(ids).size !== ids.length) throw new Error(`${where} is "${source}": a device is listed twice`);
  return ids;
}

/**
 * A host's environment: its TensorFlow threads, its executor (sync or async, when the worker
 * decided), its device, and memory growth unless the user chose.
 */
export function hostEnv(
  base: NodeJS.ProcessEnv,
  o: { threads?: number; gpu?: string; asyncExecutor?: boolean },
): NodeJS.ProcessEnv {
  const env = { ...base };
  if (o.threads) env[INTRA_OP_ENV] = String(o.threads);
  if (o.asyncExecutor !== undefined) env[ASYNC_EXECUTOR_ENV] = o.asyncExecutor ? '1' : '0';
  if (o.gpu !== undefined) env[VISIBLE_DEVICES_ENV] = o.gpu;
  env[ALLOW_GROWTH_ENV] ??= 'true';
  return env;
}

/** The worker's GPUs, handed to calls one at a time: a call holds its device until it returns. */
export class GpuSlots {
  private readonly free: string[];
  constructor(readonly ids: readonly string[]) {
    this.free = [...ids];
  }
  /** The first free device, or undefined when every one is held. */
  take(): string | undefined {
    return this.free.shift();
  }
  give(id: string): void {
    if (this.free.includes(id)) return;
    this.free.push(id);
    this.free.sort((a, b) => this.ids.indexOf(a) - this.ids.indexOf(b));
  }
}
