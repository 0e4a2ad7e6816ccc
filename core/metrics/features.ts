// Feature networks behind one interface: images in [-1, 1] → class probabilities (for IS) and pooled
// features (for FID). The FID-standard Inception converted from the published weights
// (`fid-inception:<dir>`, core/metrics/fid-inception/), a TensorFlow.js model from a path or URL, or
// the bundled digit classifier for offline runs, the demo and tests.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { projectRoot } from '../paths';
import { fidInceptionDir } from './fid-inception/ref';
import { loadFidInception } from './fid-inception/weights';

export { FID_INCEPTION_PREFIX, expandNetworkShorthand, fidInceptionOptions } from './fid-inception/ref';

export interface FeatureNetwork {
  name: string;
  classes: number;
  featureDim: number;
  run(images: tf.Tensor4D): { probs: tf.Tensor2D; features: tf.Tensor2D };
  dispose(): void;
}

/**
 * What a saved 8-bit PNG would hold, as the reference scores images: scale to [0, 255], clamp,
 * truncate, then back to [-1, 1].
 */
export function quantize(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(
    () =>
      tf
        .floor(tf.clipByValue(tf.add(tf.mul(images, 127.5), 127.5), 0, 255))
        .div(127.5)
        .sub(1) as tf.Tensor4D,
  );
}

export interface TfjsNetworkOptions {
  /**
   * Local directory or model.json path, or an http(s) URL of model.json; with format
   * 'fid-inception', the directory of the converted weights.
   */
  source: string;
  /** 'fid-inception': the built-in FID Inception; the other fields are then fixed and ignored. */
  format: 'graph' | 'layers' | 'fid-inception';
  /** Square input side the network expects (299 for Inception-v3). */
  inputSize: number;
  inputChannels: 1 | 3;
  /** Value range the network expects (Inception-v3 from TF-Hub/Keras: [-1, 1]). */
  inputRange: '[-1,1]' | '[0,1]' | '[0,255]';
  /** Output node (graph) or layer (layers) with class logits or probabilities; default: the model output. */
  probsNode?: string;
  /** Node or layer with pooled features (pool_3 / avg_pool for Inception-v3). */
  featuresNode: string;
  /** Apply softmax to the probs node (when it holds logits). */
  softmax: boolean;
  name?: string;
}

