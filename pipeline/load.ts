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
import { loadChain, locate, mergeChain } from './extends';
import { dependencyOrder, findCycles } from './dag';
import type { Plan, PlanSpec, PlanStep } from './plan';

export interface PipelineIssue {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

export function formatIssue(i: PipelineIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.path}: ${i.message}`;
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

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

function schemaValidator(file: string): ValidateFunction {
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
  return JSON.stringify(value);
}

/** Turns one ajv error into a message and the path it belongs to. */
function explain(
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
function significant(errors: ErrorObject[]): ErrorObject[] {
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

/** Parses and validates pipeline text. `file` is used in messages and for nothing else. */
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
  const add = (at: JsonPath, message: string, key = false) => {
    const { file: where, line, col } = locate(sources, data, at, key);
    issues.push({ file: where, line, col, path: formatPath(at), message });
  };

  // 1. The pipeline schema (defaults applied in place).
  const validate = schemaValidator('pipeline.schema.json');
  if (!validate(data)) {
    for (const err of significant(validate.errors ?? [])) {
      const e = explain(err, [], data);
      if (e) add(e.at, e.message, e.key);
    }
  }

  const spec = (data.spec ?? {}) as Record<string, unknown>;
  const rawSteps = Array.isArray(spec.steps) ? (spec.steps as Array<Record<string, unknown>>) : [];
  const stepsAt = (i: number, ...rest: JsonPath): JsonPath => ['spec', 'steps', i, ...rest];

  // 2. Step types, ids, needs, forEach, templates, `with` schemas.
  const firstIndex = new Map<string, number>();
  rawSteps.forEach((s, i) => {
    if (s && typeof s.id === 'string') {
      if (firstIndex.has(s.id)) {
        const first = locate(sources, data, stepsAt(firstIndex.get(s.id)!, 'id'));
        add(
          stepsAt(i, 'id'),
          `duplicate step id "${s.id}" (first defined at ${first.file === file ? '' : `${first.file}:`}line ${first.line})`,
        );
      } else firstIndex.set(s.id, i);
    }
  });
  const known = [...firstIndex.keys()];
  const validSteps = rawSteps.filter((s) => s && typeof s === 'object' && typeof s.id === 'string');

  rawSteps.forEach((s, i) => {
    if (!s || typeof s !== 'object') return;
    const needs = Array.isArray(s.needs) ? (s.needs as unknown[]) : [];
    needs.forEach((n, j) => {
      if (typeof n === 'string' && !firstIndex.has(n)) {
        add(stepsAt(i, 'needs', j), `needs "${n}", but no step has that id (steps: ${known.join(', ')})`);
      }
      if (n === s.id) add(stepsAt(i, 'needs', j), `a step cannot need itself`);
    });
    const def = typeof s.uses === 'string' ? stepType(s.uses) : undefined;
    if (typeof s.uses === 'string' && !def) {
      add(
        stepsAt(i, 'uses'),
        `unknown step type "${s.uses}": expected one of ${stepTypes()
          .map((t) => t.type)
          .join(', ')}`,
      );
    }
    if (typeof s.forEach === 'string' && /\./.test(s.forEach)) {
      const [src, output] = s.forEach.split('.');
      const srcIndex = firstIndex.get(src);
      if (srcIndex === undefined) {
        add(stepsAt(i, 'forEach'), `forEach refers to step "${src}", but no step has that id`);
      } else {
        const srcDef = stepType(String(rawSteps[srcIndex].uses));
        const kind = srcDef?.outputs[output];
        if (srcDef && kind !== 'list') {
          const lists = Object.entries(srcDef.outputs)
            .filter(([, k]) => k === 'list')
            .map(([n]) => n);
          add(
            stepsAt(i, 'forEach'),
            kind
              ? `forEach needs a list output, but "${output}" of ${srcDef.type} is a single value (list outputs: ${lists.join(', ') || 'none'})`
              : `${srcDef.type} has no output "${output}" (list outputs: ${lists.join(', ') || 'none'})`,
          );
        } else if (rawSteps[srcIndex].forEach) {
          add(
            stepsAt(i, 'forEach'),
            `forEach over "${src}", which is itself a fan-out: nested fan-out is not supported`,
          );
        }
        if (Array.isArray(s.needs) && !needs.includes(src)) (s.needs as string[]).push(src);
      }
    }
    if (s.with && typeof s.with === 'object' && !Array.isArray(s.with)) {
      const w = s.with as Record<string, unknown>;
      for (const t of findTemplates(w)) {
        const ref = parseExpression(t.expr);
        const at = stepsAt(i, 'with', ...t.at);
        if (typeof ref === 'string') add(at, `bad template: ${ref}`);
        else if (ref.root === 'item' && !s.forEach)
          add(at, `\${{ item }} is only defined in a step with forEach`);
        else if (ref.root === 'steps') {
          const j = firstIndex.get(ref.step);
          if (j === undefined) add(at, `template refers to step "${ref.step}", but no step has that id`);
          else {
            const refDef = stepType(String(rawSteps[j].uses));
            const out = rawSteps[j].forEach ? 'items' : ref.path[0];
            if (refDef && out !== undefined && !rawSteps[j].forEach && !(out in refDef.outputs)) {
              add(
                at,
                `${refDef.type} has no output "${out}" (outputs: ${Object.keys(refDef.outputs).join(', ')})`,
              );
            }
            if (!ancestors(ref.step, s.id as string, rawSteps)) {
              add(at, `template refers to step "${ref.step}", which is not among this step's needs`);
            }
          }
        }
      }
      if (def) {
        // Templated values are only known at run time: errors about them wait for the worker's check.
        for (const err of significant(validateStepWith(def.type, w))) {
          if (isTemplate(valueAt(w, pointerToPath(err.instancePath, w)))) continue;
          const e = explain(err, stepsAt(i, 'with'), w);
          if (e) add(e.at, e.message, e.key);
        }
      }
    }
  });

  // 3. Cycles.
  const graph = new Map(
    validSteps.map((s) => [s.id as string, ((s.needs as string[]) ?? []).filter((n) => firstIndex.has(n))]),
  );
  for (const cycle of findCycles(graph)) {
    add(
      stepsAt(firstIndex.get(cycle[0])!, 'needs'),
      `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`,
    );
  }

  // 4. Dataset files, where a step reads them.
  const cwd = opts.cwd ?? process.cwd();
  const dataset = spec.dataset as PlanSpec['dataset'] | undefined;
  const readers = validSteps.filter((s) => stepType(String(s.uses))?.usesDataset).map((s) => s.id as string);
  if (dataset && typeof dataset === 'object' && FILE_DATASETS.includes(dataset.kind) && readers.length > 0) {
    if (!dataset.path)
      add(
        ['spec', 'dataset'],
        `dataset kind "${dataset.kind}" needs a path (read by steps ${readers.join(', ')})`,
      );
    else if (opts.checkFiles !== false && !fs.existsSync(path.resolve(cwd, dataset.path))) {
      add(
        ['spec', 'dataset', 'path'],
        `dataset path ${path.resolve(cwd, dataset.path)} does not exist (read by steps ${readers.join(', ')})`,
      );
    }
  }

  if (issues.length > 0) {
    issues.sort(
      (a, b) => (a.file === b.file ? 0 : a.file === file ? 1 : -1) || a.line - b.line || a.col - b.col,
    );
    return { issues };
  }

  // 5. The plan: paths absolute, queues and timeouts resolved, steps in dependency order.
  const s = spec as unknown as PlanSpec & { steps: Array<Record<string, unknown>> };
  const planSpec: PlanSpec = {
    dataset: { ...s.dataset, ...(s.dataset.path ? { path: path.resolve(cwd, s.dataset.path) } : {}) },
    backend: s.backend,
    artifacts: { path: path.resolve(cwd, s.artifacts.path) },
    seed: s.seed,
    taskQueues: s.taskQueues,
  };
  const steps: PlanStep[] = s.steps.map((raw) => {
    const def = stepType(String(raw.uses))!;
    const queue = (raw.taskQueue as string | undefined) ?? def.queue;
    const [feStep, feOut] = typeof raw.forEach === 'string' ? raw.forEach.split('.') : [];
    return {
      id: raw.id as string,
      uses: def.type,
      needs: raw.needs as string[],
      with: raw.with as Record<string, unknown>,
      ...(feStep ? { forEach: { step: feStep, output: feOut } } : {}),
      retry: raw.retry as PlanStep['retry'],
      timeout: durationTimeout(raw.timeout, def.timeout),
      taskQueue: queue === 'control' || queue === 'gpu' ? planSpec.taskQueues[queue] : queue,
      execution: def.execution,
      target: def.target,
    };
  });
  const meta = data.metadata as { name: string; description?: string };
  return {
    plan: {
      apiVersion: data.apiVersion as string,
      name: meta.name,
      ...(meta.description ? { description: meta.description } : {}),
      source: file,
      spec: planSpec,
      steps: dependencyOrder(steps),
    },
    issues: [],
  };
}

function valueAt(value: unknown, at: JsonPath): unknown {
  let v = value;
  for (const k of at) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

function ancestors(target: string, from: string, steps: Array<Record<string, unknown>>): boolean {
  const byId = new Map(steps.filter((s) => s && typeof s.id === 'string').map((s) => [s.id as string, s]));
  const seen = new Set<string>();
  const stack = [...((byId.get(from)?.needs as string[]) ?? [])];
  while (stack.length) {
    const n = stack.pop()!;
    if (n === target) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...((byId.get(n)?.needs as string[]) ?? []));
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
  const { plan, issues } = parsePipeline(fs.readFileSync(file, 'utf8'), file, opts);
  if (!plan) throw new PipelineInvalidError(issues);
  return plan;
}
