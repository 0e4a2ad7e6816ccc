// Every workflow type a worker registers. Later features export theirs here.
export { pipelineWorkflow, pipelineStatusQuery } from './pipeline';
