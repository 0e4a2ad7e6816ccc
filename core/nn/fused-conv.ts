// A 3×3/1×1 "same" convolution and its bias add as one oneDNN kernel on the native CPU backend.
//
// Why: at the demo's sizes a BiasAdd over a convolution's output costs ~15% of the convolution
// (a pass over the whole activation); oneDNN adds the bias in the convolution's own output loop.
// TensorFlow has that kernel (_MklNativeFusedConv2D, what its graph rewriter turns Conv2D+BiasAdd
// into) but eager execution never rewrites to it, and calling it needs list attributes
// (fused_ops, TArgs) that tfjs-node's binding cannot pass until `setup:native` patches it
// (tools/binding-patch.ts). Where the kernel cannot run (an unpatched binding, oneDNN off, a GPU),
// a probe at start finds out and conv+bias stay two ops. Same values to the last bit: oneDNN's
// Conv2D is the same convolution, and a bias added in the output loop rounds like BiasAdd.
import * as tf from '@tensorflow/tfjs';
import type { Binding, KernelKit, NodeBackendLike } from './native-ops';

const FUSED_CONV = 'AutoganNativeConvBias';

let available = false;
let wanted = true;
// AUTOGAN_FUSED_CONV=0 keeps conv and bias apart (benchmarks, or to rule the fused kernel out),
// whatever the backend's own choice.
const userOff = process.env.AUTOGAN_FUSED_CONV === '0';

/** Whether conv+bias run as one kernel here (native CPU backend, patched binding, oneDNN on). */
export function fusedConvActive(): boolean {
  return available && wanted && !userOff && tf.getBackend() === 'tensorflow';
}

/** Turns the fused kernel off or back on (tests, benchmarks; the GPU backend turns it off). */
export function setFusedConvEnabled(on: boolean): void {
  wanted = on;
}

function convAttrs(b: Binding, T: unknown) {
  return [
    T,
    { name: 'strides', type: b.TF_ATTR_INT, value: [1, 1, 1, 1] },
    { name: 'padding', type: b.TF_ATTR_STRING, value: 'SAME' },
    { name: 'explicit_paddings', type: b.TF_ATTR_INT, value: [] },
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'dilations', type: b.TF_ATTR_INT, value: [1, 1, 1, 1] },
    { name: 'use_cudnn_on_gpu', type: b.TF_ATTR_BOOL, value: false },
    { name: 'fused_ops', type: b.TF_ATTR_STRING, value: ['BiasAdd'] },
    { name: 'num_args', type: b.TF_ATTR_INT, value: 1 },
    { name: 'TArgs', type: b.TF_ATTR_TYPE, value: [b.TF_FLOAT] },
    { name: 'epsilon', type: b.TF_ATTR_FLOAT, value: 0.0001 },
    // oneDNN's kernels are registered under this label; TensorFlow's rewriter sets it.
    { name: '_kernel', type: b.TF_ATTR_STRING, value: 'MklNameChangeOp' },
  ];
}

export function registerFusedConv({ T, kernel, biasGrad }: KernelKit): void {
  kernel(FUSED_CONV, ({ inputs, backend }) => {
    const be = backend as unknown as NodeBackendLike;
    return be.executeSingleOutput('_MklNativeFusedConv2D', convAttrs(be.binding, T), [
      inputs.x!,
      inputs.filter!,
      inputs.bias!,
    ]);
  });
  tf.registerGradient({
    kernelName: FUSED_CONV,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved) => {
      const [x, filter] = saved;
      const g = Array.isArray(dy) ? dy[0] : dy;
      const conv = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
      return {
        x: () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy: g, filter },
              { ...conv, inputShape: x.shape },
            ) as tf.Tensor,
        filter: () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x, dy: g },
              { ...conv, filterShape: filter.shape },
            ) as tf.Tensor,
        bias: () => biasGrad(g),
      };
    },
  });
  available = probe();
}

/** One small fused convolution against Conv2D + BiasAdd: the kernel exists and agrees, or not. */
function probe(): boolean {
  if (tf.getBackend() !== 'tensorflow') return false;
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d([0.5, -1, 2, 0.25, 1.5, -0.75, 1, 3], [1, 2, 2, 2]);
      const w = tf.tensor4d([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8], [1, 1, 2, 4]);
      const b = tf.tensor1d([0.5, -0.5, 1, 0]);
      const fused = tf.engine().runKernel(FUSED_CONV, { x, filter: w, bias: b }) as tf.Tensor;
      const plain = tf.add(tf.conv2d(x, w, 1, 'same'), b);
      return tf.max(tf.abs(tf.sub(fused, plain))).dataSync()[0] <= 1e-6;
    });
  } catch {
    return false;
  }
}

/** conv(x, w, stride 1, 'same') + bias: one kernel where fusedConvActive(), two ops elsewhere. */
export function fusedConvBias(x: tf.Tensor4D, w: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D | undefined {
  if (!fusedConvActive() || x.dtype !== 'float32') return undefined;
  return tf.engine().runKernel(FUSED_CONV, { x, filter: w, bias }) as tf.Tensor4D;
}
