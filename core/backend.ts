// Chooses the tensor engine once per process: tfjs-node-gpu, then tfjs-node, then pure JS.
// The choice is returned so every result can record which backend produced it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { installNativeOps } from './nn/native-ops';
import { setFusedConvEnabled } from './nn/fused-conv';
import { setHostReadsInGradients, setSpectralNormOnHost } from './nn/spectral-norm';

export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'cpu';

export interface BackendInfo {
  /** tfjs backend name in use: 'tensorflow' for the native bindings, 'cpu' for pure JS. */
  backend: string;
  /** npm package that provides it. */
  package: string;
  /** version of @tensorflow/tfjs-core. */
  tfjsVersion: string;
  /** 'gpu' when tfjs-node-gpu loaded, 'cpu' otherwise. */
  device: 'gpu' | 'cpu';
  /** Why the faster candidates were not used (empty when the first choice loaded). */
  skipped: string[];
  /**
   * How TensorFlow runs ops: 'sync' (each op finishes before the call returns) or 'async' (ops
   * queue on TensorFlow's executor thread while JavaScript goes on; AUTOGAN_TFE_ASYNC=1 with the
   * binding `setup:native` builds). Pure JS is always 'sync'.
   */
  executor: 'sync' | 'async';
}

/** The environment variable the patched binding reads when it creates TensorFlow's context. */
export const ASYNC_EXECUTOR_ENV = 'AUTOGAN_TFE_ASYNC';

/** The file `setup:native` writes beside a package whose binding it rebuilt with its patch. */
export const BINDING_STAMP = '.autogan-binding';

