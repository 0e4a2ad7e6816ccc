// YAML pipeline → validated, fully-defaulted Plan. Collects every problem before giving up, each
// with file:line:column, the field path and what was expected. Nothing runs until this succeeds.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { projectRoot } from '../core/paths';
import { FILE_DATASETS } from '../core/datasets';
import { expandNetworkShorthand } from '../core/metrics/fid-inception/ref';
import { stepType, stepTypes } from '../steps/registry';
import { findTemplates, isTemplate, parseExpression } from './templates';
import { formatPath, type JsonPath } from './positions';
import { loadChain, locate, mergeChain, readPipelineFile } from './extends';
import { dependencyOrder, findCycles } from './dag';
import type { Plan, PlanSpec, PlanStep } from './plan';

export interface PipelineIssue {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

/** Most characters of a path or message printed: a hostile file cannot flood the terminal. */
const MAX_PRINTED = 1000;

/** One line, whatever the file held: control characters escaped, very long text cut. */
function printable(text: string): string {
  const escaped = text.replace(
    /[\p{Cc}\u2028\u2029]/gu, // C0 and C1 controls (line breaks among them), U+2028 and U+2029
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > MAX_PRINTED
    ? `${escaped.slice(0, MAX_PRINTED)}… (${escaped.length - MAX_PRINTED} more characters)`
    : escaped;
}

/** `file:line:col: path: message`, always on one line. */
export function formatIssue(i: PipelineIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${printable(i.path)}: ${printable(i.message)}`;
}

export class PipelineInvalidError extends Error {
  constructor(readonly issues: PipelineIssue[]) {
    super(`invalid pipeline:\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'PipelineInvalidError';
  }
}

export interface LoadOptions {
  /** Check that dataset files exist (on by default; off for planning on another machine). */
  checkFiles?: boolean;
  /** Base for relative paths (artifacts, datasets); default: the working directory. */
  cwd?: string;
}

/** Most steps in one pipeline (real ones have a handful; the checks below are quadratic in it). */
export const MAX_STEPS = 200;
/** Most problems reported for one file; the rest are counted. */
export const MAX_ISSUES = 100;

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

export function schemaValidator(file: string): ValidateFunction {
  let v = validators.get(file);
  if (!v) {
    ajv ??= new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, strict: true });
    const schema = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'schemas', file), 'utf8'));
    v = ajv.compile(schema);
    validators.set(file, v);
  }
  return v;
}

/** Validates one step type's `with` (defaults applied in place); used at plan time and by workers. */
export function validateStepWith(uses: string, value: Record<string, unknown>): ErrorObject[] {
  const def = stepType(uses);
  if (!def) throw new Error(`unknown step type ${uses}`);
  expandNetworkShorthand(value); // `network: fid-inception:<dir>` → its options object
  const v = schemaValidator(`steps/${def.schema}`);
  return v(value) ? [] : [...(v.errors ?? [])];
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return String(value); // NaN and Infinity too (JSON says null)
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 60)}…" (${s.length - 2} characters)` : s;
}

