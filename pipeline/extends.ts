// Pipelines that extend a base: `extends: <path>` (relative to the file that says it) names a base
// pipeline, and the file holds only what differs. Merge rule: mappings merge key by key (the
// extending file wins), lists and scalars are replaced, except `spec.steps`, which merge by step
// `id`: a step with an id the base has merges into that step (its `with:` key by key), a new id
// is appended. Bases may extend further bases. Every merged value remembers the file that wrote
// it, so an error still points at the line of the file that holds the bad value.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { positionOf, type JsonPath } from './positions';

/** One parsed file of an extends chain. */
export interface SourceDoc {
  file: string;
  doc: Document;
  lines: LineCounter;
  data: Record<string, unknown>;
}

export interface ChainIssue {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

/** Longest chain of bases followed (a guard against runaway chains besides cycle detection). */
const MAX_DEPTH = 16;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function parse(text: string, file: string, issues: ChainIssue[]): SourceDoc | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const { line, col } = lines.linePos(e.pos[0]);
      issues.push({ file, line, col, path: '(yaml)', message: e.message.split('\n')[0] });
    }
    return undefined;
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // e.g. an alias bomb ("Excessive alias count"): a bad file, reported like any other.
    issues.push({ file, line: 1, col: 1, path: '(yaml)', message: (err as Error).message.split('\n')[0] });
    return undefined;
  }
  if (!isObj(data)) {
    issues.push({
      file,
      line: 1,
      col: 1,
      path: '(document)',
      message: 'a pipeline must be a YAML mapping with apiVersion, kind, metadata and spec',
    });
    return undefined;
  }
  return { file, doc, lines, data };
}

/** The file and its bases, base-most first. Problems (unreadable base, cycle) become issues. */
export function loadChain(text: string, file: string): { sources: SourceDoc[]; issues: ChainIssue[] } {
  const issues: ChainIssue[] = [];
  const chain: SourceDoc[] = [];
  let current = parse(text, file, issues);
  const seen = new Set<string>([path.resolve(file)]);
  while (current) {
    chain.unshift(current);
    const ext = current.data.extends;
    if (ext === undefined) break;
    const where = positionOf(current.doc, current.lines, ['extends']);
    const report = (message: string) =>
      issues.push({ file: current!.file, ...where, path: 'extends', message });
    if (typeof ext !== 'string' || !ext) {
      report('must be the path of a base pipeline file');
      break;
    }
    const base = path.resolve(path.dirname(current.file), ext);
    if (seen.has(base)) {
      report(`extends ${ext}, which is already in this chain: ${[...seen, base].join(' -> ')}`);
      break;
    }
    if (chain.length >= MAX_DEPTH) {
      report(`more than ${MAX_DEPTH} levels of extends`);
      break;
    }
    if (!fs.existsSync(base)) {
      report(`base pipeline ${base} does not exist`);
      break;
    }
    seen.add(base);
    const shown = path.relative(process.cwd(), base);
    current = parse(fs.readFileSync(base, 'utf8'), shown.startsWith('..') ? base : shown, issues);
  }
  return { sources: issues.length ? [] : chain, issues };
}

function mergeSteps(base: unknown, over: unknown): unknown {
  if (!Array.isArray(base) || !Array.isArray(over)) return over;
  const out = base.map((s) => structuredClone(s));
  for (const step of over) {
    // Matched against the base's steps only: duplicate ids within one file stay duplicates (and are reported).
    const i = isObj(step) ? base.findIndex((b) => isObj(b) && b.id === step.id) : -1;
    if (i >= 0) out[i] = mergeValue(out[i], step, []);
    else out.push(structuredClone(step));
  }
  return out;
}

function mergeValue(base: unknown, over: unknown, at: JsonPath): unknown {
  if (at.length === 2 && at[0] === 'spec' && at[1] === 'steps') return mergeSteps(base, over);
  if (!isObj(base) || !isObj(over)) return structuredClone(over);
  const out: Obj = { ...structuredClone(base) };
  for (const [k, v] of Object.entries(over))
    out[k] = k in base ? mergeValue(base[k], v, [...at, k]) : structuredClone(v);
  return out;
}

/** The merged pipeline data (without `extends`). */
export function mergeChain(sources: SourceDoc[]): Obj {
  let merged: Obj = {};
  for (const s of sources) merged = mergeValue(merged, s.data, []) as Obj;
  delete merged.extends;
  return merged;
}

/** `at` (a path in the merged data) as a path in one source, or undefined if it has no such step. */
function translate(at: JsonPath, merged: Obj, source: Obj): JsonPath | undefined {
  if (at[0] !== 'spec' || at[1] !== 'steps' || typeof at[2] !== 'number') return at;
  const steps = (merged.spec as Obj | undefined)?.steps;
  const id = Array.isArray(steps) && isObj(steps[at[2]]) ? steps[at[2]].id : undefined;
  const own = (source.spec as Obj | undefined)?.steps;
  if (!Array.isArray(own) || !Array.isArray(steps)) return undefined;
  // The k-th step with this id in the merged list is the k-th one in the source (duplicates are
  // reported at their own lines).
  const k = steps.slice(0, at[2]).filter((s) => isObj(s) && s.id === id).length;
  const matches = own.flatMap((s, j) => (isObj(s) && s.id === id ? [j] : []));
  const j = matches[Math.min(k, matches.length - 1)];
  return j === undefined ? undefined : ['spec', 'steps', j, ...at.slice(3)];
}

function existingDepth(data: unknown, at: JsonPath): number {
  let v = data;
  for (let i = 0; i < at.length; i++) {
    if (!v || typeof v !== 'object' || !(String(at[i]) in (v as Obj))) return i;
    v = (v as Record<string | number, unknown>)[at[i]];
  }
  return at.length;
}

/**
 * Where a path of the merged data was written: the file that holds the value (the extending file
 * first), else the one holding its deepest existing ancestor (a missing field is reported at the
 * object that lacks it).
 */
export function locate(
  sources: SourceDoc[],
  merged: Obj,
  at: JsonPath,
  key = false,
): { file: string; line: number; col: number } {
  let best: { s: SourceDoc; p: JsonPath; depth: number } | undefined;
  for (const s of [...sources].reverse()) {
    const p = translate(at, merged, s.data);
    if (!p) continue;
    const depth = existingDepth(s.data, p);
    if (!best || depth > best.depth) best = { s, p, depth };
    if (depth === p.length) break;
  }
  const s = best?.s ?? sources[sources.length - 1];
  return { file: s.file, ...positionOf(s.doc, s.lines, best?.p ?? at, key) };
}
