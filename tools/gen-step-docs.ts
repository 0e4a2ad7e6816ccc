// Writes docs/steps/: one page per registered step type, generated from its JSON Schema
// (schemas/steps/) and its registry entry (steps/registry.ts), and an index (README.md) with the
// fields every step has (`$defs/step` of schemas/pipeline.schema.json). The schemas are the single
// source of truth: edit a description there and run `npm run docs:steps`;
// test/docs-steps.test.ts fails when the committed pages differ from what this writes.
//
//   node dist/tools/gen-step-docs.js [out-dir]     (default: <project>/docs/steps)
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as prettier from 'prettier';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../core/paths';
import { validateStepWith } from '../pipeline/load';
import { findTemplates, isTemplate, parseExpression } from '../pipeline/templates';
import { stepTypes, type StepType } from '../steps/registry';

/** The parts of JSON Schema (draft 2020-12) the step schemas use. */
export interface Schema {
  $ref?: string;
  $defs?: Record<string, Schema>;
  title?: string;
  description?: string;
  default?: unknown;
  examples?: unknown[];
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  oneOf?: Schema[];
  anyOf?: Schema[];
}

/** One row of a field table. */
export interface FieldRow {
  name: string;
  type: string;
  default: string;
  allowed: string;
  description: string;
  required: boolean;
}

const GENERATOR = 'tools/gen-step-docs.ts';
const NONE = '—';

function readSchema(...parts: string[]): Schema {
  return JSON.parse(fs.readFileSync(path.join(projectRoot(), 'schemas', ...parts), 'utf8')) as Schema;
}

/** A schema with a local `$ref` replaced by its target (the referring schema's own keywords win). */
function resolve(s: Schema, root: Schema): Schema {
  if (!s.$ref) return s;
  if (!s.$ref.startsWith('#/')) throw new Error(`${GENERATOR}: only local $refs are supported (${s.$ref})`);
  let target: unknown = root;
  for (const seg of s.$ref.slice(2).split('/'))
    target = (target as Record<string, unknown> | undefined)?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (!target || typeof target !== 'object') throw new Error(`${GENERATOR}: $ref ${s.$ref} not found`);
  const { $ref: _ref, ...own } = s;
  return { ...resolve(target as Schema, root), ...own };
}

const branches = (s: Schema): Schema[] => s.oneOf ?? s.anyOf ?? [];

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const unique = (xs: string[]) => [...new Set(xs)];

function typeOf(s: Schema, root: Schema): string {
  const r = resolve(s, root);
  if (r.const !== undefined) return jsonType(r.const);
  if (r.enum) return unique(r.enum.map(jsonType)).join(' or ');
  if (r.type) {
    const types = Array.isArray(r.type) ? r.type : [r.type];
    return types.map((t) => (t === 'array' && r.items ? `${typeOf(r.items, root)}[]` : t)).join(' or ');
  }
  const bs = branches(r);
  if (bs.length) return unique(bs.map((b) => typeOf(b, root))).join(' or ');
  if (r.properties) return 'object';
  return 'any';
}

/** A value written compactly: `[15, 35]`, `{}`, `{ a: 1 }`, strings in JSON quotes. */
function inline(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v);
    return entries.length ? `{ ${entries.map(([k, x]) => `${k}: ${inline(x)}`).join(', ')} }` : '{}';
  }
  return JSON.stringify(v);
}

/** A value in a code span: strings as written in YAML (unquoted), everything else compactly. */
function code(v: unknown): string {
  return '`' + (typeof v === 'string' ? v : inline(v)) + '`';
}

function range(r: Schema): string[] {
  const out: string[] = [];
  const lo = r.minimum !== undefined ? `${r.minimum}` : undefined;
  const hi = r.maximum !== undefined ? `${r.maximum}` : undefined;
  if (lo !== undefined && hi !== undefined) out.push(`${lo} to ${hi}`);
  else if (lo !== undefined) out.push(`≥ ${lo}`);
  else if (hi !== undefined) out.push(`≤ ${hi}`);
  if (r.exclusiveMinimum !== undefined) out.push(`> ${r.exclusiveMinimum}`);
  if (r.exclusiveMaximum !== undefined) out.push(`< ${r.exclusiveMaximum}`);
  return out;
}

/** A named type's own description (`$defs/duration`: "a duration such as …"), if `s` refers to one. */
function namedType(s: Schema, root: Schema): string | undefined {
  return s.$ref ? resolve({ $ref: s.$ref }, root).description : undefined;
}