/** Reads a tfjs model (model.json + weight shards) from disk, for any backend (no tfjs-node needed). */
export function fileHandler(source: string): tf.io.IOHandler {
  const modelJson =
    fs.existsSync(source) && fs.statSync(source).isDirectory() ? path.join(source, 'model.json') : source;
  return {
    async load() {
      if (!fs.existsSync(modelJson)) throw new Error(`feature network: ${modelJson} does not exist`);
      const json = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
      const dir = path.dirname(modelJson);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const f = path.join(dir, p);
          if (!fs.existsSync(f))
            throw new Error(`feature network: weight file ${f} (listed in ${modelJson}) does not exist`);
          buffers.push(fs.readFileSync(f));
        }
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        ...(json.signature ? { signature: json.signature } : {}),
        ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

function adapt(images: tf.Tensor4D, o: TfjsNetworkOptions): tf.Tensor4D {
  let x = images;
  if (x.shape[1] !== o.inputSize || x.shape[2] !== o.inputSize)
    x = tf.image.resizeBilinear(x, [o.inputSize, o.inputSize], false, true);
  if (x.shape[3] === 1 && o.inputChannels === 3) x = tf.tile(x, [1, 1, 1, 3]);
  else if (x.shape[3] === 3 && o.inputChannels === 1) x = tf.mean(x, 3, true);
  if (o.inputRange === '[0,1]') x = tf.div(tf.add(x, 1), 2);
  else if (o.inputRange === '[0,255]') x = tf.mul(tf.add(x, 1), 127.5);
  return x;
}

export async function loadTfjsNetwork(o: TfjsNetworkOptions): Promise<FeatureNetwork> {
  // A `fid-inception:<dir>` string that reached a caller without pipeline validation (a workflow
  // started by hand) still means the FID Inception.
  const dir = fidInceptionDir(o);
  if (dir !== undefined) return loadFidInception(dir);
  if (o.format === 'fid-inception') return loadFidInception(o.source, o.name ? { name: o.name } : {});
  const io = /^https?:\/\//.test(o.source) ? o.source : fileHandler(o.source);
  const name = o.name ?? o.source;
  if (o.format === 'layers') {
    const model = await tf.loadLayersModel(io);
    let featLayer;
    try {
      featLayer = model.getLayer(o.featuresNode);
    } catch {
      throw new Error(
        `feature network ${name}: no layer "${o.featuresNode}" (layers: ${model.layers.map((l) => l.name).join(', ')})`,
      );
    }
    const probsOut = o.probsNode ? model.getLayer(o.probsNode).output : model.outputs[0];
    const sub = tf.model({
      inputs: model.inputs,
      outputs: [probsOut as tf.SymbolicTensor, featLayer.output as tf.SymbolicTensor],
    });
    const classes = (sub.outputs[0].shape[1] as number) ?? 0;
    const featureDim = (sub.outputs[1].shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    return {
      name,
      classes,
      featureDim,
      run(images) {
        return tf.tidy(() => {
          const [p, f] = sub.predict(adapt(images, o)) as tf.Tensor[];
          return {
            probs: (o.softmax ? tf.softmax(p) : p) as tf.Tensor2D,
            features: tf.reshape(f, [f.shape[0], -1]) as tf.Tensor2D,
          };
        });
      },
      dispose: () => model.dispose(),
    };
  }
  const model = await tf.loadGraphModel(io);
  const probsNode = o.probsNode ?? model.outputs[0].name;
  const probe = tf.tidy(() => {
    const outs = model.execute(tf.zeros([1, o.inputSize, o.inputSize, o.inputChannels]), [
      probsNode,
      o.featuresNode,
    ]) as tf.Tensor[];
    return [outs[0].size, outs[1].size];
  }) as unknown as number[];
  return {
    name,
    classes: probe[0],
    featureDim: probe[1],
    run(images) {
      return tf.tidy(() => {
        const [p, f] = model.execute(adapt(images, o), [probsNode, o.featuresNode]) as tf.Tensor[];
        const p2 = tf.reshape(p, [p.shape[0], -1]);
        return {
          probs: (o.softmax ? tf.softmax(p2) : p2) as tf.Tensor2D,
          features: tf.reshape(f, [f.shape[0], -1]) as tf.Tensor2D,
        };
      });
    },
    dispose: () => model.dispose(),
  };
}

/**
 * A feature network by reference: 'digits', `fid-inception:<dir>`, or tfjs model options (what
 * pipelines' `network:` and the CLI's `--network` accept).
 */
export function loadFeatureNetwork(ref: 'digits' | string | TfjsNetworkOptions): Promise<FeatureNetwork> {
  if (ref === 'digits') return loadDigitClassifier();
  if (typeof ref === 'string') {
    const dir = fidInceptionDir(ref);
    if (dir === undefined)
      throw new Error(
        `unknown feature network "${ref}": expected digits, fid-inception:<dir> or model options`,
      );
    return loadFidInception(dir);
  }
  return loadTfjsNetwork(ref);
}

export const DIGIT_CLASSIFIER_DIR = () => path.join(projectRoot(), 'core', 'metrics', 'digit-classifier');

/** The bundled classifier of the embedded digits (16×16, 1 channel, 10 classes, 64-d features). */
export function loadDigitClassifier(): Promise<FeatureNetwork> {
  return loadTfjsNetwork({
    source: DIGIT_CLASSIFIER_DIR(),
    format: 'layers',
    inputSize: 16,
    inputChannels: 1,
    inputRange: '[-1,1]',
    featuresNode: 'features',
    softmax: false,
    name: 'digit-classifier',
  });
}