/** Turns one ajv error into a message and the path it belongs to. */
export function explain(
  err: ErrorObject,
  base: JsonPath,
  data: unknown,
): { at: JsonPath; key: boolean; message: string } | null {
  const at: JsonPath = [...base, ...pointerToPath(err.instancePath, data)];
  const desc = (err.parentSchema as { description?: string } | undefined)?.description;
  switch (err.keyword) {
    case 'required': {
      const missing = (err.params as { missingProperty: string }).missingProperty;
      return { at: [...at, missing], key: false, message: `missing required field "${missing}"` };
    }
    case 'additionalProperties': {
      const extra = (err.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((err.parentSchema as { properties?: object }).properties ?? {});
      return {
        at: [...at, extra],
        key: true,
        message: `unknown field "${extra}": expected one of ${allowed.join(', ')}`,
      };
    }
    case 'enum': {
      const allowed = (err.params as { allowedValues: unknown[] }).allowedValues;
      return {
        at,
        key: false,
        message: `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')} (got ${describe(err.data)})`,
      };
    }
    case 'const':
      return {
        at,
        key: false,
        message: `must be ${JSON.stringify((err.params as { allowedValue: unknown }).allowedValue)} (got ${describe(err.data)})`,
      };
    case 'type':
      return {
        at,
        key: false,
        message: `must be ${(err.params as { type: string }).type} (got ${describe(err.data)})`,
      };
    case 'pattern':
      return {
        at,
        key: false,
        message: `must be ${desc ?? `a string matching ${(err.params as { pattern: string }).pattern}`} (got ${describe(err.data)})`,
      };
    case 'oneOf':
    case 'anyOf':
      return {
        at,
        key: false,
        message: `must be ${desc ?? 'one of the allowed forms'} (got ${describe(err.data)})`,
      };
    default:
      return {
        at,
        key: false,
        message: `${err.message ?? 'is invalid'}${desc ? ` (${desc})` : ''} (got ${describe(err.data)})`,
      };
  }
}

function pointerToPath(pointer: string, data: unknown): JsonPath {
  if (!pointer) return [];
  const out: JsonPath = [];
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const useIndex = Array.isArray(node) && /^\d+$/.test(seg);
    out.push(useIndex ? Number(seg) : seg);
    node = node && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
  }
  return out;
}

/** Drops errors from inside oneOf/anyOf branches: the combinator's own error says it better. */
export function significant(errors: ErrorObject[]): ErrorObject[] {
  const combined = new Set(
    errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.instancePath),
  );
  return errors.filter(
    (e) =>
      !/\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath) &&
      !(combined.has(e.instancePath) && e.keyword !== 'oneOf' && e.keyword !== 'anyOf'),
  );
}

function durationTimeout(
  t: unknown,
  defaults: { startToClose: string; heartbeat?: string },
): { startToClose: string; heartbeat?: string } {
  if (typeof t === 'string') return { ...defaults, startToClose: t };
  if (t && typeof t === 'object') return { ...defaults, ...(t as object) };
  return { ...defaults };
}

type Raw = Record<string, unknown>;

/** What the checks share: the merged data, its steps, and where to report a problem. */
interface Checking {
  file: string;
  data: Raw;
  steps: Raw[];
  /** Index of the first step with each id. */
  firstIndex: Map<string, number>;
  /** Each step's needs: the declared ones plus its forEach source. */
  needs: Map<Raw, string[]>;
  add(at: JsonPath, message: string, key?: boolean): void;
  locateAt(at: JsonPath): { file: string; line: number };
}

const stepsAt = (i: number, ...rest: JsonPath): JsonPath => ['spec', 'steps', i, ...rest];

/** Parses and validates pipeline text. `file` is used in messages and to find bases it extends. */
export function parsePipeline(
  text: string,
  file: string,
  opts: LoadOptions = {},
): { plan?: Plan; issues: PipelineIssue[] } {
  // 0. The file and the bases it extends, merged; positions still point into the file that holds
  // each value.
  const chain = loadChain(text, file);
  if (chain.issues.length > 0) return { issues: chain.issues };
  const { sources } = chain;
  const data = mergeChain(sources);
  const issues: PipelineIssue[] = [];
  let dropped = 0;
  const add = (at: JsonPath, message: string, key = false) => {
    if (issues.length >= MAX_ISSUES) {
      dropped++;
      return;
    }
    const { file: where, line, col } = locate(sources, data, at, key);
    issues.push({ file: where, line, col, path: formatPath(at), message });
  };

  const spec = (data.spec && typeof data.spec === 'object' ? data.spec : {}) as Raw;
  const steps = Array.isArray(spec.steps) ? (spec.steps as Raw[]) : [];
  if (steps.length > MAX_STEPS) {
    add(stepsAt(MAX_STEPS), `more than ${MAX_STEPS} steps (${steps.length}): split the pipeline`);
    return { issues };
  }
  if (data.kind === 'Study') {
    add(['kind'], 'this is a study file (kind: Study): use `autogan study validate` / `autogan study run`');
    return { issues };
  }
  checkSchema(data, add); // 1.
  const c: Checking = {
    file,
    data,
    steps,
    firstIndex: new Map(),
    needs: new Map(),
    add,
    locateAt: (at) => locate(sources, data, at),
  };
  checkIds(c); // 2.
  const valid = (fn: (c: Checking, s: Raw, i: number) => void) =>
    steps.forEach((s, i) => s && typeof s === 'object' && fn(c, s, i));
  valid(checkNeeds); // 3.
  valid(checkForEach); // 4. (every step's needs are complete before templates are checked)
  valid(checkWith); // 5.
  checkCycles(c); // 6.
  checkDatasetFiles(c, opts); // 7.

  if (issues.length > 0) return { issues: sortIssues(issues, file, dropped) };
  return { plan: buildPlan(c, opts), issues: [] }; // 8.
}

