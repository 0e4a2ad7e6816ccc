// docs/steps/ is generated from the step schemas and the registry (tools/gen-step-docs.ts). The
// committed pages must be exactly what the generator writes now, so a schema change without
// `npm run docs:steps` fails here, and every registered step type must have its page.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../core/paths';
import { stepTypes } from '../steps/registry';
import { fieldRows, writeStepDocs, type Schema } from '../tools/gen-step-docs';

const committedDir = path.join(projectRoot(), 'docs', 'steps');
const REGENERATE = 'run `npm run docs:steps` and commit docs/steps/';

const markdownIn = (dir: string) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.md'))
        .sort()
    : [];

/** Where two texts first differ, as "line N: committed … / generated …". */
function firstDifference(committed: string, fresh: string): string {
  const a = committed.split('\n');
  const b = fresh.split('\n');
  const i = a.findIndex((line, n) => line !== b[n]);
  const at = i === -1 ? a.length : i;
  return `line ${at + 1}: committed ${JSON.stringify(a[at] ?? '(end of file)')}, generated ${JSON.stringify(b[at] ?? '(end of file)')}`;
}

describe('docs/steps: generated from the schemas', () => {
  let fresh: string;

  before(async function () {
    this.timeout(60_000);
    fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'autogan-docs-steps-'));
    await writeStepDocs(fresh);
  });

  after(() => fs.rmSync(fresh, { recursive: true, force: true }));

  it('the committed pages equal what tools/gen-step-docs.ts writes from the schemas now', () => {
    const generated = markdownIn(fresh);
    const committed = markdownIn(committedDir);
    const problems: string[] = [];
    for (const f of generated) {
      if (!committed.includes(f)) {
        problems.push(`docs/steps/${f} is missing`);
        continue;
      }
      const a = fs.readFileSync(path.join(committedDir, f), 'utf8');
      const b = fs.readFileSync(path.join(fresh, f), 'utf8');
      if (a !== b) problems.push(`docs/steps/${f} is out of date (${firstDifference(a, b)})`);
    }
    for (const f of committed)
      if (!generated.includes(f)) problems.push(`docs/steps/${f} belongs to no step type any more`);
    assert.deepEqual(
      problems,
      [],
      `docs/steps/ differs from the schemas: ${REGENERATE}\n${problems.join('\n')}`,
    );
  });

  it('every step type in the registry has a page, linked from the index', () => {
    const index = fs.existsSync(path.join(committedDir, 'README.md'))
      ? fs.readFileSync(path.join(committedDir, 'README.md'), 'utf8')
      : '';
    const problems: string[] = [];
    for (const t of stepTypes()) {
      const page = path.join(committedDir, `${t.type}.md`);
      if (!fs.existsSync(page)) problems.push(`${t.type}: no docs/steps/${t.type}.md`);
      else if (!fs.readFileSync(page, 'utf8').includes(`# \`${t.type}\``))
        problems.push(`${t.type}: docs/steps/${t.type}.md does not have its heading`);
      if (!index.includes(`](${t.type}.md)`))
        problems.push(`${t.type}: docs/steps/README.md does not link it`);
    }
    assert.deepEqual(problems, [], `${REGENERATE}\n${problems.join('\n')}`);
  });

  it('every field of every step schema is on its page, with a description from the schema', () => {
    const problems: string[] = [];
    for (const t of stepTypes()) {
      const schema = JSON.parse(
        fs.readFileSync(path.join(projectRoot(), 'schemas', 'steps', t.schema), 'utf8'),
      ) as Schema;
      const page = fs.readFileSync(path.join(fresh, `${t.type}.md`), 'utf8');
      for (const name of Object.keys(schema.properties ?? {}))
        if (!page.includes(`| \`${name}\` `)) problems.push(`${t.type}: field ${name} has no row`);
      for (const row of fieldRows(schema))
        if (!row.description)
          problems.push(`${t.type}: ${row.name} has no "description" in schemas/steps/${t.schema}`);
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
