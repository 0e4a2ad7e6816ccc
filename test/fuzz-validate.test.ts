// Property-based fuzzing of `autogan validate` (issue 11, "Hostile input"): the shipped pipelines,
// mutated byte by byte and value by value, and pipelines generated from scratch, go through the
// CLI's own code path in this process (`main([..., 'validate', file])`, console captured). For every
// file: no exception escapes (exit 0 or 2, never 1), an invalid file prints one `file:line:col:
// path: message` line per problem and a count that matches, a valid one prints its `ok` line, and
// each validation stays under a time and heap bound. A fixed seed keeps CI reproducible:
// FUZZ_SEED=<n> picks another, FUZZ_RUNS=<factor> scales the number of runs.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { main } from '../cli/main';
import { stepTypes } from '../steps/registry';

const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
/** Bounds per validation. */
const MAX_MS = 2000;
const MAX_HEAP_MB = 128;

const repo = path.join(__dirname, '..', '..');
const ORIGINALS = [
  ...fs.readdirSync(path.join(repo, 'pipelines')).map((f) => `pipelines/${f}`),
  ...fs.readdirSync(path.join(repo, 'pipelines', 'ablations')).map((f) => `pipelines/ablations/${f}`),
  ...fs
    .readdirSync(path.join(repo, 'pipelines', 'ablations', 'demo'))
    .map((f) => `pipelines/ablations/demo/${f}`),
].filter((f) => f.endsWith('.yaml'));

// A full collection gives a reliable heap figure for the large cases.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Outcome {
  code: number;
  out: string[];
  err: string[];
  warnings: string[];
  ms: number;
  heapMB: number;
}

const stats = { validations: 0, ok: 0, invalid: 0, maxMs: 0, maxMsCase: '', maxHeapMB: 0, maxHeapCase: '' };

/** `autogan validate <file>` in this process, exactly as bin/autogan.js runs it. */
async function validate(file: string): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  const { log, error } = console;
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  console.log = (...a: unknown[]) => void out.push(...a.map(String).join(' ').split('\n'));
  console.error = (...a: unknown[]) => void err.push(...a.map(String).join(' ').split('\n'));
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let code: number;
  try {
    code = await main(['node', 'autogan', 'validate', file]);
  } catch (e) {
    code = -1; // main() itself must never throw
    err.push(`escaped from main(): ${(e as Error).stack}`);
  } finally {
    console.log = log;
    console.error = error;
    process.exitCode = exitCode;
  }
  const ms = performance.now() - t0;
  const heapMB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
  process.off('warning', onWarning);
  return { code, out, err, warnings, ms, heapMB };
}

const ISSUE = /^([^:]+):(\d+):(\d+): (.+)$/;

function lineCount(file: string): number {
  const text = fs.readFileSync(file).toString('utf8');
  return (text.match(/\r\n|\r|\n/g)?.length ?? 0) + 1;
}

