// `autogan report`: the data read from a run folder, the self-contained HTML, and the page rendered
// in a real headless Chromium (no console errors; every chart, image and drawing present and not
// blank).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { openMnist } from '../core/datasets/mnist';
import { saveGrid } from '../core/metrics/grid';
import { archSvg } from '../services/report/arch-svg';
import { reportFromFolder, type IterationPoint } from '../services/report/data';
import { reportHtml } from '../services/report/html';

// The paper's top-1 (cells: pre-act/no norm/nearest/shortcut; …; skips 0→1, 0→2, 1→2).
const TOP1 = [1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 3];
const TOP2 = [0, 2, 2, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 2];

/** A run folder shaped like what a finished demo leaves: real digits in its grids. */
function fixtureRun(root: string, id = 'demo-run'): string {
  const run = path.join(root, id);
  const search = `${run}.search`;
  fs.mkdirSync(run, { recursive: true });
  fs.mkdirSync(search, { recursive: true });
  const digits = openMnist();
  const grid = (file: string, offset: number) =>
    tf.tidy(() => {
      const x = tf.tensor4d(digits.read(offset, 16), [16, 28, 28, 1]).mul(2).sub(1) as tf.Tensor4D;
      saveGrid(file, x, 4);
    });
  const history: IterationPoint[] = Array.from({ length: 8 }, (_, i) => ({
    iteration: i,
    stage: i < 3 ? 0 : i < 6 ? 1 : 2,
    dLoss: 2 - i * 0.1,
    gLoss: 1 + i * 0.05,
    meanReward: 2 + i * 0.3,
    entropy: 4 - i * 0.2,
    baseline: 1.8 + i * 0.3,
    reset: i === 4,
    rewardNoise: 0.1,
    rewardSpread: 0.5,
    lossSpread: { g: 0.2 / (i + 1), d: i === 4 ? 5e-4 : 0.01 },
  }));
  const topK = [
    { arch: TOP1, score: 4.2 },
    { arch: [0, 2, 1, 0, 1, 0, 1, 1, 0, 0, 2, 0, 0, 3], score: 3.9 },
  ];
  fs.writeFileSync(path.join(search, 'search-history.json'), JSON.stringify(history));
  fs.writeFileSync(
    path.join(search, 'search-state.json'),
    JSON.stringify({
      params: {
        name: 'demo',
        maxIterations: 8,
        dataset: { kind: 'mnist' },
        dynamicReset: { enabled: true, threshold: 1e-3 },
      },
      state: {
        iteration: 8,
        stage: 2,
        resets: 1,
        rewards: history.map((h) => h.meanReward),
        history: history.slice(-3),
        best: [{ arch: TOP1, score: 4.5 }],
        grown: [
          { iteration: 2, topK: [{ arch: [0, 1, 0, 0], score: 2.5 }] },
          { iteration: 5, topK: [{ arch: [0, 1, 0, 0, 1, 0, 0, 1, 0], score: 3.5 }] },
        ],
        computeSeconds: 600,
      },
    }),
  );
  const items = [
    {
      label: 'top1',
      arch: TOP1,
      steps: 300,
      curve: [100, 200, 300].map((s, i) => ({ step: s, is: 5 + i, fid: 80 - 20 * i })),
    },
    {
      label: 'top2',
      arch: TOP2,
      steps: 300,
      curve: [100, 200, 300].map((s, i) => ({ step: s, is: 4 + i, fid: 90 - 20 * i })),
    },
  ];
  items.forEach((it, k) => {
    for (const c of it.curve)
      grid(path.join(run, `samples-${it.label}-step${c.step}.png`), 16 * (k * 3 + c.step / 100));
    grid(path.join(run, `samples-final-${it.label}.png`), 200 + k * 16);
  });
  grid(path.join(search, 'samples-stage0-iter2.png'), 400);
  fs.writeFileSync(
    path.join(run, 'result.json'),
    JSON.stringify({
      pipeline: 'demo',
      outputs: {
        search: {
          topK,
          rewards: history.map((h) => h.meanReward),
          iterations: 8,
          stage: 2,
          resets: 1,
          history: history.slice(-3),
          grown: [],
          recoveries: ['iteration 3, shared training: 9f2c… is unusable (corrupt); resumed from step 40'],
          params: {
            name: 'demo',
            maxIterations: 8,
            dataset: { kind: 'mnist' },
            dynamicReset: { enabled: true, threshold: 1e-3 },
          },
        },
        derive: {
          topK: [
            { arch: TOP1, score: 3.3 },
            { arch: TOP2, score: 3.1 },
          ],
          candidates: [],
        },
        retrain: {
          items: items.map((it, k) => ({
            ...it,
            final: { ...it.curve[2], isStd: 0.1 },
            ...(k === 1 ? { recoveries: ['chunk ending at step 300: resumed from step 120'] } : {}),
          })),
        },
      },
    }),
  );
  fs.writeFileSync(
    path.join(run, 'evaluation.json'),
    JSON.stringify({
      images: 2000,
      winner: { label: 'top1', arch: TOP1, is: 7.1, fid: 40 },
      results: [
        { label: 'top2', arch: TOP2, is: 6.0, isStd: 0.2, fid: 50 },
        { label: 'top1', arch: TOP1, is: 7.1, isStd: 0.1, fid: 40 },
      ],
    }),
  );
  return run;
}

