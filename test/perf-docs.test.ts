// The measurement tables in docs/performance.md say what bench/results/ holds: a number changed by
// hand, or a rerun not copied to the docs, fails here.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../core/paths';

const docs = () => fs.readFileSync(path.join(projectRoot(), 'docs', 'performance.md'), 'utf8');

/** The table rows that follow `marker` in the docs (up to the next blank line after the table). */
function rowsAfter(text: string, marker: string): string[][] {
  const at = text.indexOf(marker);
  assert.ok(at >= 0, `docs/performance.md has "${marker}"`);
  const lines = text.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++)
    rows.push(lines[i].split('|').map((c) => c.trim()));
  return rows;
}

const results = (name: string) =>
  JSON.parse(fs.readFileSync(path.join(projectRoot(), 'bench', 'results', name), 'utf8')) as Record<
    string,
    unknown
  >;

describe('docs/performance.md against bench/results', () => {
  it('the latest comparison with PyTorch is the committed run, case by case and executor by executor', () => {
    const doc = results('compare-2026-12-06-epyc-ef716e4.json') as {
      runs: Array<{
        environment: Record<string, string | null>;
        cases: Array<{ case: string; ratio: { d: number; g: number; peakRss: number } }>;
      }>;
    };
    const rows = rowsAfter(docs(), '**Latest, 2026-12-06, AMD EPYC');
    assert.equal(rows.length, doc.runs.length, 'one row per run');
    doc.runs.forEach((run, i) => {
      const c = run.cases[0];
      const row = rows[i];
      assert.ok(row[1].startsWith(`\`${c.case}\``), `row ${i}: ${row[1]}`);
      assert.match(row[2], run.environment.AUTOGAN_TFE_ASYNC === '1' ? /^async/ : /^sync/);
      assert.ok(row[3].endsWith(`**${c.ratio.d.toFixed(2)}×**`), `${c.case} D: ${row[3]}`);
      assert.ok(row[4].endsWith(`**${c.ratio.g.toFixed(2)}×**`), `${c.case} G: ${row[4]}`);
      assert.ok(row[5].endsWith(`${c.ratio.peakRss.toFixed(2)}×`), `${c.case} RSS: ${row[5]}`);
    });
  });

  it('the async executor throughput table is the committed run', () => {
    const run = results('study-throughput-2026-12-06-epyc.json') as {
      modes: Array<{ name: string; trainingsPerHour: number; stepsPerSecond: number; vsOnePerCore: number }>;
    };
    const rows = rowsAfter(docs(), 'The async executor against the worker');
    assert.deepEqual(
      rows.map((r) => r[1]),
      run.modes.map((m) => `\`${m.name}\``),
    );
    run.modes.forEach((m, i) => {
      assert.equal(rows[i][5], `**${m.trainingsPerHour}**`);
      assert.equal(rows[i][6], String(m.stepsPerSecond));
      assert.equal(rows[i][7], `${m.vsOnePerCore.toFixed(2)}×`);
    });
  });

  it('the study-throughput table is the committed run, mode by mode', () => {
    const file = path.join(projectRoot(), 'bench', 'results', 'study-throughput-2026-12-06.json');
    const run = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      modes: Array<{ name: string; trainingsPerHour: number; stepsPerSecond: number; vsOnePerCore: number }>;
    };
    assert.ok(run.modes.length >= 3, 'at least three modes measured');
    const text = docs();
    for (const m of run.modes) {
      const row = text.split('\n').find((l) => l.startsWith(`| \`${m.name}\``));
      assert.ok(row, `a row for ${m.name}`);
      const cells = row.split('|').map((c) => c.trim());
      assert.equal(cells[5], `**${m.trainingsPerHour}**`, `${m.name}: trainings per hour`);
      assert.equal(cells[6], String(m.stepsPerSecond), `${m.name}: D steps per second`);
      assert.equal(cells[7], `${m.vsOnePerCore.toFixed(2)}×`, `${m.name}: ratio`);
    }
    // The prose names the winner the table shows.
    const best = [...run.modes].sort((a, b) => b.trainingsPerHour - a.trainingsPerHour)[0];
    assert.equal(
      best.name,
      'one-per-core',
      'the docs say one training per core is best; a rerun that disagrees must change them',
    );
  });
  it('the GPU table (PyTorch column) is the committed H100 run, case by case', () => {
    const run = results('gpu-torch-nvidia-h100-80gb-hbm3-2026-12-06.json') as {
      card: string;
      runs: Array<{
        case: string;
        gStepDGrads: string;
        dMs: number;
        gMs: number;
        torchPeakAllocatedMiB: number;
        nvidiaSmiPeakMiB: number;
      }>;
    };
    assert.equal(run.card, 'NVIDIA H100 80GB HBM3');
    const rows = rowsAfter(docs(), '**The GPU table so far');
    assert.equal(rows.length, run.runs.length, 'one row per run');
    run.runs.forEach((r, i) => {
      assert.deepEqual(rows[i].slice(1, 7), [
        `\`${r.case}\``,
        r.gStepDGrads,
        `${r.dMs} ms`,
        `${r.gMs} ms`,
        `${r.torchPeakAllocatedMiB} MiB`,
        `${r.nvidiaSmiPeakMiB} MiB`,
      ]);
    });
  });
  it('the allocator paragraph says what bench/results/allocator-2026-12-06-epyc.json holds', () => {
    interface Mem {
      peakRssMB: number;
      phases: Array<{ rssAfterMB: number; tensorsHighWaterMB: number; tensorsAfterMB: number }>;
      baseRssMB: number;
      gStepSavedForBackwardMB: number;
      pytorchGStepSavedForBackwardMB: number;
    }
    const run = results('allocator-2026-12-06-epyc.json') as {
      memory: { default: Mem; knobs: Mem };
      time: Record<'search' | 'derive', Record<'default' | 'knobs', { dSeconds: number; gSeconds: number }>>;
    };
    const text = docs().replace(/\s+/g, ' ');
    const gb = (mb: number) => (mb / 1000).toFixed(2);
    const { default: before, knobs } = run.memory;
    const last = (m: Mem) => m.phases[m.phases.length - 1];
    const expected = [
      `live tensors peak at ${gb(Math.max(...before.phases.map((p) => p.tensorsHighWaterMB)))} GB over a ${gb(before.baseRssMB)} GB process`,
      `RSS peaks at ${gb(before.peakRssMB)} GB and stays at ${gb(last(before).rssAfterMB)} GB after the step, when ${gb(last(before).tensorsAfterMB)} GB`,
      `The derive peak drops to ${gb(knobs.peakRssMB)} GB`,
      `RSS after a step to ${gb(last(knobs).rssAfterMB)} GB`,
      `1.64 → ${gb(before.gStepSavedForBackwardMB)} GB, against PyTorch's ${gb(before.pytorchGStepSavedForBackwardMB)} GB`,
    ];
    const slower = (c: 'search' | 'derive', k: 'dSeconds' | 'gSeconds') =>
      (run.time[c].knobs[k] / run.time[c].default[k]).toFixed(2);
    expected.push(
      `derive D ${slower('derive', 'dSeconds')}× and G ${slower('derive', 'gSeconds')}× the time, search D ${slower('search', 'dSeconds')}× and G ${slower('search', 'gSeconds')}×`,
    );
    for (const e of expected) assert.ok(text.includes(e), `docs/performance.md says "${e}"`);
  });
});
