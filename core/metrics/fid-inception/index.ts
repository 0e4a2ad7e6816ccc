// The FID-standard Inception (2015-12-05 graph, as pytorch-fid / torch-fidelity port it) in tfjs.
export { FidInception, type FidInceptionOptions, type FidInceptionOutput } from './network';
export { networkInputFromPixels, pixelsFromUnit, resizeBilinearTf1Legacy } from './preprocess';
export * from './spec';
export { syntheticPixels, syntheticStateDict, type StateDict, type StateTensor } from './synthetic';
export {
  CHECKPOINT_KIND,
  WEIGHTS_FILE,
  loadFidInception,
  readFidInceptionWeights,
  saveFidInceptionWeights,
  weightsFile,
  type FidInceptionProvenance,
} from './weights';
export {
  PUBLISHED_FILE,
  PUBLISHED_SHA256_PREFIX,
  convertFidInception,
  type ConvertOptions,
  type ConvertResult,
} from './convert';