/** Bases' issues first, then file order; a last line counts those past MAX_ISSUES. */
function sortIssues(issues: PipelineIssue[], file: string, dropped: number): PipelineIssue[] {
  issues.sort(
    (a, b) => (a.file === b.file ? 0 : a.file === file ? 1 : -1) || a.line - b.line || a.col - b.col,
  );
  if (dropped > 0)
    issues.push({
      file,
      line: 1,
      col: 1,
      path: '(document)',
      message: `${dropped} more problem${dropped === 1 ? '' : 's'} not shown (fix the ones above first)`,
    });
  return issues;
}

/** 1. The pipeline schema (defaults applied in place). */
function checkSchema(data: Raw, add: Checking['add']): void {
  const validate = schemaValidator('pipeline.schema.json');
  if (validate(data)) return;
  for (const err of significant(validate.errors ?? [])) {
    const e = explain(err, [], data);
    if (e) add(e.at, e.message, e.key);
  }
}

/** 2. Step ids: unique, each remembered with its first position. */
function checkIds(c: Checking): void {
  c.steps.forEach((s, i) => {
    if (!s || typeof s.id !== 'string') return;
    const first = c.firstIndex.get(s.id);
    if (first === undefined) {
      c.firstIndex.set(s.id, i);
      return;
    }
    const at = c.locateAt(stepsAt(first, 'id'));
    c.add(
      stepsAt(i, 'id'),
      `duplicate step id "${s.id}" (first defined at ${at.file === c.file ? '' : `${at.file}:`}line ${at.line})`,
    );
  });
}

/** 3. `needs` name existing steps, not the step itself; the step type exists. */
function checkNeeds(c: Checking, s: Raw, i: number): void {
  const declared = Array.isArray(s.needs) ? (s.needs as unknown[]) : [];
  declared.forEach((n, j) => {
    if (typeof n === 'string' && !c.firstIndex.has(n))
      c.add(
        stepsAt(i, 'needs', j),
        `needs "${n}", but no step has that id (steps: ${[...c.firstIndex.keys()].join(', ')})`,
      );
    if (n === s.id) c.add(stepsAt(i, 'needs', j), `a step cannot need itself`);
  });
  c.needs.set(
    s,
    declared.filter((n): n is string => typeof n === 'string'),
  );
  if (typeof s.uses === 'string' && !stepType(s.uses)) {
    c.add(
      stepsAt(i, 'uses'),
      `unknown step type "${s.uses}": expected one of ${stepTypes()
        .map((t) => t.type)
        .join(', ')}`,
    );
  }
}

