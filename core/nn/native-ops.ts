// TensorFlow kernels that tfjs-node does not reach, registered for the native backend only.
//
// Why: on tfjs-node every tensor op costs tens of µs of dispatch whatever its size, and tfjs routes
// several of our hot paths through many small ops where TensorFlow has one kernel (per-op numbers:
// bench/kernels.ts, docs/performance.md):
// - ReLU's gradient is tfjs's `dy · step(x)` (Cast, IsNan, Greater, a JS-filled ones tensor, Fill,
//   two Selects) where TensorFlow has ReluGrad (bit-identical: dy where x > 0, else 0).
// - tf.matMul reshapes both operands to rank 3 and back around BatchMatMulV2, several times the cost
//   of TensorFlow's MatMul on the 2-D tensors for a spectral-norm matrix-vector product.
// - Train-mode batch norm is moments + autodiff (~25 ops with its gradient) where TensorFlow has
//   FusedBatchNormV3 / FusedBatchNormGradV3, which also produce PyTorch's running-stat update
//   (momentum as exponential_avg_factor, unbiased batch variance).
// - Bilinear ×2 with PyTorch's geometry (align_corners=False) needs half_pixel_centers, which
//   tfjs-node drops in ResizeBilinear's gradient, so layers.ts builds it from slices (~30 ops with
//   its gradient); here ResizeBilinear / ResizeBilinearGrad are called with the attribute.
// - A bias added with tf.add costs a Reshape and a Sum in its gradient and a Reshape of dy for the
//   input; TensorFlow's BiasAdd / BiasAddGrad are one op each way.
// - tfjs casts float32 to float32 as a native Cast; here that is a shared buffer.
// Every other backend keeps the portable code path in layers.ts / spectral-norm.ts; these
// functions return undefined there so callers fall back.
import * as tf from '@tensorflow/tfjs';
import { registerFusedConv } from './fused-conv';
import { alias, installLeanSaves } from './lean-ops';

const RELU_GRAD = 'AutoganNativeReluGrad';
const MATMUL = 'AutoganNativeMatMul';
const BN_TRAIN = 'AutoganNativeBatchNormTrain';
const BN_GRAD = 'AutoganNativeBatchNormGrad';
const RESIZE = 'AutoganNativeResizeBilinear';
const BIAS_ADD = 'AutoganNativeBiasAdd';
const BIAS_ADD_GRAD = 'AutoganNativeBiasAddGrad';
const RESIZE_GRAD = 'AutoganNativeResizeBilinearGrad';

export interface Binding {
  TF_ATTR_BOOL: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_STRING: number;
  TF_ATTR_INT: number;
  TF_ATTR_TYPE: number;
  TF_FLOAT: number;
}

export interface NodeBackendLike {
  binding: Binding;
  executeSingleOutput(name: string, attrs: unknown[], inputs: tf.TensorInfo[]): tf.TensorInfo;
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: tf.TensorInfo[], n: number): tf.TensorInfo[];
}

let installed = false;
let enabled = true;

/** True when the native kernels can be used for tensors on the current backend. */
export function nativeOpsActive(): boolean {
  return installed && enabled && tf.getBackend() === 'tensorflow';
}

/** Turns the native kernels off (the portable path) or back on: for tests and benchmarks. */
export function setNativeOpsEnabled(on: boolean): void {
  enabled = on;
}

type OpAttr = (name: string, dtype: tf.DataType) => unknown;

/** What every native kernel registration shares: the type attributes and attribute builders. */
export interface KernelKit {
  T: unknown;
  U: unknown;
  bool: (b: Binding, name: string, value: boolean) => unknown;
  float: (b: Binding, name: string, value: number) => unknown;
  str: (b: Binding, name: string, value: string) => unknown;
  kernel: (kernelName: string, kernelFunc: tf.KernelFunc) => void;
  /** TensorFlow's BiasAddGrad: dy summed over every axis but the last. */
  biasGrad: (dy: tf.Tensor) => tf.Tensor;
}

/** Installs the native kernels; `opAttr` builds TensorFlow's type attribute (from tfjs-node). */
export function installNativeOps(opAttr: OpAttr): void {
  if (installed) return;
  installed = true;
  installLeanSaves(nativeOpsActive);
  const kit: KernelKit = {
    T: opAttr('T', 'float32'),
    U: opAttr('U', 'float32'),
    bool: (b, name, value) => ({ name, type: b.TF_ATTR_BOOL, value }),
    float: (b, name, value) => ({ name, type: b.TF_ATTR_FLOAT, value }),
    str: (b, name, value) => ({ name, type: b.TF_ATTR_STRING, value }),
    kernel: (kernelName, kernelFunc) => {
      tf.registerKernel({ kernelName, backendName: 'tensorflow', kernelFunc });
    },
    biasGrad: (dy) => tf.engine().runKernel(BIAS_ADD_GRAD, { dy }) as tf.Tensor,
  };
  registerCast();
  registerReluGrad(kit);
  registerMatMul(kit);
  registerBatchNorm(kit);
  registerBiasAdd(kit);
  registerResize(kit);
  registerFusedConv(kit);
}

