// Pipelines that extend a base: `extends: <path>` (relative to the file that says it) names a base
// pipeline, and the file holds only what differs. Merge rule: mappings merge key by key (the
// extending file wins), lists and scalars are replaced, except `spec.steps`, which merge by step
// `id`: a step with an id the base has merges into that step (its `with:` key by key), a new id
// is appended. Bases may extend further bases. Every merged value remembers the file that wrote
// it, so an error still points at the line of the file that holds the bad value.
import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CST,
  isAlias,
  isCollection,
  isMap,
  isNode,
  isScalar,
  Lexer,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type YAMLError,
} from 'yaml';
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

// Limits on hostile input, far above any real pipeline (a few hundred lines, nesting under 10), so
// that validation takes bounded time and memory; each is reported as a bad file with a position.
/** Largest pipeline file read. */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** Most YAML tokens (values, indicators, spaces, comments, line breaks) in one file. */
const MAX_TOKENS = 500_000;
/** Most YAML values and indicators (scalars, collections, aliases, `-`, `:`, `,`) in one file. */
const MAX_VALUES = 20_000;
/** Longest single value (a string); comments may be longer. */
const MAX_SCALAR_CHARS = 1024 * 1024;
/** Deepest nesting of mappings and sequences (also through aliases). */
export const MAX_NESTING = 64;
/** Most YAML syntax errors reported for one file; the rest are counted. */
const MAX_YAML_ERRORS = 100;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** Line and column (1-based) of a character offset, without parsing. */
function positionIn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1. */
function invalidUtf8At(buf: Buffer): number {
  for (let i = 0; i < buf.length;) {
    const b = buf[i];
    const [n, lo, hi] =
      b < 0x80
        ? [0, 0, 0]
        : b >= 0xc2 && b <= 0xdf
          ? [1, 0x80, 0xbf]
          : b === 0xe0
            ? [2, 0xa0, 0xbf]
            : b === 0xed
              ? [2, 0x80, 0x9f]
              : b >= 0xe1 && b <= 0xef
                ? [2, 0x80, 0xbf]
                : b === 0xf0
                  ? [3, 0x90, 0xbf]
                  : b === 0xf4
                    ? [3, 0x80, 0x8f]
                    : b > 0xf0 && b < 0xf4
                      ? [3, 0x80, 0xbf]
                      : [-1, 0, 0];
    if (n === 0) {
      i++;
      continue;
    }
    if (n < 0 || i + n >= buf.length || buf[i + 1] < lo || buf[i + 1] > hi) return i;
    for (let k = 2; k <= n; k++) if ((buf[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * The text of a pipeline file, or why it cannot be one: not a regular file (a directory, a device,
 * a pipe), larger than MAX_FILE_BYTES, or not UTF-8 (with the position of the first bad byte).
 */
export function readPipelineFile(file: string): { text: string } | { issue: ChainIssue } {
  const bad = (message: string, at = { line: 1, col: 1 }) => ({
    issue: { file, ...at, path: '(file)', message },
  });
  let buf: Buffer;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) return bad('is a directory, not a pipeline file');
    if (!st.isFile()) return bad('is not a regular file');
    if (st.size > MAX_FILE_BYTES)
      return bad(
        `is ${(st.size / 2 ** 20).toFixed(1)} MiB; a pipeline file may be at most ${MAX_FILE_BYTES / 2 ** 20} MiB`,
      );
    buf = fs.readFileSync(file);
  } catch (err) {
    return bad(`cannot be read: ${(err as Error).message}`);
  }
  if (buf.length > MAX_FILE_BYTES)
    return bad(`is larger than ${MAX_FILE_BYTES / 2 ** 20} MiB (it grew while being read)`);
  if (!isUtf8(buf)) {
    const at = invalidUtf8At(buf);
    const byte = at >= 0 ? ` (byte 0x${buf[at].toString(16).padStart(2, '0')})` : '';
    const where = at >= 0 ? buf.subarray(0, at).toString('utf8') : '';
    return bad(`is not valid UTF-8${byte}: save it as UTF-8`, positionIn(where, where.length));
  }
  return { text: buf.toString('utf8') };
}

/** Cheap limits checked on the token stream before building a document: size, values, flow depth. */
function tooLarge(text: string): { offset: number; message: string } | undefined {
  let offset = 0;
  let tokens = 0;
  let values = 0;
  let flow = 0;
  let scalarBody = false;
  const tooLong = `a value longer than ${MAX_SCALAR_CHARS} characters: far too large for a pipeline`;
  for (const token of new Lexer().lex(text)) {
    if (scalarBody) {
      if (token.length > MAX_SCALAR_CHARS) return { offset, message: tooLong };
      scalarBody = false;
      offset += token.length;
      continue;
    }
    if (++tokens > MAX_TOKENS)
      return { offset, message: `more than ${MAX_TOKENS} YAML tokens: far too large for a pipeline` };
    const type = CST.tokenType(token);
    if (type === 'doc-mode') continue; // markers that are not in the source
    if (type === 'flow-error-end') {
      flow = 0;
      continue;
    }
    if (type === 'scalar') scalarBody = true; // a marker; the scalar's text is the next token
    if (
      (type === 'single-quoted-scalar' || type === 'double-quoted-scalar') &&
      token.length > MAX_SCALAR_CHARS
    )
      return { offset, message: tooLong };
    if (type === 'flow-map-start' || type === 'flow-seq-start') {
      if (++flow > MAX_NESTING) return { offset, message: `nested more than ${MAX_NESTING} levels deep` };
    } else if (type === 'flow-map-end' || type === 'flow-seq-end') flow = Math.max(0, flow - 1);
    if (type !== 'space' && type !== 'newline' && type !== 'comment' && ++values > MAX_VALUES)
      return { offset, message: `more than ${MAX_VALUES} YAML values: far too large for a pipeline` };
    if (!scalarBody) offset += token.length;
  }
  return undefined;
}

/**
 * Duplicate keys, an alias inside the value it names (recursive data), or nesting deeper than
 * MAX_NESTING counting the values aliases stand for. Iterative, so a deep document cannot overflow
 * the stack here, and linear (the parser's own duplicate-key check is quadratic in a map's size).
 */
function badStructure(doc: Document, lineOf: (n: Node) => number): Array<{ node: Node; message: string }> {
  if (!isNode(doc.contents)) return [];
  const duplicates: Array<{ node: Node; message: string }> = [];
  const anchors = new Map<string, Node>();
  const target = new Map<Node, Node>(); // alias -> the node it names
  const height = new Map<Node, number>(); // collections nested in a node, itself included
  const open = new Set<Node>();
  const children = (n: Node): Node[] =>
    (isMap(n) ? n.items.flatMap((p) => [p.key, p.value]) : isCollection(n) ? n.items : []).filter(isNode);
  const stack: Array<{ node: Node; kids?: Node[]; i: number }> = [{ node: doc.contents, i: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const n = top.node;
    if (!top.kids) {
      if (!isAlias(n) && n.anchor) anchors.set(n.anchor, n);
      if (isAlias(n)) {
        const t = anchors.get(n.source);
        if (t && open.has(t))
          return [
            {
              node: n,
              message: `alias *${n.source} is inside the value it names: recursive data is not allowed`,
            },
          ];
        if (t) target.set(n, t);
        height.set(n, t ? (height.get(t) ?? 0) : 0);
        stack.pop();
        continue;
      }
      if (!isCollection(n)) {
        height.set(n, 0);
        stack.pop();
        continue;
      }
      open.add(n);
      top.kids = children(n);
      if (isMap(n)) {
        const seen = new Map<string, Node>();
        for (const { key } of n.items) {
          if (!isScalar(key)) continue;
          const name = String(key.value);
          const first = seen.get(name);
          if (first === undefined) seen.set(name, key);
          else if (duplicates.length < MAX_YAML_ERRORS)
            duplicates.push({
              node: key,
              message: `duplicate key "${name}" (first at line ${lineOf(first)})`,
            });
        }
      }
    }
    if (top.i < top.kids.length) stack.push({ node: top.kids[top.i++], i: 0 });
    else {
      height.set(n, 1 + top.kids.reduce((h, k) => Math.max(h, height.get(k) ?? 0), 0));
      open.delete(n);
      stack.pop();
    }
  }
  if (duplicates.length > 0) return duplicates;
  if ((height.get(doc.contents) ?? 0) <= MAX_NESTING) return [];
  // Follow the deepest path to the level past the limit; through an alias, report the alias.
  let node: Node = doc.contents;
  let via: Node | undefined;
  for (let depth = 0; ;) {
    if (isAlias(node)) {
      via ??= node;
      node = target.get(node)!;
      continue;
    }
    if (++depth > MAX_NESTING)
      return [{ node: via ?? node, message: `nested more than ${MAX_NESTING} levels deep` }];
    const kids = children(node);
    node = kids.reduce((a, b) => ((height.get(b) ?? 0) > (height.get(a) ?? 0) ? b : a));
  }
}

/** The parser's messages that speak of its API or of V8, said in the terms of a pipeline file. */
const YAML_MESSAGES: Partial<Record<YAMLError['code'], string>> = {
  // The composer catches a stack overflow (nesting too deep for it) and reports V8's message.
  RESOURCE_EXHAUSTION: `nested too deeply to read (more than ${MAX_NESTING} levels are not allowed)`,
  MULTIPLE_DOCS: 'a pipeline file holds one YAML document; this is a second one (after `---`)',
  NON_STRING_KEY: 'a key must be a string, not a list, a mapping or a tagged value',
};

function parse(text: string, file: string, issues: ChainIssue[]): SourceDoc | undefined {
  const limit = tooLarge(text);
  if (limit) {
    issues.push({ file, ...positionIn(text, limit.offset), path: '(yaml)', message: limit.message });
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: false, // checked below, in linear time
    stringKeys: true, // `? [a]: 1` is an error here, not a warning on stderr; `1:` and `"1":` collide
    logLevel: 'error',
  });
  if (doc.errors.length > 0) {
    // One stack overflow is reported once per level it unwinds through: the first one says it.
    const errors = doc.errors.filter(
      (e, i) => e.code !== 'RESOURCE_EXHAUSTION' || doc.errors.findIndex((f) => f.code === e.code) === i,
    );
    for (const e of errors.slice(0, MAX_YAML_ERRORS)) {
      const { line, col } = lines.linePos(e.pos[0]);
      issues.push({
        file,
        line,
        col,
        path: '(yaml)',
        message: YAML_MESSAGES[e.code] ?? e.message.split('\n')[0],
      });
    }
    if (errors.length > MAX_YAML_ERRORS) {
      const { line, col } = lines.linePos(errors[MAX_YAML_ERRORS].pos[0]);
      const more = errors.length - MAX_YAML_ERRORS;
      issues.push({ file, line, col, path: '(yaml)', message: `${more} more YAML errors not shown` });
    }
    return undefined;
  }
  const at = (n: Node) => lines.linePos(n.range?.[0] ?? 0);
  const structure = badStructure(doc, (n) => at(n).line);
  if (structure.length > 0) {
    for (const { node, message } of structure) issues.push({ file, ...at(node), path: '(yaml)', message });
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
    const read = readPipelineFile(base);
    if ('issue' in read) {
      report(`base pipeline ${base} ${read.issue.message}`);
      break;
    }
    current = parse(read.text, shown.startsWith('..') ? base : shown, issues);
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
