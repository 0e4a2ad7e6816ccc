// Study files (every cell validated as the pipeline it makes, errors with file:line:col), study.json
// from cell records, and the study report.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatIssue, loadPipeline } from '../pipeline/load';
import { loadStudy, StudyInvalidError } from '../pipeline/study';
import { studyJson } from '../services/study/aggregate';
import { pickProxyArchs } from '../services/study/proxy';
import type { CellRecord, ProxyRecord } from '../services/study/records';
import { studyHtml } from '../services/study/report';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');
const TINY = path.join(FIXTURES, 'tiny-study.yaml');

/** A study file next to the fixtures (so `base: tiny-autogan.yaml` resolves); removed after. */
function studyFile(text: string): string {
  const file = path.join(FIXTURES, `.study-test-${process.pid}-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

function issuesOf(text: string): string[] {
  const file = studyFile(text);
  try {
    loadStudy(file);
    return [];
  } catch (err) {
    if (!(err instanceof StudyInvalidError)) throw err;
    return err.issues.map((i) => formatIssue({ ...i, file: path.basename(i.file) }));
  } finally {
    fs.rmSync(file);
  }
}

const HEAD = `apiVersion: autogan/v1
kind: Study
metadata: { name: t }
spec:
  base: tiny-autogan.yaml
  seeds: [1, 2]
  budget: { retrainIterations: 6 }
`;

describe('study files', () => {
  it('make one pipeline per (variant, seed): the overlay, the seed and the one budget', () => {
    const plan = loadStudy(TINY);
    assert.deepEqual(
      plan.cells.map((c) => c.id),
      ['autogan.seed1', 'autogan.seed2', 'random.seed1', 'random.seed2'],
    );
    for (const c of plan.cells) {
      assert.equal(c.plan.spec.seed, c.seed);
      const step = (uses: string) => c.plan.steps.find((s) => s.uses === uses)!;
      assert.equal(step('autogan.retrain').with.iterations, 6);
      assert.equal(step('autogan.retrain').with.evalImages, 20);
      assert.equal(step('autogan.evaluate').with.images, 20);
      assert.equal(step('autogan.search').with.topK, 1);
      assert.equal(step('autogan.derive').with.topK, 1);
      // The base's other settings stay.
      assert.equal(step('autogan.search').with.sharedSteps, 4);
      assert.equal(step('autogan.search').with.mode, c.variant === 'random' ? 'random' : 'multi-level');
    }
    assert.equal(plan.reference, 'autogan');
    assert.equal(plan.concurrency, 2);
    assert.equal(plan.proxy!.variant, 'autogan');
    const tmpl = plan.proxy!.retrain.steps;
    assert.equal(tmpl.length, 1);
    assert.equal(tmpl[0].forEach, undefined);
    assert.equal(tmpl[0].with.iterations, 4);
    assert.equal(tmpl[0].with.stepsPerActivity, 6); // the base's 6, under 4 iterations × nCritic 2
  });

  it('the shipped ablation study validates: 4 variants × 3 seeds and a proxy check of 12 architectures', () => {
    const plan = loadStudy(path.join(__dirname, '..', '..', 'pipelines', 'studies', 'ablation-mnist.yaml'));
    assert.equal(plan.variants.length, 4);
    assert.equal(plan.cells.length, 12);
    assert.equal(plan.proxy!.policyPerSeed * plan.seeds.length + plan.proxy!.random, 12);
    const noSharing = plan.cells.find((c) => c.id === 'random-no-sharing.seed1')!;
    const search = noSharing.plan.steps.find((s) => s.uses === 'autogan.search')!;
    assert.equal(search.with.weightSharing, false);
    assert.equal(search.with.sharedSteps, 200); // the demo's search settings
  });

  it('bad studies name the file, line, column and field', () => {
    assert.deepEqual(
      issuesOf(`${HEAD}  variants:\n    - name: a\n      colour: red\n`).map((l) => l.replace(/^[^:]*/, 'F')),
      [
        'F:10:7: spec.variants[0].colour: unknown field "colour": expected one of name, description, pipeline, with',
      ],
    );
  });

  it('catches duplicate names, a missing reference, unknown steps and overlays that make bad pipelines', () => {
    const text = `${HEAD}  reference: nope\n  variants:\n    - name: a\n    - name: a\n      with:\n        search: { mode: bogus }\n        nostep: { x: 1 }\n`;
    const got = issuesOf(text).join('\n');
    assert.match(got, /:11:13: spec\.variants\[1\]\.name: duplicate variant name "a"/);
    assert.match(got, /:8:14: spec\.reference: no variant is named "nope"/);
    const overlay = issuesOf(
      `${HEAD}  variants:\n    - name: a\n      with:\n        search: { mode: bogus }\n`,
    ).join('\n');
    assert.match(overlay, /:11:9: spec\.variants\[0\]\.with: seed 1: spec\.steps\[0\]\.with\.mode: .*random/);
    const nostep = issuesOf(
      `${HEAD}  variants:\n    - name: a\n      with:\n        nostep: { x: 1 }\n`,
    ).join('\n');
    assert.match(
      nostep,
      /:11:9: spec\.variants\[0\]\.with\.nostep: no step "nostep" in the variant's pipeline/,
    );
  });

  it('a variant pipeline must extend the base; a pipeline file is not a study', () => {
    const other = path.join(FIXTURES, '..', '..', 'pipelines', 'demo-mnist.yaml');
    const got = issuesOf(`${HEAD}  variants:\n    - name: a\n      pipeline: ${other}\n`).join('\n');
    assert.match(
      got,
      /:10:17: spec\.variants\[0\]\.pipeline: .* does not extend the base tiny-autogan\.yaml/,
    );
    const asStudy = issuesOf(fs.readFileSync(path.join(FIXTURES, 'tiny-autogan.yaml'), 'utf8')).join('\n');
    assert.match(asStudy, /kind: this is a pipeline file \(kind: Pipeline\)/);
    assert.throws(
      () => loadPipeline(TINY),
      /kind: this is a study file \(kind: Study\): use `autogan study validate`/,
    );
    const noBase = issuesOf(
      HEAD.replace('tiny-autogan.yaml', 'missing.yaml') + '  variants: [{ name: a }]\n',
    );
    assert.match(
      noBase.join('\n'),
      /:5:9: spec\.base: the base pipeline .*missing\.yaml is invalid: .*file does not exist/,
    );
  });
});

function record(variant: string, seed: number, is: number, fid: number): CellRecord {
  return {
    cell: `${variant}.seed${seed}`,
    variant,
    seed,
    workflowId: `s.${variant}.seed${seed}`,
    arch: [seed, 0, 1],
    is,
    isStd: 0.1,
    fid,
    searchSeconds: 100 + seed,
    computeSeconds: 300 + seed,
    iterations: 4,
    resets: 0,
    candidates: [
      { arch: [seed, 1, 1], score: 3 },
      { arch: [seed, 2, 2], score: 2 },
    ],
    search: { params: {} as CellRecord['search']['params'], supernet: 'x', stage: 1, iterations: 4 },
    curve: [
      { iteration: 1, stage: 0, reward: 2, entropy: 4, seconds: 25 },
      { iteration: 2, stage: 0, reward: 3, entropy: 3.5, seconds: 50 },
    ],
    samples: null,
  };
}

describe('study.json and the study report', () => {
  const plan = loadStudy(TINY);
  const records = [
    record('autogan', 1, 7.0, 10),
    record('autogan', 2, 7.4, 8),
    record('random', 1, 6.5, 12),
    record('random', 2, 6.8, 11),
  ];
  const proxy: ProxyRecord = {
    variant: 'autogan',
    iterations: 4,
    draws: 1,
    supernets: 2,
    retrainSeconds: 10,
    points: [
      { arch: [1, 1, 1], source: 'policy', proxy: 3, real: 7, fid: 9 },
      { arch: [2, 1, 1], source: 'policy', proxy: 2, real: 6, fid: 10 },
      { arch: [0, 0, 0], source: 'random', proxy: 1, real: 6.5, fid: 11 },
      { arch: [0, 1, 0], source: 'random', proxy: 1.5, real: 5, fid: 12 },
    ],
  };

  it('means and stds recompute from the runs; the reference is compared seed by seed', () => {
    const j = studyJson(plan, 's', records, proxy);
    const [a, r] = j.variants;
    assert.deepEqual(
      a.runs.map((x) => x.is),
      [7.0, 7.4],
    );
    assert.equal(a.mean.is, 7.2);
    assert.equal(a.std.is, +Math.sqrt(0.08).toFixed(4));
    assert.equal(a.vsReference, undefined);
    assert.deepEqual(r.vsReference!.seeds, [1, 2]);
    assert.equal(r.vsReference!.is.meanDifference, +((7.0 - 6.5 + 7.4 - 6.8) / 2).toFixed(4));
    assert.ok(a.ci95.is![0] >= 7.0 && a.ci95.is![1] <= 7.4);
    assert.equal(j.proxy!.spearman, 0.4); // ranks (4,3,1,2) vs (4,2,3,1)
    assert.deepEqual(j.missing, []);
    assert.deepEqual(studyJson(plan, 's', records.slice(1), null).missing, ['autogan.seed1']);
  });

  it('the report shows the table, the curves, the proxy scatter with one point per architecture', () => {
    const html = studyHtml(studyJson(plan, 's', records, proxy));
    assert.match(html, /<h1>AutoGAN study: tiny-study<\/h1>/);
    assert.match(html, /<td>autogan<\/td><td>2<\/td><td>7\.20 ± 0\.28<\/td>/);
    assert.match(html, /ΔIS 0\.55 \(p /);
    for (const id of ['chart-reward', 'chart-entropy', 'chart-is', 'chart-proxy'])
      assert.match(html, new RegExp(`id="${id}"><svg`), id);
    const scatter = html.slice(
      html.indexOf('id="chart-proxy"'),
      html.indexOf('</svg>', html.indexOf('id="chart-proxy"')),
    );
    assert.equal((scatter.match(/<circle /g) ?? []).length, 4);
    assert.match(html, /ρ 0\.40/);
    assert.match(html, /autogan: no finished run|<figure class="missing"><figcaption>autogan, seed 2/);
  });

  it("the proxy check picks each seed's best distinct candidates, then distinct uniform ones, reproducibly", () => {
    const stage1 = records.map((r) => ({ ...r, search: { ...r.search, stage: 1 } }));
    const a = pickProxyArchs(stage1.slice(0, 2), { policyPerSeed: 1, random: 3, seed: 5 });
    assert.deepEqual(
      a.slice(0, 2).map((x) => x.arch),
      [
        [1, 1, 1],
        [2, 1, 1],
      ],
    );
    assert.equal(a.filter((x) => x.source === 'random').length, 3);
    assert.equal(new Set(a.map((x) => x.arch.join(' '))).size, 5);
    assert.ok(a.filter((x) => x.source === 'random').every((x) => x.arch.length === 9));
    assert.deepEqual(pickProxyArchs(stage1.slice(0, 2), { policyPerSeed: 1, random: 3, seed: 5 }), a);
  });
});

after(() => {
  for (const f of fs.readdirSync(FIXTURES))
    if (f.startsWith('.study-test-')) fs.rmSync(path.join(FIXTURES, f));
  void os.tmpdir;
});
