// Chooses the tensor engine once per process: tfjs-node-gpu, then tfjs-node, then pure JS.
// The choice is returned so every result can record which backend produced it.
import * as tf from '@tensorflow/tfjs';
import { installNativeOps } from './nn/native-ops';
import { setSpectralNormOnHost } from './nn/spectral-norm';

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
      const failure = tryLoad(p);
      if (failure === undefined && (await tf.setBackend('tensorflow'))) {
        installNativeOps(nativeOpAttr(p));
        pkg = p;
        backend = 'tensorflow';
        device = name === 'tensorflow-gpu' ? 'gpu' : 'cpu';
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
  selected = { backend, package: pkg, tfjsVersion: tf.version_core, device, skipped };
  selectedFor = pref;
  const note =
    backend === 'cpu' && pref === 'auto'
      ? ' (slow: run `npm run setup:native` to install the native TensorFlow backend)'
      : '';
  log(`[autogan] tensor backend: ${pkg} (${backend}, ${device})${note}`);
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
