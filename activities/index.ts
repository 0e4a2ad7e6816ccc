// Every activity a worker registers, by the names the step registry's `target` uses.
export { datasetInspect, datasetStats } from './dataset';
export * from './search';
export * from './retrain';
export * from './evaluate';
export * from './study';