/** The patch `setup:native` built the package's binding with (its stamp file), if any. */
export function bindingPatch(pkg: string): string | undefined {
  try {
    const dir = path.dirname(require.resolve(`${pkg}/package.json`));
    return fs.readFileSync(path.join(dir, BINDING_STAMP), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until TensorFlow has run every op queued so far (the async executor runs them in order, so
 * reading one new op's result waits for all before it). For timing a step; a no-op when synchronous.
 */
export function finishQueuedOps(): void {
  if (selected?.executor !== 'async') return;
  tf.tidy(() => tf.neg(tf.scalar(0)).dataSync());
}

/** Whether the native package in `pkg` runs ops asynchronously in this process. */
function executorOf(pkg: string, log: (line: string) => void): 'sync' | 'async' {
  if (process.env[ASYNC_EXECUTOR_ENV] !== '1') return 'sync';
  if (bindingPatch(pkg)) return 'async';
  log(
    `[autogan] ${ASYNC_EXECUTOR_ENV}=1 needs the binding \`npm run setup:native\` builds; ${pkg} runs ops synchronously`,
  );
  return 'sync';
}

export const BACKEND_ENV = 'AUTOGAN_BACKEND';
const PREFERENCES: BackendPreference[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'cpu'];

let selected: BackendInfo | undefined;
let selectedFor: BackendPreference | undefined;

export function parseBackendPreference(value: string | undefined): BackendPreference {
  const v = (value ?? 'auto').trim() || 'auto';
  if ((PREFERENCES as string[]).includes(v)) return v as BackendPreference;
  throw new Error(`unknown backend "${v}": expected one of ${PREFERENCES.join(', ')}`);
}

function tryLoad(pkg: string): string | undefined {
  // TensorFlow's C++ start-up banner is noise for our users; errors still print.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(pkg);
    return undefined;
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    return `${pkg}: ${msg}`;
  }
}

/**
 * Whether the NVIDIA driver exposes a device to this process. 'auto' does not load tfjs-node-gpu
 * without one: its 1 GB libtensorflow would only run on the CPU, and once loaded in a process the
 * CPU package's library (same sonames) could not be loaded beside it.
 */
export function nvidiaDriverPresent(): boolean {
  return fs.existsSync('/dev/nvidiactl') || fs.existsSync('/proc/driver/nvidia/version');
}

/**
 * Selects and initialises the backend. The env var AUTOGAN_BACKEND overrides the argument
 * (a pipeline's spec.backend), so an operator can force pure JS on a worker without editing YAML.
 * A forced native backend that cannot load is an error, never a silent fallback.
 */
export async function selectBackend(
  preference: BackendPreference = 'auto',
  log: (line: string) => void = (l) => console.error(l),
): Promise<BackendInfo> {
  const pref = process.env[BACKEND_ENV] ? parseBackendPreference(process.env[BACKEND_ENV]) : preference;
  if (selected && selectedFor === pref) return selected;

  const skipped: string[] = [];
  const candidates: Array<['tensorflow-gpu' | 'tensorflow', string]> = [
    ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu'],
    ['tensorflow', '@tensorflow/tfjs-node'],
  ];
  let pkg = '@tensorflow/tfjs';
  let device: 'gpu' | 'cpu' = 'cpu';
  let backend = 'cpu';
  if (pref !== 'cpu') {
    for (const [name, p] of candidates) {
      if (pref !== 'auto' && pref !== name) continue;
      if (pref === 'auto' && name === 'tensorflow-gpu' && !nvidiaDriverPresent()) {
        skipped.push(`${p}: no NVIDIA driver on this host (/dev/nvidiactl absent)`);
        continue;
      }
      const failure = tryLoad(p);
      if (failure === undefined && (await tf.setBackend('tensorflow'))) {
        installNativeOps(nativeOpAttr(p));
        pkg = p;
        backend = 'tensorflow';
        // TensorFlow falls back to its CPU kernels when it finds no usable GPU (no driver, a driver
        // too old for CUDA 12, no visible device): say so rather than claim a GPU.
        const onGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
        device = name === 'tensorflow-gpu' && onGpu ? 'gpu' : 'cpu';
        if (name === 'tensorflow-gpu' && !onGpu)
          log(`[autogan] ${p} loaded but TensorFlow sees no GPU: it runs on the CPU`);
        break;
      }
      skipped.push(failure ?? `${p}: the 'tensorflow' backend did not initialise`);
    }
    if (backend === 'cpu' && pref !== 'auto') {
      throw new Error(`backend "${pref}" was requested but could not be loaded: ${skipped.join('; ')}`);
    }
  }
  if (backend === 'cpu') {
    if (!(await tf.setBackend('cpu'))) throw new Error('the pure-JS cpu backend failed to initialise');
  }
  await tf.ready();
  // Spectral norm's power iteration runs on the host for CPU backends, as tensor ops on a GPU.
  setSpectralNormOnHost(device !== 'gpu');
  // oneDNN's fused convolution is a CPU kernel (eager would place it on the CPU behind a GPU's back).
  setFusedConvEnabled(device !== 'gpu');
  const executor = backend === 'tensorflow' ? executorOf(pkg, log) : 'sync';
  // With async ops a read-back mid-backward waits for every queued kernel: gradients stay on device.
  setHostReadsInGradients(executor === 'sync');
  selected = { backend, package: pkg, tfjsVersion: tf.version_core, device, skipped, executor };
  selectedFor = pref;
  const note =
    backend === 'cpu' && pref === 'auto'
      ? ' (slow: run `npm run setup:native` to install the native TensorFlow backend)'
      : '';
  log(
    `[autogan] tensor backend: ${pkg} (${backend}, ${device}${executor === 'async' ? ', async executor' : ''})${note}`,
  );
  return selected;
}

/** tfjs-node's builder of TensorFlow op type attributes, from the package that loaded. */
function nativeOpAttr(pkg: string): (name: string, dtype: tf.DataType) => unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(`${pkg}/dist/nodejs_kernel_backend`) as {
    createTensorsTypeOpAttr(name: string, dtype: tf.DataType): unknown;
  };
  return (name, dtype) => mod.createTensorsTypeOpAttr(name, dtype);
}

/** The backend chosen so far, if any (for recording with results). */
export function currentBackend(): BackendInfo | undefined {
  return selected;
}

/**
 * For a step that states a backend: 'auto' keeps the one this worker chose at start; a named one
 * switches to it (or fails if it cannot load). Workers serving mixed pipelines should be started
 * with the backend they are meant to use.
 */
export async function useBackend(preference: BackendPreference): Promise<BackendInfo> {
  if (selected && (preference === 'auto' || matches(selected, preference))) return selected;
  return selectBackend(preference);
}

function matches(info: BackendInfo, pref: BackendPreference): boolean {
  if (pref === 'cpu') return info.backend === 'cpu';
  if (pref === 'tensorflow') return info.package === '@tensorflow/tfjs-node';
  return info.package === '@tensorflow/tfjs-node-gpu';
}
