// YAML study → validated StudyPlan: one pipeline plan per (variant, seed) cell, each the base with
// the variant's overlay, the study's seed and its one retrain/evaluate budget. Every cell goes
// through the pipeline loader, so a cell that would not validate as a pipeline stops the study
// before anything starts, with the file, line and column of the value at fault.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { loadChain, readPipelineFile } from './extends';
import {
  explain,
  formatIssue,
  loadPipeline,
  parsePipeline,
  PipelineInvalidError,
  schemaValidator,
  significant,
  type PipelineIssue,
} from './load';
import { formatPath, positionOf, type JsonPath } from './positions';
import type { Plan, PlanStep } from './plan';

/** The retrain/evaluate budget every variant gets (the study's fairness rule). */
export interface StudyBudget {
  /** Generator iterations of each retrain from scratch. */
  retrainIterations: number;
  /** Images of each retrain's final IS/FID. @default 1000 */
  evalImages: number;
  /** Images of the evaluate step's IS/FID (the study's score). @default 2000 */
  evaluateImages: number;
  /** Architectures derived and retrained per search. @default 1 */
  topK: number;
}

export interface StudyCell {
  /** `<variant>.seed<seed>`: with the study's id, the cell's workflow id and run folder. */
  id: string;
  variant: string;
  seed: number;
  plan: Plan;
}

export interface StudyProxy {
  /** The variant whose final supernets score the architectures. */
  variant: string;
  /** Best distinct architectures of each of its seeds' derive candidates. @default 2 */
  policyPerSeed: number;
  /** Distinct uniformly drawn architectures. @default 6 */
  random: number;
  /** Retrain iterations of each, from scratch. @default 2000 */
  iterations: number;
  /** Paired image draws each architecture is scored on, per supernet. @default 3 */
  draws: number;
  /** A pipeline of one retrain step: the template each architecture's retrain is made from. */
  retrain: Plan;
}

export interface StudyPlan {
  apiVersion: string;
  name: string;
  description?: string;
  source: string;
  /** The base pipeline file. */
  base: string;
  seeds: number[];
  concurrency: number;
  reference: string;
  budget: StudyBudget;
  variants: Array<{ name: string; description?: string; pipeline: string }>;
  cells: StudyCell[];
  proxy?: StudyProxy;
  /** Where the study's folder goes (the base pipeline's artifact path). */
  artifacts: string;
  taskQueues: Plan['spec']['taskQueues'];
}

export class StudyInvalidError extends PipelineInvalidError {
  constructor(issues: PipelineIssue[]) {
    super(issues);
    this.message = `invalid study:\n${issues.map(formatIssue).join('\n')}`;
    this.name = 'StudyInvalidError';
  }
}

type Raw = Record<string, unknown>;

interface RawVariant {
  name: string;
  description?: string;
  pipeline?: string;
  with?: Record<string, Raw>;
}

/** Step ids of a plan by step type. */
const idsOf = (plan: Plan, uses: string) => plan.steps.filter((s) => s.uses === uses).map((s) => s.id);

/** The overlay that makes a cell: the variant's fields, the seed, the budget. */
function cellOverlay(variantPlan: Plan, v: RawVariant, seed: number, budget: StudyBudget, name: string): Raw {
  const steps = new Map<string, Raw>();
  const put = (id: string, w: Raw) => steps.set(id, { ...(steps.get(id) ?? {}), ...w });
  for (const [id, w] of Object.entries(v.with ?? {})) put(id, w);
  for (const id of idsOf(variantPlan, 'autogan.search')) put(id, { topK: budget.topK });
  for (const id of idsOf(variantPlan, 'autogan.derive')) put(id, { topK: budget.topK });
  for (const id of idsOf(variantPlan, 'autogan.retrain'))
    put(id, { iterations: budget.retrainIterations, evalImages: budget.evalImages });
  for (const id of idsOf(variantPlan, 'autogan.evaluate')) put(id, { images: budget.evaluateImages });
  return {
    extends: variantPlan.source,
    apiVersion: 'autogan/v1',
    kind: 'Pipeline',
    metadata: { name, description: `study cell: variant ${v.name}, seed ${seed}` },
    spec: { seed, steps: [...steps].map(([id, w]) => ({ id, with: w })) },
  };
}

/** A cell's pipeline name: `<study>-<variant>`, cut to the pipeline name's 63 characters. */
const cellName = (study: string, variant: string) => `${study}-${variant}`.slice(0, 63).replace(/-+$/, '');

type Add = (at: JsonPath, message: string, key?: boolean) => void;

