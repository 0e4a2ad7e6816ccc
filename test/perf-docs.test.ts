// The measurement tables in docs/performance.md say what bench/results/ holds: a number changed by
// hand, or a rerun not copied to the docs, fails here.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../core/paths';

const docs = () => fs.readFileSync(path.join(projectRoot(), 'docs', 'performance.md'), 'utf8');

describe('docs/performance.md against bench/results', () => {
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
});
