// Every step type a pipeline may `use`, in one place. Later features add their entries here; the
// validator, the planner and the workers all read this table.

export type OutputKind = 'list' | 'value';

export interface StepType {
  /** Name used in `uses:`. */
  type: string;
  summary: string;
  /** JSON Schema of `with`, a file in schemas/steps/. */
  schema: string;
  execution: 'activity' | 'workflow';
  /** Activity name or workflow type that implements it. */
  target: string;
  /** Queue class by default: light work on control, tensor work on gpu. */
  queue: 'control' | 'gpu';
  /** Named outputs; only `list` outputs can be fanned out with forEach. */
  outputs: Record<string, OutputKind>;
  /** Reads the pipeline's dataset (the validator then checks its files exist). */
  usesDataset: boolean;
  timeout: { startToClose: string; heartbeat?: string };
}

const STEP_TYPES: StepType[] = [
  {
    type: 'dataset.inspect',
    summary: "open the pipeline's dataset, check it and report its shape and shards",
    schema: 'dataset.inspect.schema.json',
    execution: 'activity',
    target: 'datasetInspect',
    queue: 'control',
    outputs: { name: 'value', count: 'value', shape: 'value', shards: 'list' },
    usesDataset: true,
    timeout: { startToClose: '10m' },
  },
  {
    type: 'dataset.stats',
    summary: 'pixel mean, std, min and max of a range of images',
    schema: 'dataset.stats.schema.json',
    execution: 'activity',
    target: 'datasetStats',
    queue: 'gpu',
    outputs: { count: 'value', mean: 'value', std: 'value', min: 'value', max: 'value', backend: 'value' },
    usesDataset: true,
    timeout: { startToClose: '30m', heartbeat: '1m' },
  },
  {
    type: 'autogan.search',
    summary:
      "AutoGAN's Algorithm 1: shared GAN + controller, growing, dynamic reset; ends with the top-K architectures",
    schema: 'autogan.search.schema.json',
    execution: 'workflow',
    target: 'autogan-search',
    queue: 'control',
    outputs: {
      topK: 'list',
      params: 'value',
      supernet: 'value',
      controller: 'value',
      beams: 'value',
      stage: 'value',
      iterations: 'value',
      rewards: 'value',
      resets: 'value',
      grown: 'value',
      history: 'value',
      computeSeconds: 'value',
      stopped: 'value',
      name: 'value',
    },
    usesDataset: true,
    timeout: { startToClose: '30d' },
  },
  {
    type: 'autogan.derive',
    summary: "sample M candidates from a finished search's policy, score each, keep the top K",
    schema: 'autogan.derive.schema.json',
    execution: 'activity',
    target: 'deriveStep',
    queue: 'gpu',
    outputs: { topK: 'list', candidates: 'list' },
    usesDataset: true,
    timeout: { startToClose: '24h', heartbeat: '5m' },
  },
  {
    type: 'autogan.retrain',
    summary:
      'train one derived architecture from scratch (checkpointed, resumable), with IS/FID along the way',
    schema: 'autogan.retrain.schema.json',
    execution: 'workflow',
    target: 'autogan-retrain',
    queue: 'control',
    outputs: {
      label: 'value',
      arch: 'value',
      checkpoint: 'value',
      steps: 'value',
      curve: 'value',
      final: 'value',
    },
    usesDataset: true,
    timeout: { startToClose: '30d' },
  },
  {
    type: 'autogan.evaluate',
    summary:
      'IS and FID of every retrained model; the winner by IS; sample grids and a summary in the run folder',
    schema: 'autogan.evaluate.schema.json',
    execution: 'activity',
    target: 'evaluateStep',
    queue: 'gpu',
    outputs: { winner: 'value', results: 'list', bestSamples: 'value', summary: 'value' },
    usesDataset: true,
    timeout: { startToClose: '24h', heartbeat: '5m' },
  },
];

const byName = new Map(STEP_TYPES.map((s) => [s.type, s]));

export function stepType(name: string): StepType | undefined {
  return byName.get(name);
}

export function stepTypes(): readonly StepType[] {
  return STEP_TYPES;
}