/** The YAML, shaped by the study schema (defaults applied), or the issues that stop it there. */
function readStudyDoc(text: string, file: string): { data?: Raw; add: Add; issues: PipelineIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const issues: PipelineIssue[] = [];
  const add: Add = (at, message, key = false) => {
    const { line, col } = positionOf(doc, lines, at, key);
    issues.push({ file, line, col, path: formatPath(at), message });
  };
  for (const e of doc.errors) {
    const { line, col } = lines.linePos(e.pos[0]);
    issues.push({ file, line, col, path: '(yaml)', message: e.message.split('\n')[0] });
  }
  if (issues.length) return { add, issues };
  const data = doc.toJS() as Raw;
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    add([], 'a study file holds a mapping (apiVersion, kind, metadata, spec)');
  } else if (data.kind === 'Pipeline') {
    add(
      ['kind'],
      'this is a pipeline file (kind: Pipeline); a study file has kind: Study (run a pipeline with `autogan run`)',
    );
  } else {
    const validate = schemaValidator('study.schema.json');
    if (!validate(data))
      for (const err of significant(validate.errors ?? [])) {
        const e = explain(err, [], data);
        if (e) add(e.at, e.message, e.key);
      }
  }
  return issues.length ? { add, issues } : { data, add, issues };
}

/** Variant names are unique; the reference and the proxy's variant name one. */
function checkNames(
  spec: Raw,
  variants: RawVariant[],
  add: Add,
): { reference: string; proxyVariant: string } {
  const names = new Set<string>();
  variants.forEach((v, i) => {
    if (names.has(v.name)) add(['spec', 'variants', i, 'name'], `duplicate variant name "${v.name}"`);
    names.add(v.name);
  });
  const reference = (spec.reference as string | undefined) ?? variants[0].name;
  if (!names.has(reference))
    add(['spec', 'reference'], `no variant is named "${reference}" (variants: ${[...names].join(', ')})`);
  const rawProxy = spec.proxy as Raw | undefined;
  const proxyVariant = (rawProxy?.variant as string | undefined) ?? reference;
  if (rawProxy && !names.has(proxyVariant))
    add(['spec', 'proxy', 'variant'], `no variant is named "${proxyVariant}"`);
  return { reference, proxyVariant };
}

/** The base's plan and each variant's: a pipeline that extends the base (or the base itself). */
function loadVariants(
  base: string,
  baseAsWritten: string,
  dir: string,
  variants: RawVariant[],
  add: Add,
): { basePlan?: Plan; variantPlans: Plan[] } {
  let basePlan: Plan;
  try {
    basePlan = loadPipeline(base);
  } catch (err) {
    if (!(err instanceof PipelineInvalidError)) throw err;
    add(['spec', 'base'], `the base pipeline ${base} is invalid: ${err.issues.map(formatIssue).join('; ')}`);
    return { variantPlans: [] };
  }
  const variantPlans: Plan[] = [];
  variants.forEach((v, i) => {
    const file = v.pipeline ? path.resolve(dir, v.pipeline) : base;
    try {
      const p = loadPipeline(file);
      if (file !== base && !extendsFile(file, base))
        add(
          ['spec', 'variants', i, 'pipeline'],
          `${v.pipeline} does not extend the base ${baseAsWritten}: a variant is an overlay of the base (extends: …)`,
        );
      variantPlans.push(p);
    } catch (err) {
      if (!(err instanceof PipelineInvalidError)) throw err;
      add(['spec', 'variants', i, 'pipeline'], `invalid pipeline: ${err.issues.map(formatIssue).join('; ')}`);
    }
  });
  return { basePlan, variantPlans };
}

/** One pipeline per (variant, seed), each overlay validated as the pipeline it makes. */
function buildCells(
  variants: RawVariant[],
  variantPlans: Plan[],
  study: { name: string; dir: string; seeds: number[]; budget: StudyBudget },
  add: Add,
): StudyCell[] {
  const cells: StudyCell[] = [];
  variants.forEach((v, i) => {
    for (const [id] of Object.entries(v.with ?? {}))
      if (!variantPlans[i].steps.some((s) => s.id === id))
        add(['spec', 'variants', i, 'with', id], `no step "${id}" in the variant's pipeline`, true);
    for (const seed of study.seeds) {
      const overlay = cellOverlay(variantPlans[i], v, seed, study.budget, cellName(study.name, v.name));
      const virtual = path.join(study.dir, `${study.name}.${v.name}.seed${seed}.yaml`);
      const r = parsePipeline(JSON.stringify(overlay), virtual);
      if (!r.plan) {
        // The overlay's values come from the variant's `with` or from the budget.
        for (const issue of r.issues)
          add(
            v.with ? ['spec', 'variants', i, 'with'] : ['spec', 'budget'],
            `seed ${seed}: ${issue.path}: ${issue.message}`,
          );
        return;
      }
      const source = variantPlans[i].source;
      cells.push({ id: `${v.name}.seed${seed}`, variant: v.name, seed, plan: { ...r.plan, source } });
    }
  });
  return cells;
}