/** A Cast to the own dtype shares the buffer. */
function registerCast(): void {
  // A Cast to the tensor's own dtype is a copy: tfjs casts unconditionally (after every AvgPool, in
  // tfjs-node's Mean, in tf.moments), ~3–50 native dispatches per training step. Share the buffer
  // instead, as tfjs's CPU backend does for Identity; real conversions keep tfjs-node's kernel.
  const cast = tf.getKernel('Cast', 'tensorflow');
  if (cast) {
    tf.unregisterKernel('Cast', 'tensorflow');
    tf.registerKernel({
      ...cast,
      kernelFunc: (args) => {
        const x = args.inputs.x as tf.TensorInfo;
        if (!enabled || x.dtype !== (args.attrs as { dtype: tf.DataType }).dtype)
          return cast.kernelFunc(args);
        (args.backend as unknown as { incRef(id: tf.DataId): void }).incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      },
    });
  }
}

/** ReluGrad, and ReLU's gradient through it. */
function registerReluGrad({ T, kernel }: KernelKit): void {
  kernel(RELU_GRAD, ({ inputs, backend }) =>
    (backend as unknown as NodeBackendLike).executeSingleOutput('ReluGrad', [T], [inputs.dy!, inputs.x!]),
  );
  // The gradient reads ReLU's output, not its input (y > 0 exactly where x > 0, so the mask is the
  // same bit for bit; TensorFlow's own ReLU gradient does this too). The output is what the next
  // convolution saves anyway, so the backward pass holds one activation where the input would add a
  // second (tensors saved for the paper-retraining-size G step: 1.64 → 1.23 GB, bench:step-memory).
  tf.registerGradient({
    kernelName: 'Relu',
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [y] = saved;
      const g = Array.isArray(dy) ? dy[0] : dy;
      if (nativeOpsActive() && y.dtype === 'float32')
        return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: g, x: y }) as tf.Tensor };
      return { x: () => tf.mul(g, tf.step(tf.cast(y, 'float32'))) };
    },
  });
}

/** MatMul on 2-D tensors, and its gradient. */
function registerMatMul({ T, bool, kernel }: KernelKit): void {
  kernel(MATMUL, ({ inputs, backend, attrs }) => {
    const be = backend as unknown as NodeBackendLike;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    return be.executeSingleOutput(
      'MatMul',
      [T, bool(be.binding, 'transpose_a', transposeA), bool(be.binding, 'transpose_b', transposeB)],
      [inputs.a!, inputs.b!],
    );
  });
  tf.registerGradient({
    kernelName: MATMUL,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as tf.Tensor2D[];
      const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor2D;
      const { transposeA: ta, transposeB: tb } = attrs as { transposeA: boolean; transposeB: boolean };
      // C = op(A)·op(B): dA = dC·op(B)ᵀ (transposed back when A was), dB likewise.
      return {
        a: () => (ta ? runMatMul(b, g, tb, true) : runMatMul(g, b, false, !tb)),
        b: () => (tb ? runMatMul(g, a, true, ta) : runMatMul(a, g, !ta, false)),
      };
    },
  });
}

/** Train-mode batch norm as FusedBatchNormV3 and its gradient kernel. */
function registerBatchNorm({ T, U, bool, float, str, kernel }: KernelKit): void {
  kernel(BN_TRAIN, ({ inputs, backend, attrs }) => {
    const be = backend as unknown as NodeBackendLike;
    const { epsilon, momentum } = attrs as { epsilon: number; momentum: number };
    return be.executeMultipleOutputs(
      'FusedBatchNormV3',
      [
        T,
        U,
        float(be.binding, 'epsilon', epsilon),
        float(be.binding, 'exponential_avg_factor', momentum),
        str(be.binding, 'data_format', 'NHWC'),
        bool(be.binding, 'is_training', true),
      ],
      [inputs.x!, inputs.scale!, inputs.offset!, inputs.mean!, inputs.variance!],
      6,
    );
  });
  kernel(BN_GRAD, ({ inputs, backend, attrs }) => {
    const be = backend as unknown as NodeBackendLike;
    const { epsilon } = attrs as { epsilon: number };
    return be.executeMultipleOutputs(
      'FusedBatchNormGradV3',
      [
        T,
        U,
        float(be.binding, 'epsilon', epsilon),
        str(be.binding, 'data_format', 'NHWC'),
        bool(be.binding, 'is_training', true),
      ],
      [inputs.dy!, inputs.x!, inputs.scale!, inputs.r1!, inputs.r2!, inputs.r3!],
      5,
    );
  });
  tf.registerGradient({
    kernelName: BN_TRAIN,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, false, false, true, true, true],
    gradFunc: (dy, saved, attrs) => {
      const [x, scale, r1, r2, r3] = saved;
      const g = Array.isArray(dy) ? dy[0] : dy;
      const [dx, dScale, dOffset, r4, r5] = tf
        .engine()
        .runKernel(BN_GRAD, { dy: g, x, scale, r1, r2, r3 }, attrs) as tf.Tensor[];
      tf.dispose([r4, r5]);
      return {
        x: () => dx,
        scale: () => dScale,
        offset: () => dOffset,
        mean: () => tf.zerosLike(r1),
        variance: () => tf.zerosLike(r2),
      };
    },
  });
}

