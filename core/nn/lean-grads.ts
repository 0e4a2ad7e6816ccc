// Gradients of a scalar loss with respect to variables, like tf.variableGrads, with memory released
// as the backward pass goes instead of at its end.
//
// Why: tfjs's backward pass (Engine.gradients) keeps every node's saved tensors (the forward
// activations its gradient needs) and every intermediate gradient until the whole pass is done, so
// the peak holds all activations plus all gradients at once. PyTorch frees a node's saved tensors
// and its consumed output gradients as soon as the node is backpropagated; at paper size that was
// most of the difference between tfjs's peak RSS and PyTorch's (docs/performance.md). Walking the tape in
// reverse, a node's outputs are only ever consumed by later nodes, which have all been processed by
// then: once its input gradients are computed, neither its saved tensors nor the gradients of its
// outputs are needed by anything else.
//
// The walk uses the engine's tape (startTape/endTape, the nodes' gradient closures), which is
// internal to tfjs-core 4.x; `leanGradsSupported()` checks the shape of what it relies on and
// callers fall back to tf.variableGrads otherwise (also inside another gradient computation, where
// the tape must stay intact for higher-order gradients).
import * as tf from '@tensorflow/tfjs';
import { alias } from './lean-ops';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

function engine(): EngineInternals {
  return tf.engine() as unknown as EngineInternals;
}

let enabled = true;
/** Turns the lean walk off (tf.variableGrads everywhere), for benchmarks that measure the difference. */
export function setLeanGrads(on: boolean): void {
  enabled = on;
}

/** Whether this tfjs-core exposes the tape the way the lean walk needs (checked once). */
let supported: boolean | undefined;
export function leanGradsSupported(): boolean {
  if (supported === undefined) {
    const e = engine();
    supported =
      typeof e.scopedRun === 'function' &&
      typeof e.startTape === 'function' &&
      typeof e.endTape === 'function' &&
      typeof e.state === 'object' &&
      typeof e.state.gradientDepth === 'number';
  }
  return supported;
}

/**
 * The nodes on a path from one of `xs` to `y`, in tape order, each with only the inputs that depend
 * on `xs` (gradients are needed for those alone).
 */
function pathsFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodeFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      nodeToY.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodeFromX.has(node.id) || !nodeToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs });
  }
  return out;
}

function disposeSaved(node: TapeNode): void {
  for (const t of node.saved ?? []) t.dispose();
}

/**
 * ∂f/∂v for each trainable variable in `varList` that f depends on, keyed by variable name, and f's
 * value; the same contract as tf.variableGrads(f, varList) (which it falls back to where the lean
 * walk is unavailable). Numerically identical: the same gradient functions in the same order.
 */
export function leanVariableGrads(
  f: () => tf.Scalar,
  varList: tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const e = engine();
  if (!enabled || !leanGradsSupported() || e.state.gradientDepth !== 0) return tf.variableGrads(f, varList);
  const xs = varList.filter((v) => v.trainable);
  if (xs.length === 0) throw new Error('leanVariableGrads: none of the variables is trainable');
  const y = e.scopedRun(
    () => e.startTape(),
    () => e.endTape(),
    () => e.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor) || y.rank !== 0)
    throw new Error('leanVariableGrads: f must return a scalar tensor');
  const tape = e.state.activeTape ?? [];
  const path = pathsFromXsToY(tape, xs, y);
  const isX = new Set(xs.map((x) => x.id));
  try {
    const grads = e.tidy('backward', () => {
      const acc = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
      for (let i = path.length - 1; i >= 0; i--) {
        const node = path[i];
        if (!node.gradient)
          throw new Error(`Cannot compute gradient: no gradient function for ${node.kernelName}`);
        const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
        const inputGradients = node.gradient(dys);
        for (const [name, x] of Object.entries(node.inputs)) {
          const fn = inputGradients[name];
          if (!fn) throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}`);
          let dx = e.tidy('grad', fn);
          // A gradient function may pass dy through as is; the output gradients are disposed below.
          if (dys.includes(dx)) dx = alias(dx);
          if (dx.dtype !== 'float32' || dx.shape.join() !== x.shape.join())
            throw new Error(
              `gradient of ${node.kernelName} input ${name} is ${dx.dtype} [${dx.shape}], expected float32 [${x.shape}]`,
            );
          const prev = acc.get(x.id);
          if (prev) {
            acc.set(x.id, tf.add(prev, dx));
            prev.dispose();
            dx.dispose();
          } else acc.set(x.id, dx);
        }
        // Nothing earlier on the tape reads this node's saved tensors or its outputs' gradients.
        disposeSaved(node);
        for (const o of node.outputs) {
          const g = acc.get(o.id);
          if (g && !isX.has(o.id)) {
            g.dispose();
            acc.delete(o.id);
          }
        }
      }
      const named: tf.NamedTensorMap = {};
      for (const v of xs) {
        const g = acc.get(v.id);
        if (g) named[v.name] = g;
      }
      return named;
    });
    if (Object.keys(grads).length === 0)
      throw new Error('Cannot find a connection between any variable and the result of the loss function');
    return { value: y as tf.Scalar, grads };
  } finally {
    // As Engine.gradients does at depth 0: the tape's saved tensors go, the tape is dropped.
    for (const node of tape) disposeSaved(node);
    e.state.activeTape = null;
  }
}
