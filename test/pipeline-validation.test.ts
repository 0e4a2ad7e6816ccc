import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatIssue, loadPipeline, parsePipeline } from '../pipeline/load';
import { archProblem, directInputProblems, DURATION_PATTERN } from '../pipeline/direct-input';
import { projectRoot } from '../core/paths';
import { check, HEADER } from './helpers/pipeline-text';

/** Asserts exactly one issue, at line:col, on `field`, whose message contains `text`. */
function expectIssue(yaml: string, line: number, col: number, field: string, text: string) {
  const { plan, issues } = check(yaml);
  assert.equal(plan, undefined, 'an invalid pipeline must not produce a plan');
  const hit = issues.find((i) => i.path === field);
  assert.ok(hit, `no issue on ${field}; got:\n${issues.map(formatIssue).join('\n')}`);
  assert.deepEqual([hit.line, hit.col], [line, col], formatIssue(hit));
  assert.match(hit.message, new RegExp(text));
  assert.equal(hit.file, 'test.yaml');
}

describe('pipeline validation', () => {
  it('accepts a valid pipeline and fills in every default', () => {
    const { plan, issues } = check(HEADER + '    - id: a\n      uses: dataset.inspect\n');
    assert.deepEqual(issues, []);
    const step = plan!.steps[0];
    assert.deepEqual(step.with, { shards: 4 });
    assert.deepEqual(step.retry, {
      maximumAttempts: 10,
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
    });
    assert.equal(step.taskQueue, 'autogan-control');
    assert.equal(step.timeout.startToClose, '10m');
    assert.equal(plan!.spec.backend, 'auto');
    assert.equal(plan!.spec.seed, 0);
    assert.equal(plan!.spec.artifacts.path, '/tmp/runs');
  });

  it('reports YAML syntax errors with their position', () => {
    const { issues } = check(HEADER + '    - id: a\n      uses: [unclosed\n');
    assert.ok(issues.length > 0);
    assert.equal(issues[0].path, '(yaml)');
    assert.ok(issues[0].line >= 10, formatIssue(issues[0]));
  });

  it('reports a wrong type at the value, naming the expected type', () => {
    expectIssue(
      HEADER + '    - id: a\n      uses: dataset.inspect\n      with:\n        shards: many\n',
      12,
      17,
      'spec.steps[0].with.shards',
      'must be integer \\(got "many"\\)',
    );
  });

  it('reports an unknown field at its key and lists the allowed ones', () => {
    expectIssue(
      HEADER + '    - id: a\n      uses: dataset.inspect\n      colour: red\n',
      11,
      7,
      'spec.steps[0].colour',
      'unknown field "colour": expected one of id, uses',
    );
  });

  it('reports a missing required field at the object that lacks it', () => {
    expectIssue(HEADER + '    - id: a\n', 9, 7, 'spec.steps[0].uses', 'missing required field "uses"');
  });

  it('rejects an unknown step type and lists the registered ones', () => {
    expectIssue(
      HEADER + '    - id: a\n      uses: train.everything\n',
      10,
      13,
      'spec.steps[0].uses',
      'unknown step type "train.everything": expected one of .*dataset.inspect',
    );
  });

  it('rejects needs naming no step', () => {
    expectIssue(
      HEADER + '    - id: a\n      uses: dataset.inspect\n      needs: [b]\n',
      11,
      15,
      'spec.steps[0].needs[0]',
      'needs "b", but no step has that id',
    );
  });

  it('rejects duplicate step ids, pointing at the second and naming the first', () => {
    expectIssue(
      HEADER + '    - id: a\n      uses: dataset.inspect\n    - id: a\n      uses: dataset.inspect\n',
      11,
      11,
      'spec.steps[1].id',
      'duplicate step id "a" \\(first defined at line 9\\)',
    );
  });

  it('rejects dependency cycles and prints the cycle', () => {
    const yaml =
      HEADER +
      '    - id: a\n      uses: dataset.inspect\n      needs: [b]\n    - id: b\n      uses: dataset.inspect\n      needs: [a]\n';
    expectIssue(yaml, 11, 14, 'spec.steps[0].needs', 'dependency cycle: a -> b -> a');
  });

  it('rejects forEach over a single-value output', () => {
    const yaml =
      HEADER +
      '    - id: a\n      uses: dataset.inspect\n    - id: b\n      uses: dataset.stats\n      forEach: a.count\n      with:\n        shard: ${{ item }}\n';
    expectIssue(
      yaml,
      13,
      16,
      'spec.steps[1].forEach',
      'forEach needs a list output, but "count" of dataset.inspect is a single value \\(list outputs: shards\\)',
    );
  });

  it('rejects forEach over an output the step type does not have', () => {
    const yaml =
      HEADER +
      '    - id: a\n      uses: dataset.inspect\n    - id: b\n      uses: dataset.stats\n      forEach: a.nothing\n      with:\n        shard: ${{ item }}\n';
    expectIssue(yaml, 13, 16, 'spec.steps[1].forEach', 'dataset.inspect has no output "nothing"');
  });

  it('rejects templates that reference a step outside the needs', () => {
    const yaml =
      HEADER +
      '    - id: a\n      uses: dataset.inspect\n    - id: b\n      uses: dataset.stats\n      with:\n        shard: ${{ steps.a.outputs.shards }}\n';
    expectIssue(yaml, 14, 16, 'spec.steps[1].with.shard', "not among this step's needs");
  });

  it('rejects ${{ item }} in a step without forEach', () => {
    const yaml = HEADER + '    - id: b\n      uses: dataset.stats\n      with:\n        shard: ${{ item }}\n';
    expectIssue(yaml, 12, 16, 'spec.steps[0].with.shard', 'only defined in a step with forEach');
  });

  it('checks that dataset paths exist when a step reads the dataset', () => {
    const yaml =
      HEADER.replace('kind: mnist', 'kind: cifar10\n    path: /no/such/cifar') +
      '    - id: a\n      uses: dataset.inspect\n';
    expectIssue(
      yaml,
      8,
      11,
      'spec.dataset.path',
      'dataset path /no/such/cifar does not exist \\(read by steps a\\)',
    );
  });

  it('reports every error at once, in file order', () => {
    const yaml =
      HEADER.replace('name: t', 'name: T!') + '    - id: a\n      uses: nope\n      needs: [zzz]\n';
    const { issues } = check(yaml);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['metadata.name', 'spec.steps[0].uses', 'spec.steps[0].needs[0]'],
    );
  });

  it('adds the forEach source to needs and orders steps by dependency', () => {
    const yaml =
      HEADER +
      '    - id: b\n      uses: dataset.stats\n      forEach: a.shards\n      with:\n        shard: ${{ item }}\n    - id: a\n      uses: dataset.inspect\n';
    const { plan, issues } = check(yaml);
    assert.deepEqual(issues, []);
    assert.deepEqual(
      plan!.steps.map((s) => s.id),
      ['a', 'b'],
    );
    assert.deepEqual(plan!.steps[1].needs, ['a']);
    assert.equal(plan!.steps[1].taskQueue, 'autogan-gpu');
  });

  describe('autogan validate', () => {
    const cli = path.join(__dirname, '..', '..', 'bin', 'autogan.js');
    it('exits 2 and prints file:line:col for each error', () => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'agv-')), 'bad.yaml');
      fs.writeFileSync(file, HEADER + '    - id: a\n      uses: nope\n      needs: [zzz]\n');
      const r = spawnSync(process.execPath, [cli, 'validate', file], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:10:13: spec.steps\\[0\\].uses: unknown step type "nope"`,
        ),
      );
      assert.match(r.stderr, /2 errors; nothing was started/);
    });
    it('exits 0 on the shipped demo pipeline', () => {
      const r = spawnSync(
        process.execPath,
        [cli, 'validate', path.join(__dirname, '..', '..', 'pipelines', 'demo-mnist.yaml')],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /ok — pipeline demo-mnist/);
    });
  });

  it('an alias bomb is a bad file with a position, not a crash', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(', ')}]`,
      );
    const { plan, issues } = check(bomb.join('\n') + '\n');
    assert.equal(plan, undefined);
    assert.equal(issues.length, 1);
    assert.deepEqual([issues[0].file, issues[0].line, issues[0].path], ['test.yaml', 1, '(yaml)']);
    assert.match(issues[0].message, /alias/i);
  });

  describe('extends', () => {
    const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'agx-'));
    const BASE = [
      'apiVersion: autogan/v1',
      'kind: Pipeline',
      'metadata: { name: base, description: the base }',
      'spec:',
      '  dataset: { kind: mnist }',
      '  seed: 7',
      '  steps:',
      '    - id: inspect',
      '      uses: dataset.inspect',
      '      with: { shards: 2 }',
      '    - id: stats',
      '      uses: dataset.stats',
      '      forEach: inspect.shards',
      '      with:',
      '        shard: ${{ item }}',
      '',
    ].join('\n');

    it('merges mappings key by key, replaces lists and scalars, merges steps by id and appends new ones', () => {
      const d = dir();
      fs.writeFileSync(path.join(d, 'base.yaml'), BASE);
      fs.writeFileSync(
        path.join(d, 'over.yaml'),
        [
          'extends: base.yaml',
          'apiVersion: autogan/v1',
          'kind: Pipeline',
          'metadata: { name: over }',
          'spec:',
          '  seed: 9',
          '  steps:',
          '    - id: inspect',
          '      with: { shards: 3 }',
          '      timeout: 5m',
          '    - id: again',
          '      uses: dataset.inspect',
          '      needs: [stats]',
          '',
        ].join('\n'),
      );
      const plan = loadPipeline(path.join(d, 'over.yaml'), { checkFiles: false });
      assert.equal(plan.name, 'over');
      assert.equal(plan.description, 'the base', 'metadata merged key by key');
      assert.equal(plan.spec.seed, 9);
      assert.deepEqual(
        plan.steps.map((st) => st.id),
        ['inspect', 'stats', 'again'],
      );
      const inspect = plan.steps.find((st) => st.id === 'inspect')!;
      assert.equal(inspect.uses, 'dataset.inspect', 'kept from the base step');
      assert.deepEqual(inspect.with, { shards: 3 });
      assert.equal(inspect.timeout.startToClose, '5m');
      assert.equal(plan.steps.find((st) => st.id === 'stats')!.forEach?.step, 'inspect');
    });

    it('points each error into the file that holds the bad value; a cycle and a missing base are errors', () => {
      const d = dir();
      fs.writeFileSync(path.join(d, 'base.yaml'), BASE.replace('{ shards: 2 }', '{ shards: two }'));
      fs.writeFileSync(
        path.join(d, 'over.yaml'),
        'extends: base.yaml\nspec:\n  steps:\n    - id: stats\n      with: { nope: 1 }\n',
      );
      const { issues } = parsePipeline(
        fs.readFileSync(path.join(d, 'over.yaml'), 'utf8'),
        path.join(d, 'over.yaml'),
      );
      const inBase = issues.find((i) => i.path === 'spec.steps[0].with.shards');
      assert.ok(inBase, issues.map(formatIssue).join('\n'));
      assert.equal(path.basename(inBase.file), 'base.yaml');
      assert.deepEqual([inBase.line, inBase.col], [10, 23]);
      const inOver = issues.find((i) => i.path === 'spec.steps[1].with.nope');
      assert.ok(inOver, issues.map(formatIssue).join('\n'));
      assert.equal(path.basename(inOver.file), 'over.yaml');
      assert.equal(inOver.line, 5);
      fs.writeFileSync(path.join(d, 'a.yaml'), 'extends: b.yaml\n');
      fs.writeFileSync(path.join(d, 'b.yaml'), 'extends: a.yaml\n');
      assert.match(
        parsePipeline('extends: b.yaml\n', path.join(d, 'a.yaml')).issues[0].message,
        /already in this chain/,
      );
      const missing = parsePipeline('extends: gone.yaml\n', path.join(d, 'c.yaml')).issues[0];
      assert.deepEqual([missing.path, missing.line, missing.col], ['extends', 1, 10]);
      assert.match(missing.message, /gone\.yaml does not exist/);
    });
  });
});

