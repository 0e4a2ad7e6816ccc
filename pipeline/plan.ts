// The resolved, fully-defaulted pipeline that the DAG workflow executes. Plain JSON: it crosses the
// Temporal boundary, so this module must stay free of Node and tfjs imports.

export interface RetrySpec {
  maximumAttempts: number;
  initialInterval: string;
  backoffCoefficient: number;
  maximumInterval: string;
}

export interface TimeoutSpec {
  /** Longest a single attempt may run. */
  startToClose: string;
  /** Longest an attempt may go without a heartbeat (long activities heartbeat). */
  heartbeat?: string;
}

export interface DatasetRef {
  kind: 'mnist' | 'cifar10' | 'stl10' | 'folder';
  path?: string;
  imageSize?: number;
  channels?: number;
}

/**
 * S3-compatible object storage behind the artifact store (`spec.artifacts.s3`). Never credentials:
 * workers take those from their environment. Each field left out falls back to the worker's
 * AUTOGAN_S3_* environment variable.
 */
export interface S3Settings {
  bucket: string;
  /** Key prefix: objects go to <prefix>/objects/<aa>/<sha256>.<ext>, run outputs to <prefix>/runs/<run id>/. */
  prefix?: string;
  /** Endpoint URL of an S3-compatible server (MinIO, Ceph, …); default: AWS S3. */
  endpoint?: string;
  region?: string;
  /** Path-style addressing (<endpoint>/<bucket>/<key>). @default true when an endpoint is given */
  forcePathStyle?: boolean;
}

export interface PlanSpec {
  dataset: DatasetRef;
  backend: 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'cpu';
  /** `path`: the local store, or each worker's read-through cache when `s3` (or the worker's env) names a bucket. */
  artifacts: { path: string; s3?: S3Settings };
  seed: number;
  taskQueues: { control: string; gpu: string };
}

/**
 * What every training step's parameters take from the pipeline's spec, flattened (the artifact
 * store's path as `artifacts`, its bucket as `s3`).
 */
export interface SpecParams {
  /** Required. */
  dataset: DatasetRef;
  /** Artifact store directory (absolute on the workers). Required. */
  artifacts: string;
  /** S3-compatible storage behind the store (`artifacts` is then each worker's cache); from the pipeline's spec.artifacts.s3. */
  s3?: S3Settings;
  /** @default 12345 */
  seed: number;
  /** @default 'auto' */
  backend: 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'cpu';
  /** @default { control: 'autogan-control', gpu: 'autogan-gpu' } */
  taskQueues: { control: string; gpu: string };
}

/** A step's spec fields as its parameters name them (pure: workflow code calls it). */
export function specParams(spec: PlanSpec): SpecParams {
  return {
    dataset: spec.dataset,
    artifacts: spec.artifacts.path,
    ...(spec.artifacts.s3 ? { s3: spec.artifacts.s3 } : {}),
    seed: spec.seed,
    backend: spec.backend,
    taskQueues: spec.taskQueues,
  };
}

export interface PlanStep {
  id: string;
  uses: string;
  needs: string[];
  with: Record<string, unknown>;
  /** Fan-out: one run of this step per element of `step`'s list output `output`. */
  forEach?: { step: string; output: string };
  retry: RetrySpec;
  timeout: TimeoutSpec;
  taskQueue: string;
  /** How the step type runs: an activity, or a child workflow (long, checkpointed work). */
  execution: 'activity' | 'workflow';
  /** The activity name or workflow type that implements the step type. */
  target: string;
}

export interface Plan {
  apiVersion: string;
  name: string;
  description?: string;
  /** The YAML file the plan came from (for messages only). */
  source: string;
  spec: PlanSpec;
  /** Steps in a dependency order (every step after all of its needs). */
  steps: PlanStep[];
  /** Set by `autogan resume <pipeline run>`: what an earlier run of this plan finished or saved. */
  resume?: PlanResume;
}

/**
 * What a resumed pipeline run takes from the run it continues: finished steps and fan-out items
 * are reused as they are, a search that stopped part-way continues from its saved state, and
 * everything else runs.
 */
export interface PlanResume {
  /** The workflow id of the run this one continues. */
  from: string;
  /** Outputs of the steps that finished there. */
  outputs: Record<string, StepOutput | FanOutOutput>;
  /** Fan-out runs that finished there, by step id and item index. */
  items: Record<string, Record<string, StepOutput>>;
  /** Searches that stopped part-way: the direct input (parameters and saved state) to continue each. */
  searches: Record<string, Record<string, unknown>>;
}

/** What every step implementation receives. `with` has all templates resolved. */
export interface StepInput {
  pipeline: string;
  stepId: string;
  /** Index within a forEach fan-out. */
  index?: number;
  with: Record<string, unknown>;
  spec: PlanSpec;
  /** Id of the pipeline workflow run, for naming artifacts. */
  runId: string;
}

/** A step's output: small JSON only (ids, numbers, artifact references), never weights or images. */
export type StepOutput = Record<string, unknown>;

/** A fan-out step's output: the outputs of its runs, in item order. */
export interface FanOutOutput {
  items: StepOutput[];
}

export interface PipelineResult {
  pipeline: string;
  outputs: Record<string, StepOutput | FanOutOutput>;
}