/** 4. `forEach` runs over a list output of a step that is not itself a fan-out; it joins the needs. */
function checkForEach(c: Checking, s: Raw, i: number): void {
  if (typeof s.forEach !== 'string' || !/\./.test(s.forEach)) return;
  const [src, output] = s.forEach.split('.');
  const srcIndex = c.firstIndex.get(src);
  if (srcIndex === undefined) {
    c.add(stepsAt(i, 'forEach'), `forEach refers to step "${src}", but no step has that id`);
    return;
  }
  const srcDef = stepType(String(c.steps[srcIndex].uses));
  const kind = srcDef && Object.hasOwn(srcDef.outputs, output) ? srcDef.outputs[output] : undefined;
  if (srcDef && kind !== 'list') {
    const lists = Object.entries(srcDef.outputs)
      .filter(([, k]) => k === 'list')
      .map(([n]) => n);
    c.add(
      stepsAt(i, 'forEach'),
      kind
        ? `forEach needs a list output, but "${output}" of ${srcDef.type} is a single value (list outputs: ${lists.join(', ') || 'none'})`
        : `${srcDef.type} has no output "${output}" (list outputs: ${lists.join(', ') || 'none'})`,
    );
  } else if (c.steps[srcIndex].forEach) {
    c.add(
      stepsAt(i, 'forEach'),
      `forEach over "${src}", which is itself a fan-out: nested fan-out is not supported`,
    );
  }
  const needs = c.needs.get(s) ?? [];
  if (!needs.includes(src)) c.needs.set(s, [...needs, src]);
}

/** 5. Templates refer to reachable outputs; `with` matches its step type's schema. */
function checkWith(c: Checking, s: Raw, i: number): void {
  if (!s.with || typeof s.with !== 'object' || Array.isArray(s.with)) return;
  const w = s.with as Raw;
  for (const t of findTemplates(w)) {
    const ref = parseExpression(t.expr);
    const at = stepsAt(i, 'with', ...t.at);
    if (typeof ref === 'string') c.add(at, `bad template: ${ref}`);
    else if (ref.root === 'item' && !s.forEach)
      c.add(at, `\${{ item }} is only defined in a step with forEach`);
    else if (ref.root === 'steps') {
      const j = c.firstIndex.get(ref.step);
      if (j === undefined) {
        c.add(at, `template refers to step "${ref.step}", but no step has that id`);
        continue;
      }
      const refDef = stepType(String(c.steps[j].uses));
      const out = c.steps[j].forEach ? 'items' : ref.path[0];
      if (refDef && out !== undefined && !c.steps[j].forEach && !Object.hasOwn(refDef.outputs, out)) {
        c.add(
          at,
          `${refDef.type} has no output "${out}" (outputs: ${Object.keys(refDef.outputs).join(', ')})`,
        );
      }
      if (!ancestors(ref.step, s.id as string, c)) {
        c.add(at, `template refers to step "${ref.step}", which is not among this step's needs`);
      }
    }
  }
  const def = typeof s.uses === 'string' ? stepType(s.uses) : undefined;
  if (!def) return;
  // Templated values are only known at run time: errors about them wait for the worker's check.
  for (const err of significant(validateStepWith(def.type, w))) {
    if (isTemplate(valueAt(w, pointerToPath(err.instancePath, w)))) continue;
    const e = explain(err, stepsAt(i, 'with'), w);
    if (e) c.add(e.at, e.message, e.key);
  }
}

/** 6. No dependency cycles. */
function checkCycles(c: Checking): void {
  const graph = new Map(
    c.steps
      .filter((s) => s && typeof s.id === 'string')
      .map((s) => [s.id as string, (c.needs.get(s) ?? []).filter((n) => c.firstIndex.has(n))]),
  );
  for (const cycle of findCycles(graph)) {
    c.add(
      stepsAt(c.firstIndex.get(cycle[0])!, 'needs'),
      `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`,
    );
  }
}