describe('run report', () => {
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'autogan-report-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads a run folder: full history, leaderboard by IS, curves, grids per candidate and stage', () => {
    const run = fixtureRun(root);
    const before = fs.readdirSync(run).sort();
    const d = reportFromFolder(run, { now: new Date('2026-11-29T00:00:00Z') });
    assert.deepEqual(fs.readdirSync(run).sort(), before, 'read-only');
    assert.equal(d.status, 'COMPLETED');
    assert.equal(d.search!.history.length, 8, 'search-history.json holds every iteration, the state only 3');
    assert.deepEqual(
      d.leaderboard.map((r) => r.label),
      ['top1', 'top2'],
    );
    assert.equal(d.winner, 'top1');
    assert.deepEqual(
      d.retrains.map((r) => [r.label, r.curve.length, r.samples.map((s) => s.title)]),
      [
        ['top1', 3, ['top1 at step 100', 'top1 at step 200', 'top1 at step 300']],
        ['top2', 3, ['top2 at step 100', 'top2 at step 200', 'top2 at step 300']],
      ],
    );
    assert.deepEqual(
      d.grids.map((g) => g.title),
      [
        'search stage 0 (iteration 2): best architecture',
        'top1: final samples (evaluation)',
        'top2: final samples (evaluation)',
      ],
    );
    assert.equal(d.dataset, 'mnist');
    // The retrained list is the derive step's, traced by name; the leaderboard says its image count.
    assert.deepEqual(d.derived, {
      step: 'derive',
      topK: [
        { arch: TOP1, score: 3.3 },
        { arch: TOP2, score: 3.1 },
      ],
    });
    assert.equal(d.leaderboardImages, 2000);
    // Checkpoint recoveries stay in the completed run's story.
    assert.deepEqual(d.notes, [
      'search checkpoint recovery: iteration 3, shared training: 9f2c… is unusable (corrupt); resumed from step 40',
      'top2 checkpoint recovery: chunk ending at step 300: resumed from step 120',
    ]);
    const html = reportHtml(d);
    assert.match(html, /<li>top2 checkpoint recovery: chunk ending at step 300/);
    assert.match(html, /Retrained: the <code>derive<\/code> step's top-K/);
    assert.match(html, /Final evaluation of the retrained candidates on 2000 generated images/);
  });

  it('says what is wrong with a folder that holds no run', () => {
    const empty = fs.mkdtempSync(path.join(root, 'empty-'));
    assert.throws(() => reportFromFolder(empty), /holds no run output/);
    assert.throws(() => reportFromFolder(path.join(root, 'nope')), /is not a run folder/);
    const bad = path.join(root, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'result.json'), '{"pipeline": ');
    assert.throws(() => reportFromFolder(bad), /bad\/result.json is not valid JSON/);
  });

  it('draws every cell, skip connection and shortcut of an architecture', () => {
    const svg = archSvg(TOP1);
    assert.equal((svg.match(/class="cellname"/g) ?? []).length, 3);
    // TOP1: cell 1 takes a skip from cell 0 (mask 1); cell 2 from cells 0 and 1 (mask 3).
    assert.deepEqual(svg.match(/skip \d → \d/g), ['skip 0 → 1', 'skip 0 → 2', 'skip 1 → 2']);
    assert.equal((svg.match(/class="shortcut"/g) ?? []).length, 2, 'cells 0 and 1 have shortcuts');
    assert.match(svg, /up: nearest ×2/);
    assert.match(svg, /ReLU → conv3×3/, 'pre-activation blocks');
    assert.match(archSvg([9, 9, 9, 9]), /cell 0 conv \(position 0\) is 9/);
  });

  it('writes one self-contained HTML file (no network reference, data inlined)', () => {
    const html = reportHtml(reportFromFolder(fixtureRun(root, 'selfcontained')));
    assert.ok(!/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html), 'no external src/href');
    assert.ok(!/<link\b/i.test(html));
    assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 9);
    assert.match(html, /uPlot/);
    const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1];
    const data = JSON.parse(json) as {
      losses: { resets: number[]; stages: number[] };
      controller: { series: Array<{ label: string; values: Array<number | null> }> };
      spread: { series: Array<{ label: string; values: Array<number | null> }> };
    };
    assert.deepEqual(data.losses.resets, [4]);
    assert.deepEqual(data.losses.stages, [3, 6]);
    // The noise band is the mean reward ± the iteration's noise; the threshold is the params'.
    const band = data.controller.series.find((x) => x.label === '+ noise')!.values;
    assert.ok(Math.abs(band[1]! - (2.3 + 0.1)) < 1e-9);
    assert.deepEqual(data.spread.series.find((x) => x.label === 'threshold')!.values, Array(8).fill(1e-3));
    assert.equal(data.spread.series.find((x) => x.label === 'D loss spread')!.values[4], 5e-4);
    // "Does the search learn?": stage 1 (iterations 3–5), entropy 3.4 → 3.0 is −11.8%.
    assert.match(html, /Does the search learn\?/);
    assert.match(html, /<tr><td>1<\/td><td>3–5<\/td><td>3\.400 → 3\.000<\/td><td>-11\.8%<\/td>/);
  });

  it('escapes hostile names, ids, labels and failures everywhere they are shown', () => {
    const evil = '<script>alert(1)</script>"\'&';
    const d = reportFromFolder(fixtureRun(root, 'hostile'));
    Object.assign(d, { id: evil, pipeline: evil, dataset: evil, failure: evil, notes: [evil] });
    d.steps = [{ id: evil, state: evil }];
    d.leaderboard = d.leaderboard.map((r) => ({ ...r, label: evil }));
    d.retrains = d.retrains.map((r) => ({ ...r, label: evil, samples: [{ title: evil, file: evil }] }));
    d.grids = [{ title: evil, file: evil }];
    d.derived = { step: evil, topK: [] };
    const html = reportHtml(d);
    // The only <script> elements are the page's own: uPlot, the chart data, the chart code.
    assert.equal((html.match(/<script/g) ?? []).length, 3);
    assert.ok(!html.includes('<script>alert'), 'no live script from the data');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;'), 'shown, escaped');
    // In the chart data (JSON inside a script element) a "</script" cannot close the element.
    const data = html.slice(
      html.indexOf('id="report-data">'),
      html.indexOf('</script>', html.indexOf('id="report-data">')),
    );
    assert.ok(!data.includes('<'), 'no raw < inside the chart data');
  });

  it('lists the search grids by stage and iterations done (9 before 10)', () => {
    const run = fixtureRun(root, 'grid-order');
    for (const f of ['samples-stage1-iter10.png', 'samples-stage1-iter9.png'])
      fs.copyFileSync(path.join(`${run}.search`, 'samples-stage0-iter2.png'), path.join(`${run}.search`, f));
    assert.deepEqual(
      reportFromFolder(run)
        .grids.filter((g) => g.title.startsWith('search'))
        .map((g) => g.title),
      [
        'search stage 0 (iteration 2): best architecture',
        'search stage 1 (iteration 9): best architecture',
        'search stage 1 (iteration 10): best architecture',
      ],
    );
  });
});

