// Every workflow type a worker registers. `autogan-search` and `autogan-retrain` are the names
// users start with `temporal workflow start --type …`.
export { pipelineWorkflow, pipelineStatusQuery } from './pipeline';
export {
  autoganSearch as 'autogan-search',
  progressQuery,
  pauseSignal,
  resumeSignal,
  stopSignal,
} from './search';
export { autoganRetrain as 'autogan-retrain' } from './retrain';
export { autoganStudy as 'autogan-study', studyStatusQuery } from './study';