/** BiasAdd / BiasAddGrad. */
function registerBiasAdd({ T, str, kernel }: KernelKit): void {
  const nhwc = (b: Binding) => [T, str(b, 'data_format', 'NHWC')];
  kernel(BIAS_ADD, ({ inputs, backend }) => {
    const be = backend as unknown as NodeBackendLike;
    return be.executeSingleOutput('BiasAdd', nhwc(be.binding), [inputs.x!, inputs.bias!]);
  });
  kernel(BIAS_ADD_GRAD, ({ inputs, backend }) => {
    const be = backend as unknown as NodeBackendLike;
    return be.executeSingleOutput('BiasAddGrad', nhwc(be.binding), [inputs.dy!]);
  });
  tf.registerGradient({
    kernelName: BIAS_ADD,
    gradFunc: (dy) => {
      const g = Array.isArray(dy) ? dy[0] : dy;
      return {
        x: () => alias(g),
        bias: () => tf.engine().runKernel(BIAS_ADD_GRAD, { dy: g }) as tf.Tensor,
      };
    },
  });
}

/** ResizeBilinear / ResizeBilinearGrad with half-pixel centers. */
function registerResize({ T, bool, kernel }: KernelKit): void {
  const resizeAttrs = (b: Binding) => [
    T,
    bool(b, 'align_corners', false),
    bool(b, 'half_pixel_centers', true),
  ];
  kernel(RESIZE, ({ inputs, backend, attrs }) => {
    const be = backend as unknown as NodeBackendLike;
    const { size } = attrs as { size: [number, number] };
    const sizeTensor = tf.tensor1d(size, 'int32');
    try {
      return be.executeSingleOutput('ResizeBilinear', resizeAttrs(be.binding), [inputs.x!, sizeTensor]);
    } finally {
      sizeTensor.dispose();
    }
  });
  kernel(RESIZE_GRAD, ({ inputs, backend }) => {
    const be = backend as unknown as NodeBackendLike;
    return be.executeSingleOutput('ResizeBilinearGrad', resizeAttrs(be.binding), [inputs.dy!, inputs.x!]);
  });
  tf.registerGradient({
    kernelName: RESIZE,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const g = Array.isArray(dy) ? dy[0] : dy;
      return { x: () => tf.engine().runKernel(RESIZE_GRAD, { dy: g, x: saved[0] }) as tf.Tensor };
    },
  });
}

function runMatMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  return tf.engine().runKernel(MATMUL, { a, b }, { transposeA, transposeB }) as tf.Tensor2D;
}

/** op(a)·op(b) for rank-2 tensors: one TensorFlow MatMul on the native backend, tf.matMul elsewhere. */
export function matMul2d(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA = false,
  transposeB = false,
): tf.Tensor2D {
  if (nativeOpsActive() && a.dtype === 'float32' && b.dtype === 'float32')
    return runMatMul(a, b, transposeA, transposeB);
  return tf.matMul(a, b, transposeA, transposeB);
}

/** x + bias over the last axis: TensorFlow's BiasAdd on the native backend, tf.add elsewhere. */
export function biasAdd<T extends tf.Tensor>(x: T, bias: tf.Tensor): T {
  if (nativeOpsActive() && x.dtype === 'float32' && bias.rank === 1 && x.rank >= 2)
    return tf.engine().runKernel(BIAS_ADD, { x, bias }) as T;
  return tf.add(x, bias);
}

/**
 * Train-mode batch norm over N, H, W of an NHWC tensor in one native kernel, with PyTorch's
 * running-stat update (momentum, unbiased batch variance). Undefined off the native backend.
 */
export function fusedBatchNormTrain(
  x: tf.Tensor4D,
  scale: tf.Tensor,
  offset: tf.Tensor,
  runMean: tf.Tensor,
  runVar: tf.Tensor,
  epsilon: number,
  momentum: number,
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } | undefined {
  if (!nativeOpsActive() || x.dtype !== 'float32') return undefined;
  const out = tf
    .engine()
    .runKernel(
      BN_TRAIN,
      { x, scale, offset, mean: runMean, variance: runVar },
      { epsilon, momentum },
    ) as tf.Tensor[];
  return { y: out[0] as tf.Tensor4D, mean: out[1] as tf.Tensor1D, variance: out[2] as tf.Tensor1D };
}

/**
 * Bilinear resize of an NHWC tensor with PyTorch's align_corners=False geometry (half-pixel
 * centres), forward and gradient in TensorFlow's kernels. Undefined off the native backend.
 */
export function resizeBilinearHalfPixel(x: tf.Tensor4D, size: [number, number]): tf.Tensor4D | undefined {
  if (!nativeOpsActive() || x.dtype !== 'float32') return undefined;
  return tf.engine().runKernel(RESIZE, { x }, { size }) as tf.Tensor4D;
}