const CHROMIUM = process.env.AUTOGAN_CHROMIUM ?? '/usr/bin/chromium';

/** How many distinct colours a PNG screenshot has (a blank region has one or two). */
function colours(png: Buffer): number {
  const img = PNG.sync.read(png);
  const seen = new Set<number>();
  for (let i = 0; i < img.data.length; i += 4) seen.add(img.data.readUInt32BE(i));
  return seen.size;
}

describe('run report in a headless browser @integration', function () {
  this.timeout(120_000);
  let root: string;
  before(function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
      console.warn(
        `      (skipped: no Chromium at ${CHROMIUM}; apt-get install chromium, or set AUTOGAN_CHROMIUM)`,
      );
      this.skip();
    }
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'autogan-report-browser-'));
  });
  after(() => root && fs.rmSync(root, { recursive: true, force: true }));

  it('renders with no console error; every chart, image and drawing is there and not blank', async () => {
    const file = path.join(root, 'report.html');
    fs.writeFileSync(file, reportHtml(reportFromFolder(fixtureRun(root))));
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on(
        'request',
        (r) => !r.url().startsWith('file:') && !r.url().startsWith('data:') && requests.push(r.url()),
      );
      await page.goto(`file://${file}`, { waitUntil: 'load' });
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, [], 'the report loads nothing from the network');
      for (const id of [
        'chart-controller',
        'chart-entropy',
        'chart-losses',
        'chart-spread',
        'chart-is',
        'chart-fid',
      ]) {
        const chart = page.locator(`#${id}`);
        assert.equal(await chart.locator('canvas').count(), 1, `${id} has a uPlot canvas`);
        const shot = await chart.locator('canvas').screenshot();
        assert.ok(colours(shot) > 20, `${id} is drawn (${colours(shot)} colours)`);
        const legend = await chart.locator('.u-legend').innerText();
        assert.ok(legend.length > 5, `${id} has a legend`);
      }
      const images = await page.$$eval('img', (els) =>
        els.map((e) => ({
          ok: (e as unknown as { complete: boolean; naturalWidth: number }).complete,
          w: (e as unknown as { complete: boolean; naturalWidth: number }).naturalWidth,
          shown: e.getBoundingClientRect().width,
        })),
      );
      assert.equal(images.length, 9);
      for (const im of images) assert.ok(im.ok && im.w > 0 && im.shown >= 200, JSON.stringify(im));
      const firstGrid = await page.locator('figure.grid img').first().screenshot();
      assert.ok(colours(firstGrid) > 20, 'a sample grid shows digits, not a flat image');
      const drawings = page.locator('svg.arch');
      assert.equal(
        await drawings.count(),
        3,
        'one drawing per distinct architecture (2 retrained + 1 derived)',
      );
      const box = await drawings.first().boundingBox();
      assert.ok(box && box.width > 400 && box.height > 150, JSON.stringify(box));
      assert.ok(colours(await drawings.first().screenshot()) > 10, 'the drawing is not blank');
      const rows = await page.locator('#leaderboard tbody tr').allInnerTexts();
      assert.match(rows[0], /top1 ★/);
    } finally {
      await browser.close();
    }
  });
});