/** 7. Dataset files exist where a step reads them. */
function checkDatasetFiles(c: Checking, opts: LoadOptions): void {
  const cwd = opts.cwd ?? process.cwd();
  const dataset = (c.data.spec as Raw | undefined)?.dataset as PlanSpec['dataset'] | undefined;
  const readers = c.steps
    .filter((s) => s && typeof s.id === 'string' && stepType(String(s.uses))?.usesDataset)
    .map((s) => s.id as string);
  if (
    !dataset ||
    typeof dataset !== 'object' ||
    !FILE_DATASETS.includes(dataset.kind) ||
    readers.length === 0
  )
    return;
  if (dataset.path !== undefined && typeof dataset.path !== 'string') return; // the schema check reports it
  if (!dataset.path)
    c.add(
      ['spec', 'dataset'],
      `dataset kind "${dataset.kind}" needs a path (read by steps ${readers.join(', ')})`,
    );
  else if (opts.checkFiles !== false && !fs.existsSync(path.resolve(cwd, dataset.path))) {
    c.add(
      ['spec', 'dataset', 'path'],
      `dataset path ${path.resolve(cwd, dataset.path)} does not exist (read by steps ${readers.join(', ')})`,
    );
  }
}

/** 8. The plan: paths absolute, queues and timeouts resolved, steps in dependency order. */
function buildPlan(c: Checking, opts: LoadOptions): Plan {
  const cwd = opts.cwd ?? process.cwd();
  const s = c.data.spec as unknown as PlanSpec;
  const planSpec: PlanSpec = {
    dataset: { ...s.dataset, ...(s.dataset.path ? { path: path.resolve(cwd, s.dataset.path) } : {}) },
    backend: s.backend,
    artifacts: {
      path: path.resolve(cwd, s.artifacts.path),
      ...(s.artifacts.s3 ? { s3: s.artifacts.s3 } : {}),
    },
    seed: s.seed,
    taskQueues: s.taskQueues,
  };
  const steps: PlanStep[] = c.steps.map((raw) => {
    const def = stepType(String(raw.uses))!;
    const queue = (raw.taskQueue as string | undefined) ?? def.queue;
    const [feStep, feOut] = typeof raw.forEach === 'string' ? raw.forEach.split('.') : [];
    return {
      id: raw.id as string,
      uses: def.type,
      needs: c.needs.get(raw) ?? [],
      with: raw.with as Record<string, unknown>,
      ...(feStep ? { forEach: { step: feStep, output: feOut } } : {}),
      retry: raw.retry as PlanStep['retry'],
      timeout: durationTimeout(raw.timeout, def.timeout),
      taskQueue: queue === 'control' || queue === 'gpu' ? planSpec.taskQueues[queue] : queue,
      execution: def.execution,
      target: def.target,
    };
  });
  const meta = c.data.metadata as { name: string; description?: string };
  return {
    apiVersion: c.data.apiVersion as string,
    name: meta.name,
    ...(meta.description ? { description: meta.description } : {}),
    source: c.file,
    spec: planSpec,
    steps: dependencyOrder(steps),
  };
}

function valueAt(value: unknown, at: JsonPath): unknown {
  let v = value;
  for (const k of at) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

function ancestors(target: string, from: string, c: Checking): boolean {
  const byId = new Map(c.steps.filter((s) => s && typeof s.id === 'string').map((s) => [s.id as string, s]));
  const needsOf = (id: string) => {
    const s = byId.get(id);
    return s ? (c.needs.get(s) ?? []) : [];
  };
  const seen = new Set<string>();
  const stack = [...needsOf(from)];
  while (stack.length) {
    const n = stack.pop()!;
    if (n === target) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...needsOf(n));
  }
  return false;
}

/** Reads and validates a pipeline file; throws PipelineInvalidError listing every issue. */
export function loadPipeline(file: string, opts: LoadOptions = {}): Plan {
  if (!fs.existsSync(file)) {
    throw new PipelineInvalidError([
      { file, line: 1, col: 1, path: '(file)', message: 'file does not exist' },
    ]);
  }
  const read = readPipelineFile(file);
  if ('issue' in read) throw new PipelineInvalidError([read.issue]);
  const { plan, issues } = parsePipeline(read.text, file, opts);
  if (!plan) throw new PipelineInvalidError(issues);
  return plan;
}
