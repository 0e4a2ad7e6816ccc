// Loads the native backend and compares the ops AutoGAN relies on with pure JS on random inputs.
// Prints one JSON line (VerifyReport). Run in its own process by tools/native-backend.ts.
import * as tf from '@tensorflow/tfjs';

type Fn = () => tf.Tensor | tf.Tensor[];

async function run(backend: string, fn: Fn): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend)
    throw new Error(`backend ${backend} is not available`);
  return tf.tidy(() => {
    const out = fn();
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
}

function inputs(seed: number) {
  return {
    x: tf.randomNormal([2, 9, 9, 5], 0, 1, 'float32', seed),
    w: tf.randomNormal([3, 3, 5, 4], 0, 1, 'float32', seed + 1),
    a: tf.randomNormal([33, 17], 0, 1, 'float32', seed + 2),
    b: tf.randomNormal([17, 29], 0, 1, 'float32', seed + 3),
    img: tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', seed + 4),
  };
}

interface RawBackend {
  binding: Record<string, number>;
  executeSingleOutput(name: string, attrs: unknown[], inputs: tf.TensorInfo[]): tf.TensorInfo;
}

function fusedConv2d(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const be = tf.backend() as unknown as RawBackend;
  const b = be.binding;
  const attr = (name: string, type: string, value: unknown) => ({ name, type: b[type], value });
  const info = be.executeSingleOutput(
    '_FusedConv2D',
    [
      attr('T', 'TF_ATTR_TYPE', b.TF_FLOAT),
      attr('strides', 'TF_ATTR_INT', [1, 1, 1, 1]),
      attr('padding', 'TF_ATTR_STRING', 'SAME'),
      attr('explicit_paddings', 'TF_ATTR_INT', []),
      attr('data_format', 'TF_ATTR_STRING', 'NHWC'),
      attr('dilations', 'TF_ATTR_INT', [1, 1, 1, 1]),
      attr('use_cudnn_on_gpu', 'TF_ATTR_BOOL', true),
      attr('fused_ops', 'TF_ATTR_STRING', ['BiasAdd']),
      attr('num_args', 'TF_ATTR_INT', 1),
      attr('TArgs', 'TF_ATTR_TYPE', [b.TF_FLOAT]),
      attr('epsilon', 'TF_ATTR_FLOAT', 0.0001),
    ],
    [x, w, bias],
  );
  return tf.engine().makeTensorFromTensorInfo(info);
}

async function main() {
  // tfjs-node or, for the GPU build, tfjs-node-gpu (both register the 'tensorflow' backend).
  const pkg = process.env.AUTOGAN_VERIFY_PACKAGE || '@tensorflow/tfjs-node';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(pkg);
  const ops: Record<string, Fn> = {
    conv2d: () => {
      const { x, w } = inputs(1);
      return tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
    },
    'conv2d gradients (input, filter)': () => {
      const { x, w } = inputs(2);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf
          .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')
          .square()
          .sum(),
      );
      return g([x, w]);
    },
    conv2dTranspose: () => {
      const { x } = inputs(3);
      const w = tf.randomNormal([4, 4, 3, 5], 0, 1, 'float32', 9);
      return tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 18, 18, 3], 2, 'same');
    },
    matMul: () => {
      const { a, b } = inputs(4);
      return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
    },
    // The binding patch (tools/binding-patch.ts) passes list attributes: TensorFlow's fused
    // convolution (fused_ops, TArgs) against conv2d + bias on pure JS.
    'conv2d + bias as _FusedConv2D (list attributes)': () => {
      const { x, w } = inputs(8);
      const bias = tf.randomNormal([4], 0, 1, 'float32', 10);
      if (tf.getBackend() !== 'tensorflow')
        return tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), bias);
      return fusedConv2d(x, w, bias);
    },
    resizeBilinear: () => tf.image.resizeBilinear(inputs(5).img as tf.Tensor4D, [10, 10]),
    resizeNearestNeighbor: () => tf.image.resizeNearestNeighbor(inputs(6).img as tf.Tensor4D, [10, 10]),
    'resize gradients': () => {
      const g = tf.grads((t: tf.Tensor) =>
        tf.image
          .resizeBilinear(t as tf.Tensor4D, [10, 10])
          .square()
          .sum()
          .add(tf.image.resizeNearestNeighbor(t as tf.Tensor4D, [10, 10]).sum()),
      );
      return g([inputs(7).img]);
    },
  };
  const checks = [];
  for (const [op, fn] of Object.entries(ops)) {
    // Same seeds on both backends: tf.randomNormal with a seed is backend-independent (JS PRNG).
    const native = await run('tensorflow', fn);
    const js = await run('cpu', fn);
    let maxAbsDiff = 0;
    let scale = 1;
    native.forEach((n, i) => {
      for (let k = 0; k < n.length; k++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(n[k] - js[i][k]));
        scale = Math.max(scale, Math.abs(js[i][k]));
      }
    });
    const tolerance = 1e-4 * scale;
    checks.push({ op, maxAbsDiff, tolerance, ok: maxAbsDiff <= tolerance });
  }
  await tf.setBackend('tensorflow');
  // The binding knows whether TensorFlow's context holds a GPU device; tfjs-node always says false.
  const visible = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
  const gpu = pkg.endsWith('-gpu') ? { visible, devices: [] } : undefined;
  console.log(
    JSON.stringify({ package: pkg, backend: 'tensorflow', checks, ok: checks.every((c) => c.ok), gpu }),
  );
}

main().catch((err) => {
  console.error((err as Error).stack);
  process.exit(1);
});