/** The contract of `validate`, whatever the input. */
function checkOutcome(file: string, o: Outcome, what: string): void {
  const ctx = () =>
    `${what}\nexit ${o.code} in ${o.ms.toFixed(0)} ms, heap +${o.heapMB.toFixed(1)} MB\nstdout:\n${o.out
      .join('\n')
      .slice(0, 2000)}\nstderr:\n${o.err.join('\n').slice(0, 4000)}`;
  stats.validations++;
  const case_ = what.split('\n')[0].slice(0, 120);
  if (o.ms > stats.maxMs) Object.assign(stats, { maxMs: o.ms, maxMsCase: case_ });
  if (o.heapMB > stats.maxHeapMB) Object.assign(stats, { maxHeapMB: o.heapMB, maxHeapCase: case_ });
  assert.ok(
    o.code === 0 || o.code === 2,
    `exit ${o.code}: only 0 (valid) or 2 (invalid) are allowed\n${ctx()}`,
  );
  assert.deepEqual(o.warnings, [], `process warnings were printed\n${ctx()}`);
  assert.ok(o.ms < MAX_MS, `validation took ${o.ms.toFixed(0)} ms (limit ${MAX_MS})\n${ctx()}`);
  assert.ok(o.heapMB < MAX_HEAP_MB, `heap grew ${o.heapMB.toFixed(0)} MB (limit ${MAX_HEAP_MB})\n${ctx()}`);
  if (o.code === 0) {
    stats.ok++;
    assert.deepEqual(o.err, [], ctx());
    assert.equal(o.out.length, 1, ctx());
    assert.ok(o.out[0].startsWith(`${file}: ok — pipeline `), ctx());
    return;
  }
  stats.invalid++;
  assert.deepEqual(o.out, [], ctx());
  const lines = [...o.err];
  const summary = /^(.*): (\d+) errors?; nothing was started$/.exec(lines.pop() ?? '');
  assert.ok(summary, `no "<file>: N errors; nothing was started" line\n${ctx()}`);
  assert.equal(summary[1], file, ctx());
  assert.ok(lines.length >= 1, ctx());
  assert.equal(Number(summary[2]), lines.length, `the count does not match the lines printed\n${ctx()}`);
  for (const l of lines) {
    const m = ISSUE.exec(l);
    assert.ok(m, `a line without file:line:col: ${JSON.stringify(l.slice(0, 300))}\n${ctx()}`);
    const [, where, line, col, rest] = m;
    // Each problem names the file that holds it: this one, or a base it extends.
    assert.ok(where === file || fs.statSync(where).isFile(), `"${where}" is not a file\n${ctx()}`);
    assert.ok(Number(line) >= 1 && Number(col) >= 1, ctx());
    if (fs.statSync(where).isFile())
      assert.ok(Number(line) <= lineCount(where), `line ${line} is past the end of ${where}\n${ctx()}`);
    assert.match(rest, /^\S.*: \S/, ctx());
    assert.ok(l.length < 4000, `a ${l.length}-character line\n${ctx()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations

/** Text put at the start of a line, indented like it: unknown keys, bad values, YAML oddities. */
const SNIPPETS = [
  'colour: red',
  'apiVersion: autogan/v2',
  'seed: .nan',
  'seed: 1e400',
  'seed: -.inf',
  'seed: 0x7fffffffffffffffffffffff',
  'seed: 123456789012345678901234567890',
  'name: &a x',
  'ref: *a',
  'ref: *nope',
  'x: &b [*b]',
  'x: &c {y: *c}',
  '? [a, b]\n: 1',
  '? {a: 1}\n: 1',
  '[[[[[[',
  '{{{{',
  ']]]}}}',
  '- id: extra\n  uses: dataset.inspect',
  '---',
  '...',
  '%YAML 1.1',
  '!!binary x: 1',
  'x: !!binary AAAA',
  'x: !foo bar',
  '<<: {a: 1}',
  '\t- tab',
  'extends: .',
  'extends: /dev/zero',
  'extends: ../../../../../../../../etc/hostname',
  'extends: demo-mnist.yaml',
  'extends: [a]',
  'extends: ""',
  'needs: [search, search]',
  'needs: [nope]',
  'forEach: inspect.constructor',
  'forEach: search.__proto__',
  'forEach: derive.toString',
  "with: {search: '${{ steps.search.outputs.constructor }}'}",
  "with: {search: '${{ steps.__proto__.outputs }}'}",
  "with: {shard: '${{ item.x }}'}",
  "with: '${{'",
  'uses: "a\\nb\\u0000c"',
  '"k\\u0000e\\ny": 1',
  'x: "\\ud800"',
  'x: "\u2028\u2029\u0085"',
  '# just a comment',
  `x: ${'y'.repeat(5000)}`,
  `x: "${'\\n'.repeat(200)}"`,
  'dataset: {kind: cifar10, path: 5}',
  'dataset: {kind: folder, path: [a]}',
  'path: {a: 1}',
  'kind: folder',
  'steps: []',
  'steps: {}',
  'steps: null',
  'spec: null',
  'spec: [1, 2]',
  'retry: {maximumAttempts: 1e400, backoffCoefficient: .nan}',
  'timeout: 1e9d',
  'timeout: {startToClose: 5m, heartbeat: []}',
  'taskQueue: ""',
  'id: __proto__',
  'id: constructor',
  '__proto__: {polluted: true}',
  'constructor: {prototype: {x: 1}}',
  'a: &x [1, 2]\nb: [*x, *x, *x, *x]',
  `deep: ${'['.repeat(200)}${']'.repeat(200)}`,
  `deep: ${'{a: '.repeat(60)}1${'}'.repeat(60)}`,
];

const HOSTILE_VALUES: unknown[] = [
  Infinity,
  -Infinity,
  NaN,
  -0,
  2 ** 53 + 2,
  1e-320,
  -1,
  0,
  2 ** 31,
  1.5,
  '',
  'NaN',
  '.nan',
  'Infinity',
  '1e400',
  '0x10',
  'null',
  '~',
  'yes',
  '${{',
  '${{ }}',
  '${{ steps.search.outputs }}',
  '${{ steps.nope.outputs.x }}',
  '${{ item }}',
  '${{ pipeline.x }}',
  '${{ steps.constructor.outputs }}',
  '__proto__',
  'constructor',
  '../../../../etc/passwd',
  '/dev/zero',
  'x'.repeat(20_000),
  '\u0000\u0001\u007f',
  '\ud800',
  'a\nb',
  'fid-inception:',
  'fid-inception:../../..',
  null,
  true,
  [],
  {},
  [[[[[[[[[[]]]]]]]]]],
  { __proto__: null, constructor: 1 },
];

/** Deeply nested lists: within and beyond the nesting limit. */
const nested = fc.integer({ min: 1, max: 120 }).map((d) => {
  let v: unknown = 1;
  for (let i = 0; i < d; i++) v = [v];
  return v;
});

const hostileValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_VALUES) },
  { weight: 1, arbitrary: nested },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

type TextOp =
  | { op: 'flip'; at: number; byte: number }
  | { op: 'insertBytes'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; len: number }
  | { op: 'truncate'; at: number }
  | { op: 'snippet'; line: number; text: string }
  | { op: 'dupLine'; line: number; times: number }
  | { op: 'swapLines'; a: number; b: number };

const at = fc.nat({ max: 1 << 20 });
const textOp: fc.Arbitrary<TextOp> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at, byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    op: fc.constant('insertBytes' as const),
    at,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ op: fc.constant('delete' as const), at, len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('truncate' as const), at }),
  fc.record({ op: fc.constant('snippet' as const), line: at, text: fc.constantFrom(...SNIPPETS) }),
  fc.record({ op: fc.constant('dupLine' as const), line: at, times: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('swapLines' as const), a: at, b: at }),
);

function applyTextOp(buf: Buffer, m: TextOp): Buffer {
  const n = buf.length;
  const lines = () => buf.toString('latin1').split('\n');
  const join = (ls: string[]) => Buffer.from(ls.join('\n'), 'latin1');
  switch (m.op) {
    case 'flip': {
      if (n === 0) return Buffer.from([m.byte]);
      const b = Buffer.from(buf);
      b[m.at % n] = m.byte;
      return b;
    }
    case 'insertBytes': {
      const i = m.at % (n + 1);
      return Buffer.concat([buf.subarray(0, i), m.bytes, buf.subarray(i)]);
    }
    case 'delete': {
      const i = m.at % (n + 1);
      return Buffer.concat([buf.subarray(0, i), buf.subarray(i + m.len)]);
    }
    case 'truncate':
      return buf.subarray(0, m.at % (n + 1));
    case 'snippet': {
      const ls = lines();
      const i = m.line % ls.length;
      const indent = /^[ \t-]*/.exec(ls[i])![0].replace(/-/g, ' ');
      const text = Buffer.from(m.text, 'utf8').toString('latin1'); // keep UTF-8 bytes through latin1
      ls.splice(i, 0, ...text.split('\n').map((t) => indent + t));
      return join(ls);
    }
    case 'dupLine': {
      const ls = lines();
      const i = m.line % ls.length;
      ls.splice(i, 0, ...Array<string>(m.times).fill(ls[i]));
      return join(ls);
    }
    case 'swapLines': {
      const ls = lines();
      const [i, j] = [m.a % ls.length, m.b % ls.length];
      [ls[i], ls[j]] = [ls[j], ls[i]];
      return join(ls);
    }
  }
}

type Data = Record<string, unknown>;
type StructOp =
  | { op: 'set'; path: number; value: unknown }
  | { op: 'delete'; path: number }
  | { op: 'addKey'; path: number; key: string; value: unknown }
  | { op: 'dupStep'; step: number };

const weirdKey = fc.oneof(
  fc.constantFrom(
    'colour',
    '__proto__',
    'constructor',
    'toString',
    'needs',
    'with',
    'a b',
    'x: y',
    '',
    '\n',
    '${{',
  ),
  fc.string({ maxLength: 12 }),
);
const structOp: fc.Arbitrary<StructOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), path: at, value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), path: at }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('addKey' as const),
      path: at,
      key: weirdKey,
      value: hostileValue,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dupStep' as const), step: at }) },
);

/** Every path to a value inside `data` (the root excluded). */
function paths(data: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  if (data && typeof data === 'object')
    for (const [k, v] of Object.entries(data)) {
      const p = [...at, Array.isArray(data) ? Number(k) : k];
      out.push(p);
      paths(v, p, out);
    }
  return out;
}

function applyStructOp(data: Data, m: StructOp): void {
  const all = paths(data);
  const containers = [[], ...all].filter((p) => {
    const v = p.reduce<unknown>((o, k) => (o as Data)[k], data);
    return v && typeof v === 'object';
  });
  const parentOf = (p: Array<string | number>) =>
    p.slice(0, -1).reduce<unknown>((o, k) => (o as Data)[k], data) as Data;
  if (m.op === 'set' && all.length) {
    const p = all[m.path % all.length];
    parentOf(p)[p[p.length - 1]] = structuredClone(m.value);
  } else if (m.op === 'delete' && all.length) {
    const p = all[m.path % all.length];
    const parent = parentOf(p);
    if (Array.isArray(parent)) parent.splice(Number(p[p.length - 1]), 1);
    else delete parent[p[p.length - 1]];
  } else if (m.op === 'addKey') {
    const p = containers[m.path % containers.length];
    const target = p.reduce<unknown>((o, k) => (o as Data)[k], data) as Data;
    if (Array.isArray(target)) target.push(structuredClone(m.value));
    else
      Object.defineProperty(target, m.key, {
        value: structuredClone(m.value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  } else if (m.op === 'dupStep') {
    const steps = (data.spec as Data | undefined)?.steps;
    if (Array.isArray(steps) && steps.length) steps.push(structuredClone(steps[m.step % steps.length]));
  }
}

type Style = 'block' | 'flow' | 'json';
function render(data: unknown, style: Style): string {
  if (style === 'json') return JSON.stringify(data, null, 1) ?? 'null';
  return stringifyYaml(data, { collectionStyle: style === 'flow' ? 'flow' : 'block', lineWidth: 0 });
}

// ---------------------------------------------------------------------------------------------

describe('autogan validate under fuzzing (issue 11: hostile input)', function () {
  this.timeout(120_000);
  let root = '';
  let counter = 0;
  const originals = new Map<string, Buffer>();
  const originalCode = new Map<string, number>();

  /** Writes a mutant next to its original (so `extends:` resolves) and validates it. */
  async function run(base: string, content: Buffer | string, what: string): Promise<Outcome> {
    const file = path.join(root, path.dirname(base), `fuzz-${++counter}.yaml`);
    fs.writeFileSync(file, content);
    try {
      const o = await validate(file);
      checkOutcome(file, o, `${what} (from ${base})`);
      return o;
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  before(async () => {
    console.log(
      `      fuzz seed ${SEED} (FUZZ_SEED=<n> for another, FUZZ_RUNS=<factor> to scale ${ORIGINALS.length} originals' runs)`,
    );
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'autogan-fuzz-'));
    fs.cpSync(path.join(repo, 'pipelines'), path.join(root, 'pipelines'), { recursive: true });
    for (const f of ORIGINALS) {
      originals.set(f, fs.readFileSync(path.join(repo, f)));
      const o = await validate(path.join(root, f));
      checkOutcome(path.join(root, f), o, `original ${f}`);
      originalCode.set(f, o.code);
    }
    // The demo pipelines are valid on any machine; the paper's need their dataset files.
    assert.equal(originalCode.get('pipelines/demo-mnist.yaml'), 0);
    assert.equal(originalCode.get('pipelines/ablations/demo/single-level.yaml'), 0);
  });

  after(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
    console.log(
      `      ${stats.validations} validations (${stats.ok} valid, ${stats.invalid} invalid); ` +
        `slowest ${stats.maxMs.toFixed(0)} ms (${stats.maxMsCase}), ` +
        `largest heap growth ${stats.maxHeapMB.toFixed(1)} MB (${stats.maxHeapCase}); ` +
        `process peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; seed ${SEED}`,
    );
  });

  it('byte flips, insertions, deletions, truncation and inserted snippets: exit 0 or 2, every error placed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ORIGINALS),
        fc.array(textOp, { minLength: 1, maxLength: 5 }),
        async (base, ops) => {
          const buf = ops.reduce(applyTextOp, originals.get(base)!);
          await run(base, buf, `text ops ${JSON.stringify(ops).slice(0, 1500)}`);
        },
      ),
      { seed: SEED, numRuns: runs(1000) },
    );
  });

  it('values swapped for huge numbers, NaN-like strings, deep nesting, unknown keys, wrong types', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ORIGINALS),
        fc.array(structOp, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<Style>('block', 'flow', 'json'),
        async (base, ops, style) => {
          const data = parseYaml(originals.get(base)!.toString('utf8')) as Data;
          for (const m of ops) applyStructOp(data, m);
          await run(base, render(data, style), `${style} ${JSON.stringify(ops).slice(0, 1500)}`);
        },
      ),
      { seed: SEED + 1, numRuns: runs(600) },
    );
  });

  it('pipelines generated from scratch out of the registered step types', async () => {
    const types = stepTypes();
    const ids = ['inspect', 'search', 'derive', 'retrain', 'evaluate', 'x'];
    const step = fc.record(
      {
        id: fc.oneof(fc.constantFrom(...ids), fc.string({ maxLength: 6 })),
        uses: fc.oneof(fc.constantFrom(...types.map((t) => t.type)), fc.string({ maxLength: 12 })),
        needs: fc.subarray(ids),
        forEach: fc.constantFrom(
          ...types.flatMap((t) => Object.keys(t.outputs).map((o) => `${ids[types.indexOf(t) % 5]}.${o}`)),
          'derive.constructor',
        ),
        with: fc.oneof(
          fc.constant({}),
          fc.dictionary(fc.string({ maxLength: 8 }), hostileValue, { maxKeys: 3 }),
        ),
        retry: fc.record({ maximumAttempts: fc.oneof(fc.nat(), hostileValue) }, { requiredKeys: [] }),
        timeout: fc.oneof(fc.constantFrom('10m', '1.5h', '0s', 'forever'), hostileValue),
      },
      { requiredKeys: ['id', 'uses'] },
    );
    const pipeline = fc.record(
      {
        apiVersion: fc.oneof(fc.constant('autogan/v1'), hostileValue),
        kind: fc.oneof(fc.constant('Pipeline'), hostileValue),
        metadata: fc.record({ name: fc.oneof(fc.constant('gen'), fc.string({ maxLength: 70 })) }),
        spec: fc.record(
          {
            dataset: fc.record(
              {
                kind: fc.constantFrom('mnist', 'cifar10', 'stl10', 'folder', 'imagenet'),
                path: fc.oneof(fc.constantFrom('.', 'nope', '/dev/null'), hostileValue),
              },
              { requiredKeys: ['kind'] },
            ),
            seed: fc.oneof(fc.nat(), hostileValue),
            backend: fc.constantFrom('auto', 'cpu', 'tpu'),
            steps: fc.array(step, { maxLength: 6 }),
          },
          { requiredKeys: ['dataset', 'steps'] },
        ),
      },
      { requiredKeys: ['apiVersion', 'kind', 'metadata', 'spec'] },
    );
    await fc.assert(
      fc.asyncProperty(pipeline, fc.constantFrom<Style>('block', 'flow', 'json'), async (p, style) => {
        await run('pipelines/generated.yaml', render(p, style), `generated ${style}`);
      }),
      { seed: SEED + 2, numRuns: runs(500) },
    );
  });

  it('a valid pipeline stays valid when only its form changes (comments, blank lines, key order, flow or JSON style)', async () => {
    const valid = ORIGINALS.filter((f) => originalCode.get(f) === 0);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...valid),
        fc.constantFrom<Style | 'comments'>('block', 'flow', 'json', 'comments'),
        fc.boolean(),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        async (base, style, reverse, where) => {
          const text = originals.get(base)!.toString('utf8');
          let out: string;
          if (style === 'comments') {
            const ls = text.split('\n');
            for (const w of where)
              ls.splice(w % (ls.length + 1), 0, w % 2 ? '' : `# note ${w} : [ { & * ! |`);
            out = ls.join('\n');
          } else {
            const data = parseYaml(text) as Data;
            const reorder = (v: unknown): unknown =>
              Array.isArray(v)
                ? v.map(reorder)
                : v && typeof v === 'object'
                  ? Object.fromEntries(
                      (reverse ? Object.entries(v).reverse() : Object.entries(v)).map(([k, x]) => [
                        k,
                        reorder(x),
                      ]),
                    )
                  : v;
            out = render(reorder(data), style);
          }
          const o = await run(base, out, `${style}${reverse ? ' reversed' : ''} rendering`);
          assert.equal(o.code, 0, `a valid pipeline became invalid: ${o.err.join('\n')}`);
        },
      ),
      { seed: SEED + 3, numRuns: runs(200) },
    );
  });

  // Every bug the fuzzer or the issue found, kept as an example with the exact answer expected.
  describe('regressions', () => {
    const demo = () => originals.get('pipelines/demo-mnist.yaml')!.toString('utf8');
    async function expectBad(
      content: Buffer | string,
      line: number,
      col: number,
      text: RegExp,
      base = 'pipelines/demo-mnist.yaml',
    ) {
      gc();
      const o = await run(base, content, String(text));
      assert.equal(o.code, 2, o.err.join('\n'));
      const first = ISSUE.exec(o.err[0])!;
      assert.deepEqual([Number(first[2]), Number(first[3])], [line, col], o.err[0]);
      assert.match(o.err.join('\n'), text);
      return o;
    }

    it('an alias bomb (billion laughs) is exit 2 with the file and a position, not exit 1', async () => {
      const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i < 10; i++)
        bomb.push(
          `${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9)
            .fill(`*${'abcdefghij'[i - 1]}`)
            .join(',')}]`,
        );
      await expectBad(bomb.join('\n') + '\n', 1, 1, /Excessive alias count/);
      // The same bomb inside a real pipeline, where the validator would walk into it.
      await expectBad(`${bomb.join('\n')}\n${demo()}`, 1, 1, /Excessive alias count/);
    });

    it('10,000 nested flow sequences, open or closed, and deep block nesting', async () => {
      await expectBad(`a: ${'['.repeat(10_000)}\n`, 1, 68, /nested more than 64 levels deep/);
      await expectBad(
        `a: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
        1,
        68,
        /nested more than 64 levels deep/,
      );
      await expectBad(`a: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`, 1, 260, /nested more than 64/);
      const block = Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
      const o = await run('pipelines/demo-mnist.yaml', block, 'deep block mapping');
      assert.match(o.err[0], /nested (more than 64 levels deep|too deeply)/);
      await expectBad(
        Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}- `).join('\n'),
        65,
        65,
        /64 levels/,
      );
    });

    it('nesting through aliases and an alias inside the value it names', async () => {
      const chain = ['x0: &x0 ' + '['.repeat(40) + '1' + ']'.repeat(40)];
      chain.push('x1: &x1 ' + '['.repeat(40) + '*x0' + ']'.repeat(40));
      await expectBad(chain.join('\n') + '\n', 2, 49, /nested more than 64 levels deep/);
      // Was exit 1 "Maximum call stack size exceeded": the template check walked the cycle.
      const rec = demo().replace(
        '      with:\n        search: ${{ steps.search.outputs }}',
        '      with: &w\n        search: *w',
      );
      // The line of the derive step's `search:` (the demo's comments may grow).
      const line = demo().split('\n').indexOf('        search: ${{ steps.search.outputs }}') + 1;
      await expectBad(rec, line, 17, /alias \*w is inside the value it names/);
    });

    it('5 MB of comments is read (and valid); a 5 MB string or file of values is refused at once', async () => {
      const comments = demo() + `# ${'x'.repeat(5 * 2 ** 20)}\n` + '#\n'.repeat(1000);
      gc();
      const o = await run('pipelines/demo-mnist.yaml', comments, '5 MB comment');
      assert.equal(o.code, 0, o.err.join('\n'));
      await expectBad(
        demo().replace('name: demo-mnist', `name: "${'x'.repeat(5 * 2 ** 20)}"`),
        8,
        9,
        /a value longer than 1048576 characters/,
      );
      await expectBad(`a: [${'1,'.repeat(2_500_000)}1]\n`, 1, 20_002, /more than 20000 YAML values/);
      await expectBad(
        Array.from({ length: 300_000 }, (_, i) => `k${i}: 1`).join('\n'),
        6667,
        8,
        /more than 20000 YAML values/,
      );
      await expectBad(Buffer.alloc(9 * 2 ** 20, '#'), 1, 1, /at most 8 MiB/);
    });

    it('non-UTF-8 bytes are an error at the first bad byte', async () => {
      const bytes = Buffer.from(demo().replace('name: demo-mnist', 'name: demo-\u00e9-mnist'), 'utf8');
      const i = bytes.indexOf(Buffer.from('\u00e9', 'utf8'));
      bytes[i] = 0xff;
      await expectBad(bytes, 8, 14, /not valid UTF-8 \(byte 0xff\)/);
      await expectBad(
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a: 1\n', 'utf16le')]),
        1,
        1,
        /not valid UTF-8/,
      );
      await expectBad(Buffer.from([0x61, 0x3a, 0x20, 0xed, 0xa0, 0x80]), 1, 4, /UTF-8/); // an encoded surrogate
    });

    it('huge numbers and NaN are shown as such, not as null', async () => {
      await expectBad(
        demo().replace('seed: 1', `seed: 1${'0'.repeat(400)}`),
        13,
        9,
        /spec\.seed: must be integer \(got Infinity\)/,
      );
      await expectBad(demo().replace('seed: 1', 'seed: .nan'), 13, 9, /must be integer \(got NaN\)/);
    });

    it('a dataset path of the wrong type is exit 2 (was exit 1: path.resolve threw)', async () => {
      await expectBad(
        demo().replace('kind: mnist', 'kind: cifar10\n    path: 5'),
        13,
        11,
        /spec\.dataset\.path: must be string \(got 5\)/,
      );
      await expectBad(
        demo().replace('kind: mnist', 'kind: folder\n    path: [a]'),
        13,
        11,
        /must be string \(got a list\)/,
      );
    });

    it('a directory, a device or a FIFO as the file or as a base is exit 2 (was exit 1 EISDIR, or a hang)', async () => {
      const dir = path.join(root, 'a-dir.yaml');
      fs.mkdirSync(dir, { recursive: true });
      const o = await validate(dir);
      checkOutcome(dir, o, 'a directory');
      assert.match(o.err[0], /:1:1: \(file\): is a directory/);
      const base = 'pipelines/ablations/demo/single-level.yaml';
      const over = (to: string) =>
        originals.get(base)!.toString('utf8').replace('extends: ../../demo-mnist.yaml', `extends: ${to}`);
      await expectBad(over('.'), 4, 10, /base pipeline .* is a directory/, base);
      await expectBad(over('/dev/zero'), 4, 10, /base pipeline \/dev\/zero is not a regular file/, base);
      const fifo = path.join(root, 'fifo.yaml');
      if (spawnSync('mkfifo', [fifo]).status === 0)
        await expectBad(over(fifo), 4, 10, /fifo\.yaml is not a regular file/, base); // reading it would block
    });

    it('duplicate keys, also `1` and `"1"`, are each reported with the line of the first', async () => {
      const o = await expectBad(
        demo().replace('  seed: 1\n', '  seed: 1\n  "seed": 2\n  seed: 3\n'),
        14,
        3,
        /14:3: \(yaml\): duplicate key "seed" \(first at line 13\)/,
      );
      assert.match(o.err[1], /15:3: \(yaml\): duplicate key "seed" \(first at line 13\)/);
      await expectBad('a: {1: x, "1": y}\n', 1, 11, /duplicate key "1"/);
    });

    it('more than 200 steps, thousands of keys or of problems stay fast (were quadratic) and are cut short', async () => {
      const head =
        'apiVersion: autogan/v1\nkind: Pipeline\nmetadata: {name: t}\nspec:\n  dataset: {kind: mnist}\n  steps:\n';
      const many = Array.from(
        { length: 1000 },
        (_, i) => `    - {id: s${i}, uses: dataset.inspect, needs: [x${i}]}`,
      );
      await expectBad(head + many.join('\n') + '\n', 207, 7, /more than 200 steps \(1000\)/);
      // 6,500 keys in one mapping: 1.5 s in the YAML library's own duplicate check, now linear.
      const keys = Array.from({ length: 6500 }, (_, i) => `  k${i}: 1`).join('\n');
      const o = await expectBad(
        demo().replace('spec:\n', `spec:\n${keys}\n`),
        11,
        3,
        /6400 more problems not shown/,
      );
      assert.equal(o.err.length, 102);
    });

    it('control characters and line breaks inside keys and values stay on one line', async () => {
      const o = await expectBad(
        demo().replace('    - id: inspect\n', '    - id: inspect\n      "evil\\nkey\\u0007": 1\n'),
        18,
        7,
        /evil\\u000akey\\u0007/,
      );
      assert.equal(o.err.length, 2);
      await expectBad(
        demo().replace('uses: dataset.inspect', 'uses: "dataset\\ninspect"'),
        18,
        13,
        /unknown step type "dataset\\u000ainspect"/,
      );
    });

    it('a key that is blank or not a plain name is quoted in the field path', async () => {
      // Found with FUZZ_SEED=2: the line read "file:88:1:  : unknown field " "".
      // The appended key is on the line after the demo's last one (the demo ends with a newline).
      const line = demo().split('\n').length;
      await expectBad(demo() + '" ": 1\n', line, 1, new RegExp(`:${line}:1: \\[" "\\]: unknown field " "`));
      await expectBad(
        demo().replace('  seed: 1\n', '  seed: 1\n  "a.b": 1\n'),
        14,
        3,
        /spec\["a\.b"\]: unknown/,
      );
    });

    it('keys that are collections or tagged are errors, not warnings on stderr', async () => {
      await expectBad('? [a, b]\n: 1\n', 1, 3, /a key must be a string/);
      await expectBad('!!binary x: 1\n', 1, 1, /a key must be a string/);
    });

    it('output names inherited from Object.prototype are not outputs', async () => {
      const text = demo().replace('forEach: derive.topK', 'forEach: derive.constructor');
      // The line the demo has its forEach on (the demo's comments may grow).
      const line =
        demo()
          .split('\n')
          .findIndex((l) => l.includes('forEach: derive.topK')) + 1;
      await expectBad(text, line, 16, /autogan.derive has no output "constructor"/);
    });
  });
});