/** Allowed values and ranges, in words. */
function allowedOf(s: Schema, root: Schema): string {
  const named = namedType(s, root);
  if (named) return named;
  const r = resolve(s, root);
  const out: string[] = [];
  if (r.const !== undefined) out.push(code(r.const));
  if (r.enum) out.push(r.enum.map(code).join(', '));
  out.push(...range(r));
  if (r.minLength === 1 && r.maxLength === undefined) out.push('non-empty');
  else {
    if (r.minLength !== undefined) out.push(`length ≥ ${r.minLength}`);
    if (r.maxLength !== undefined) out.push(`length ≤ ${r.maxLength}`);
  }
  if (r.pattern !== undefined) out.push(`matches ${code(r.pattern)}`);
  if (r.minItems !== undefined) out.push(`at least ${r.minItems} items`);
  if (r.maxItems !== undefined) out.push(`at most ${r.maxItems} items`);
  if (r.uniqueItems) out.push('no duplicates');
  if (r.items) {
    const each = allowedOf(r.items, root);
    if (each) out.push(`each ${each}`);
  }
  const bs = branches(r);
  if (bs.length)
    out.push(
      bs
        .map((b) => {
          if (resolve(b, root).properties) return 'an object (fields below)';
          return allowedOf(b, root) || `any ${typeOf(b, root)}`;
        })
        .join('; or '),
    );
  return out.join('; ');
}

/**
 * Every field of an object schema as table rows, nested objects flattened with dotted names (the
 * fields of an object form inside oneOf/anyOf too, e.g. `network.source`).
 */
export function fieldRows(s: Schema, root: Schema = s, prefix = ''): FieldRow[] {
  const rows: FieldRow[] = [];
  const required = new Set(s.required ?? []);
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    const r = resolve(prop, root);
    const full = prefix + name;
    rows.push({
      name: full,
      type: typeOf(r, root),
      default: r.default === undefined ? NONE : code(r.default),
      allowed: allowedOf(prop, root),
      // A field without its own description says what its named type is.
      description: (prop.$ref ? prop.description : r.description) ?? namedType(prop, root) ?? '',
      required: required.has(name),
    });
    if (r.properties) rows.push(...fieldRows(r, root, `${full}.`));
    for (const b of branches(r)) {
      const rb = resolve(b, root);
      if (rb.properties) rows.push(...fieldRows(rb, root, `${full}.`));
    }
  }
  return rows;
}

/** Templates (`${{ … }}`) and placeholders (`<dir>`, `top<N>`) in plain schema text. */
const CODE_LIKE = /\$\{\{[^}]*\}\}|'?[^\s,;()'"`]*(?:<[^<>]+>[^\s,;()'"`<]*)+'?/g;

/** Plain schema text made safe for a Markdown table cell: code-like parts in code spans, pipes escaped. */
function cell(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) =>
      i % 2 === 1 ? part : part.replace(CODE_LIKE, (t) => '`' + t.replace(/^'(.*)'$/, '$1') + '`'),
    )
    .join('')
    .replace(/\|/g, '\\|');
}

function fieldTable(rows: FieldRow[]): string {
  const head =
    '| field | type | default | allowed | description | required |\n| --- | --- | --- | --- | --- | --- |';
  const body = rows.map(
    (r) =>
      `| \`${r.name}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.allowed) || NONE} | ${cell(r.description) || NONE} | ${r.required ? 'yes' : 'no'} |`,
  );
  return [head, ...body].join('\n');
}

// ---- examples ------------------------------------------------------------------------------------

/** A scalar as YAML: plain where that reads back as the same string, else double-quoted. */
function yamlScalar(v: unknown): string {
  if (typeof v !== 'string') return JSON.stringify(v);
  const plain = /^[^\s'"&*!|>%@`#,[\]{}?:-][^#]*$/.test(v) && !/:\s|\s$/.test(v);
  if (plain) {
    try {
      if (parseYaml(v) === v) return v;
    } catch {
      // not plain after all
    }
  }
  return JSON.stringify(v);
}

/** A value as YAML lines at an indent: mappings in block style, lists of scalars in flow style. */
function yamlLines(value: unknown, indent: string): string[] {
  if (Array.isArray(value)) return [`[${value.map(yamlScalar).join(', ')}]`];
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return ['{}'];
    return entries.flatMap(([k, v]) => {
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0)
        return [`${indent}${k}:`, ...yamlLines(v, indent + '  ')];
      return [`${indent}${k}: ${yamlLines(v, indent + '  ').join('')}`];
    });
  }
  return [yamlScalar(value)];
}

