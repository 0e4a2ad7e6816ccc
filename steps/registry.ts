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
];

const byName = new Map(STEP_TYPES.map((s) => [s.type, s]));

export function stepType(name: string): StepType | undefined {
  return byName.get(name);
}

export function stepTypes(): readonly StepType[] {
  return STEP_TYPES;
}

/** Adds a step type (used by later modules; duplicate names are a programming error). */
export function registerStepType(def: StepType): void {
  if (byName.has(def.type)) throw new Error(`step type ${def.type} is already registered`);
  STEP_TYPES.push(def);
  byName.set(def.type, def);
}