describe('direct-start input checks (pipeline/direct-input.ts)', () => {
  it("use the step schemas' duration pattern", () => {
    for (const step of ['autogan.search', 'autogan.retrain']) {
      const schema = JSON.parse(
        fs.readFileSync(path.join(projectRoot(), 'schemas', 'steps', `${step}.schema.json`), 'utf8'),
      ) as { properties: Record<string, { pattern?: string }> };
      for (const field of ['heartbeatTimeout', 'activityTimeout'])
        assert.equal(schema.properties[field]?.pattern, DURATION_PATTERN.source, `${step} ${field}`);
    }
  });

  it('name nulls, bad durations and bad architectures; accept a good input', () => {
    assert.deepEqual(
      directInputProblems({ arch: [0, 1, 0, 1], heartbeatTimeout: '90s', gan: { gfDim: 8 } }),
      [],
    );
    const problems = directInputProblems({
      gan: null,
      heartbeatTimeout: 'abc',
      activityTimeout: 5,
      arch: [0, 1, 0, 5],
    });
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems[0], /"gan" is null/);
    assert.match(problems[1], /"heartbeatTimeout" is "abc"/);
    assert.match(problems[2], /"activityTimeout" is 5/);
    assert.match(problems[3], /"arch": cell 0 shortcut \(position 3\) is 5; expected an integer in 0\.\.1/);
    assert.match(archProblem('0 1')!, /expected a list of integers/);
  });
});