/** `value` with its keys in the schema's property order (then any others), recursively. */
function ordered(value: unknown, s: Schema | undefined, root: Schema): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value) || !s) return value;
  const r = resolve(s, root);
  const props = r.properties ?? branches(r).find((b) => resolve(b, root).properties)?.properties ?? {};
  const v = value as Record<string, unknown>;
  const keys = [...Object.keys(props).filter((k) => k in v), ...Object.keys(v).filter((k) => !(k in props))];
  return Object.fromEntries(keys.map((k) => [k, ordered(v[k], props[k], root)]));
}

/** The `with:` a minimal step needs: each required field's example, else its default. */
function minimalWith(s: Schema, type: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of s.required ?? []) {
    const p = resolve(s.properties?.[name] ?? {}, s);
    const value = p.examples?.[0] ?? p.default;
    if (value === undefined)
      throw new Error(
        `${GENERATOR}: ${type}: required field "${name}" has neither "examples" nor "default" in its schema`,
      );
    out[name] = structuredClone(value);
  }
  return out;
}

/** A step of type `def` with `with`; `needs` are the steps its templates refer to. */
function stepYaml(def: StepType, withValue: Record<string, unknown>, s: Schema): string {
  const id = def.type.split('.').pop()!;
  const needs = unique(
    findTemplates(withValue).flatMap((t) => {
      const ref = parseExpression(t.expr);
      if (typeof ref === 'string' || ref.root === 'item')
        throw new Error(`${GENERATOR}: ${def.type}: example template "${t.expr}" needs a forEach`);
      return ref.root === 'steps' ? [ref.step] : [];
    }),
  );
  const lines = [`- id: ${id}`, `  uses: ${def.type}`];
  if (needs.length) lines.push(`  needs: [${needs.join(', ')}]`);
  if (Object.keys(withValue).length) lines.push('  with:', ...yamlLines(ordered(withValue, s, s), '    '));
  const text = lines.join('\n') + '\n';
  const back = parseYaml(text) as Array<{ with?: unknown }>;
  if (JSON.stringify(back[0].with ?? {}) !== JSON.stringify(ordered(withValue, s, s)))
    throw new Error(`${GENERATOR}: ${def.type}: the example YAML does not read back as written:\n${text}`);
  return text;
}

/** The step's `with:` with every schema default filled in, checked by the pipeline validator. */
function withDefaults(def: StepType, minimal: Record<string, unknown>): Record<string, unknown> {
  const value = structuredClone(minimal);
  const errors = validateStepWith(def.type, value).filter((e) => {
    let v: unknown = value;
    for (const seg of e.instancePath.split('/').slice(1))
      v = (v as Record<string, unknown> | undefined)?.[seg];
    return !isTemplate(v); // templates are checked at run time, as in a pipeline
  });
  if (errors.length)
    throw new Error(
      `${GENERATOR}: ${def.type}: the generated example is invalid: ${errors.map((e) => `${e.instancePath} ${e.message}`).join('; ')}`,
    );
  return value;
}

// ---- pages ---------------------------------------------------------------------------------------

const header = (sources: string[]) =>
  `<!-- Generated by ${GENERATOR} from ${sources.join(' and ')}. Do not edit: change the schema and run \`npm run docs:steps\`. -->`;

function runsAs(def: StepType): string {
  return def.execution === 'workflow' ? `child workflow \`${def.target}\`` : `activity \`${def.target}\``;
}

function outputsLine(def: StepType): string {
  const names = (kind: string) =>
    Object.entries(def.outputs)
      .filter(([, k]) => k === kind)
      .map(([n]) => `\`${n}\``)
      .join(', ');
  const lists = names('list');
  const values = names('value');
  return [lists && `lists (\`forEach\` can fan out over them): ${lists}`, values && `values: ${values}`]
    .filter(Boolean)
    .join('; ');
}

function timeoutLine(def: StepType): string {
  if (def.execution === 'workflow')
    return 'none of its own: it runs as a child workflow, so `timeout:` and `retry:` do not apply; its training activities take `heartbeatTimeout` and `activityTimeout` from `with:`';
  const t = def.timeout;
  return `start-to-close ${t.startToClose}${t.heartbeat ? `, heartbeat ${t.heartbeat}` : ''} (a step's \`timeout:\` overrides it)`;
}

