// Gradients that tfjs-node computes through many small ops where TensorFlow has one kernel. The
// ReLU gradient is tfjs's `dy · step(x)`: Cast, IsNan, Greater, a JS-filled ones tensor uploaded
// to TensorFlow, Fill and two Selects per ReLU — about a quarter of a demo-size training step.
// On the native backend it becomes TensorFlow's own ReluGrad (bit-identical: dy where x > 0,
// else 0); every other backend keeps tfjs's formula.
import * as tf from '@tensorflow/tfjs';

const RELU_GRAD = 'AutoganNativeReluGrad';
let installed = false;

interface NodeBackendLike {
  executeSingleOutput(name: string, attrs: unknown[], inputs: tf.TensorInfo[]): tf.TensorInfo;
}

/** Installs the native gradients; `opAttr` builds TensorFlow's type attribute (from tfjs-node). */
export function installNativeGradients(opAttr: (name: string, dtype: tf.DataType) => unknown): void {
  if (installed) return;
  installed = true;
  tf.registerKernel({
    kernelName: RELU_GRAD,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) =>
      (backend as unknown as NodeBackendLike).executeSingleOutput(
        'ReluGrad',
        [opAttr('T', 'float32')],
        [inputs.dy!, inputs.x!],
      ),
  });
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      const g = Array.isArray(dy) ? dy[0] : dy;
      if (tf.getBackend() === 'tensorflow' && x.dtype === 'float32')
        return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: g, x }) as tf.Tensor };
      return { x: () => tf.mul(g, tf.step(tf.cast(x, 'float32'))) };
    },
  });
}
