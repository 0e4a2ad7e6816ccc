// The torch-only GPU table's two halves: bench:compare --torch-configs (on a host with Node) and
// bench/torch/gpu_table.py (on the GPU host), run as the real programs.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../core/paths';
import { COMPARE_CASES } from '../bench/compare-cases';

const root = projectRoot();

describe('GPU table, torch-only mode', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-table-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('bench:compare --torch-configs writes every case as gan_step.py gets it, on cuda, threads left to the GPU host', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'dist', 'bench', 'compare.js'), '--device', 'gpu', '--torch-configs', dir],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(dir).sort(), COMPARE_CASES.map((c) => `${c.name}.json`).sort());
    for (const c of COMPARE_CASES) {
      const written = JSON.parse(fs.readFileSync(path.join(dir, `${c.name}.json`), 'utf8'));
      assert.deepEqual(written, { ...c, device: 'cuda' });
    }
  });

  it('gpu_table.py gives each run its nvidia-smi peak by process order, and names a failed run', () => {
    fs.writeFileSync(path.join(dir, 'gpu.csv'), 'NVIDIA Test GPU, 580.1, 1000 MiB\n');
    const runs = ['demo', 'search', 'derive'].flatMap((c) => ['frozen', 'computed'].map((g) => [c, g]));
    // Six processes, each sampled twice, their memory rising; one malformed line is skipped.
    const smi = runs.flatMap((_, i) => [
      `${100 + i}, python3, ${10 * i} MiB`,
      `${100 + i}, python3, ${10 * i + 5} MiB`,
    ]);
    fs.writeFileSync(path.join(dir, 'smi.csv'), ['garbage', ...smi].join('\n') + '\n');
    runs.forEach(([c, g], i) =>
      fs.writeFileSync(
        path.join(dir, `torch-${c}-${g}.json`),
        JSON.stringify({
          torchVersion: '9.9+cu',
          dMedian: 0.001 * (i + 1),
          gMedian: 0.002 * (i + 1),
          dStepSeconds: new Array(i + 1).fill(0),
          gpuPeakBytes: 2 ** 20 * (i + 1),
          peakRssBytes: 2 ** 20 * 100,
        }),
      ),
    );
    const script = path.join(root, 'bench', 'torch', 'gpu_table.py');
    const ok = spawnSync('python3', [script, dir, '2026-01-01', 'why'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const doc = JSON.parse(ok.stdout);
    assert.equal(doc.card, 'NVIDIA Test GPU');
    assert.equal(doc.note, 'why');
    assert.deepEqual(
      doc.runs.map((r: Record<string, unknown>) => [
        r.case,
        r.gStepDGrads,
        r.dMs,
        r.gMs,
        r.reps,
        r.nvidiaSmiPeakMiB,
      ]),
      runs.map(([c, g], i) => [c, g, i + 1, 2 * (i + 1), i + 1, 10 * i + 5]),
    );
    fs.writeFileSync(
      path.join(dir, 'torch-search-computed.json'),
      JSON.stringify({ error: 'CUDA out of memory' }),
    );
    const bad = spawnSync('python3', [script, dir, '2026-01-01'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /search\/computed failed: CUDA out of memory/);
  });
});