function stepPage(def: StepType): string {
  const file = `schemas/steps/${def.schema}`;
  const s = readSchema('steps', def.schema);
  const title = s.title?.startsWith(`${def.type}: `) ? s.title.slice(def.type.length + 2) : s.title;
  const minimal = minimalWith(s, def.type);
  const full = withDefaults(def, minimal);
  const anyDefaults = JSON.stringify(full) !== JSON.stringify(minimal);
  const parts = [
    header([file, 'steps/registry.ts']),
    `# \`${def.type}\``,
    title ? `_${cell(title)}_` : '',
    s.description ?? '',
    [
      '| | |',
      '| --- | --- |',
      `| runs as | ${runsAs(def)} |`,
      `| task queue | the pipeline's \`${def.queue}\` queue (\`spec.taskQueues.${def.queue}\`) unless the step sets \`taskQueue:\` |`,
      `| timeout | ${timeoutLine(def)} |`,
      `| outputs | ${outputsLine(def)} |`,
      `| reads the dataset | ${def.usesDataset ? 'yes' : 'no'} |`,
      `| schema | [\`${file}\`](../../${file}) |`,
    ].join('\n'),
    '## Fields of `with:`',
    'Nested objects are flattened with dotted names; "required" holds within the enclosing object. A value may also be a template such as `${{ steps.<id>.outputs.<field> }}`, checked when the step runs.',
    fieldTable(fieldRows(s)),
    '## Example',
    (s.required ?? []).length
      ? 'The smallest step of this type: its required fields.'
      : 'The smallest step of this type: every field of `with:` has a default.',
    '```yaml\n' + stepYaml(def, minimal, s) + '```',
  ];
  if (anyDefaults)
    parts.push(
      'With every default filled in (what `autogan plan` resolves):',
      '```yaml\n' + stepYaml(def, full, s) + '```',
    );
  return parts.filter((p) => p !== '').join('\n\n') + '\n';
}

function indexPage(defs: readonly StepType[]): string {
  const pipeline = readSchema('pipeline.schema.json');
  const step = resolve({ $ref: '#/$defs/step' }, pipeline);
  const lists = (d: StepType) =>
    Object.entries(d.outputs)
      .filter(([, k]) => k === 'list')
      .map(([n]) => `\`${n}\``)
      .join(', ');
  return (
    [
      header(['schemas/', 'steps/registry.ts']),
      '# Step types',
      "Every `uses:` a pipeline step may name, one page each with the fields of its `with:`, generated from the step type's JSON Schema in `schemas/steps/` and its entry in `steps/registry.ts`. `autogan validate <file>` checks a pipeline against these schemas; `autogan plan <file>` prints it with every default filled in.",
      [
        '| `uses` | runs as | task queue | list outputs | what it does |',
        '| --- | --- | --- | --- | --- |',
        ...defs.map(
          (d) =>
            `| [\`${d.type}\`](${d.type}.md) | ${runsAs(d)} | ${d.queue} | ${lists(d) || NONE} | ${cell(d.summary)} |`,
        ),
      ].join('\n'),
      '## Fields of every step',
      "The fields of an entry of `spec.steps` (`$defs/step` in [`schemas/pipeline.schema.json`](../../schemas/pipeline.schema.json)). A step without `taskQueue:` or `timeout:` gets its step type's (see its page).",
      fieldTable(fieldRows(step, pipeline)),
    ].join('\n\n') + '\n'
  );
}

/** Every page, file name → Markdown, formatted with the project's Prettier settings. */
export async function renderStepDocs(): Promise<Map<string, string>> {
  const defs = stepTypes();
  const pages = new Map<string, string>([['README.md', indexPage(defs)]]);
  for (const def of defs) pages.set(`${def.type}.md`, stepPage(def));
  const config = (await prettier.resolveConfig(path.join(projectRoot(), 'docs', 'steps', 'README.md'))) ?? {};
  for (const [name, text] of pages)
    pages.set(name, await prettier.format(text, { ...config, parser: 'markdown' }));
  return pages;
}

/** Writes every page into `outDir` and removes Markdown files there that no step type has any more. */
export async function writeStepDocs(outDir: string): Promise<string[]> {
  const pages = await renderStepDocs();
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(outDir))
    if (f.endsWith('.md') && !pages.has(f)) fs.rmSync(path.join(outDir, f));
  for (const [name, text] of pages) fs.writeFileSync(path.join(outDir, name), text);
  return [...pages.keys()];
}

if (require.main === module) {
  const out = path.resolve(process.argv[2] ?? path.join(projectRoot(), 'docs', 'steps'));
  writeStepDocs(out).then(
    (files) =>
      console.log(`${GENERATOR}: wrote ${files.length} pages to ${path.relative(process.cwd(), out) || '.'}`),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