/** The proxy check of the named variant, which must have a search to score with and a retrain step. */
function buildProxy(
  raw: Raw,
  variant: string,
  plan: Plan,
  budget: StudyBudget,
  study: string,
  add: Add,
): StudyProxy | undefined {
  const retrain = plan.steps.find((s) => s.uses === 'autogan.retrain');
  if (!plan.steps.some((s) => s.uses === 'autogan.search'))
    add(['spec', 'proxy', 'variant'], `variant "${variant}" has no autogan.search step to score with`);
  else if (!retrain)
    add(['spec', 'proxy', 'variant'], `variant "${variant}" has no autogan.retrain step to retrain with`);
  else return proxyPlan(raw, variant, plan, retrain, budget, study);
  return undefined;
}

/** Parses and validates a study file; issues carry file, line and column. */
export function parseStudy(text: string, file: string): { plan?: StudyPlan; issues: PipelineIssue[] } {
  const { data, add, issues } = readStudyDoc(text, file);
  if (!data) return { issues };
  const spec = data.spec as Raw;
  const meta = data.metadata as { name: string; description?: string };
  const dir = path.dirname(path.resolve(file));
  const variants = spec.variants as RawVariant[];
  const budget = spec.budget as StudyBudget;
  const seeds = spec.seeds as number[];
  const { reference, proxyVariant } = checkNames(spec, variants, add);
  const base = path.resolve(dir, spec.base as string);
  const { basePlan, variantPlans } = loadVariants(base, spec.base as string, dir, variants, add);
  if (issues.length || !basePlan) return { issues };
  const cells = buildCells(variants, variantPlans, { name: meta.name, dir, seeds, budget }, add);
  const rawProxy = spec.proxy as Raw | undefined;
  const proxy =
    rawProxy && !issues.length
      ? buildProxy(
          rawProxy,
          proxyVariant,
          variantPlans[variants.findIndex((v) => v.name === proxyVariant)],
          budget,
          meta.name,
          add,
        )
      : undefined;
  if (issues.length) return { issues };
  return {
    issues,
    plan: {
      apiVersion: 'autogan/v1',
      name: meta.name,
      ...(meta.description ? { description: meta.description } : {}),
      source: file,
      base,
      seeds,
      concurrency: spec.concurrency as number,
      reference,
      budget,
      variants: variants.map((v, i) => ({
        name: v.name,
        ...(v.description ? { description: v.description } : {}),
        pipeline: variantPlans[i].source,
      })),
      cells,
      ...(proxy ? { proxy } : {}),
      artifacts: basePlan.spec.artifacts.path,
      taskQueues: basePlan.spec.taskQueues,
    },
  };
}

/** The proxy check's retrain template: the variant's retrain step, on its own, with the proxy's budget. */
function proxyPlan(
  raw: Raw,
  variant: string,
  plan: Plan,
  retrain: PlanStep,
  budget: StudyBudget,
  study: string,
): StudyProxy {
  const iterations = raw.iterations as number;
  const { forEach: _forEach, ...step } = retrain;
  const nCritic = Number((retrain.with.train as { nCritic?: number } | undefined)?.nCritic ?? 5);
  return {
    variant,
    policyPerSeed: raw.policyPerSeed as number,
    random: raw.random as number,
    iterations,
    draws: raw.draws as number,
    retrain: {
      ...plan,
      name: `${study}-proxy`.slice(0, 63),
      steps: [
        {
          ...step,
          needs: [],
          with: {
            ...retrain.with,
            iterations,
            evalImages: budget.evalImages,
            stepsPerActivity: Math.min(
              Number(retrain.with.stepsPerActivity ?? Infinity),
              iterations * nCritic,
            ),
          },
        },
      ],
    },
  };
}

/** Whether `file`'s extends chain reaches `base`. */
function extendsFile(file: string, base: string): boolean {
  const read = readPipelineFile(file);
  if ('issue' in read) return false;
  return loadChain(read.text, file).sources.some((s) => path.resolve(s.file) === base);
}

/** Reads and validates a study file; throws StudyInvalidError listing every issue. */
export function loadStudy(file: string): StudyPlan {
  if (!fs.existsSync(file))
    throw new StudyInvalidError([{ file, line: 1, col: 1, path: '(file)', message: 'file does not exist' }]);
  const read = readPipelineFile(file);
  if ('issue' in read) throw new StudyInvalidError([read.issue]);
  const { plan, issues } = parseStudy(read.text, file);
  if (!plan) throw new StudyInvalidError(issues);
  return plan;
}
