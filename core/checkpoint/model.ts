// Saving and loading a model with optimizers (the GAN trainer, the controller) through one path:
// named variable groups and Adam states become prefixed tensors of one checkpoint, the rest is
// the model's JSON state; loading checks the kind and the state, builds the model, restores every
// group and optimizer, and frees the loaded tensors whatever happens.
import * as tf from '@tensorflow/tfjs';
import type { Adam } from '../nn/adam';
import {
  assignVariables,
  CheckpointError,
  disposeLoaded,
  loadCheckpoint,
  saveCheckpoint,
  type LoadedCheckpoint,
} from './format';

export interface ModelParts {
  /** Variable groups by tensor-name prefix, e.g. { g: G.vars, d: D.vars }. */
  variables: Record<string, Map<string, tf.Variable>>;
  /** Optimizers by prefix; their step counts are stored in the state under `adam`. */
  optimizers: Record<string, Adam>;
}

export function saveModel<S extends object>(file: string, kind: string, parts: ModelParts, state: S): string {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [prefix, vars] of Object.entries(parts.variables))
    for (const [name, v] of vars) tensors[`${prefix}/${name}`] = v;
  const adam: Record<string, Record<string, number>> = {};
  const moments: tf.Tensor[] = []; // the optimizers' state comes as new tensors
  try {
    for (const [prefix, opt] of Object.entries(parts.optimizers)) {
      const o = opt.state(`adam.${prefix}`);
      Object.assign(tensors, o.tensors);
      moments.push(...Object.values(o.tensors));
      adam[prefix] = o.steps;
    }
    return saveCheckpoint(file, { kind, state: { ...state, adam }, tensors });
  } finally {
    tf.dispose(moments);
  }
}

/**
 * Loads a model: `build` makes it from the saved state (rejecting a state that is not its own by
 * returning undefined), `parts` names what to restore into it.
 */
export function loadModel<S extends object, M>(
  file: string,
  kind: string,
  build: (state: S) => M | undefined,
  parts: (model: M) => ModelParts,
): { model: M; state: S } {
  const ckpt: LoadedCheckpoint<S & { adam?: Record<string, Record<string, number>> }> = loadCheckpoint(
    file,
    kind,
  );
  try {
    const state = ckpt.manifest.state;
    const model = state ? build(state) : undefined;
    if (model === undefined) throw new CheckpointError(`${file}: the manifest has no ${kind} state`);
    const p = parts(model);
    for (const [prefix, vars] of Object.entries(p.variables)) assignVariables(ckpt, `${prefix}/`, vars);
    for (const [prefix, opt] of Object.entries(p.optimizers))
      opt.restore(`adam.${prefix}`, ckpt.tensors, state.adam?.[prefix] ?? {});
    return { model, state };
  } finally {
    disposeLoaded(ckpt);
  }
}
