import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { strict as assert } from 'node:assert';
import { formatResult, formatSearchProgress } from '../cli/format';

describe('autogan status output', () => {
  it("keeps a completed run's checkpoint recoveries (search and retrains) in its summary", () => {
    const text = formatResult({
      pipeline: 'demo',
      outputs: {
        search: {
          iterations: 3,
          resets: 0,
          rewards: [1, 2, 3],
          topK: [{ arch: [0, 1, 0, 1], score: 2 }],
          recoveries: [
            'iteration 1, shared training: ab12… is unusable (corrupt); resumed from the checkpoint of step 20',
          ],
        },
        retrain: {
          items: [
            {
              label: 'top1',
              curve: [],
              recoveries: ['chunk ending at step 400: resumed from the checkpoint of step 90'],
            },
            { label: 'top2', curve: [] },
          ],
        },
      },
    });
    assert.match(text, /recovered: search, iteration 1, shared training: ab12… is unusable \(corrupt\)/);
    assert.match(text, /recovered: top1, chunk ending at step 400: resumed from the checkpoint of step 90/);
    assert.equal(text.match(/recovered:/g)?.length, 2);
  });

  it('prints a search’s progress in human form', () => {
    const text = formatSearchProgress({
      name: 'demo',
      iteration: 4,
      maxIterations: 6,
      stage: 1,
      phase: 'paused',
      lastRewards: [1.5, 2.25],
      best: [{ arch: [0, 1, 0, 1, 1, 1, 1, 0, 1], score: 2.5 }],
      resets: 1,
      computeSeconds: 12.34,
      paused: true,
      stopping: false,
      run: 2,
    });
    assert.equal(
      text,
      [
        'search demo: iteration 4/6, stage 1, phase paused',
        '  resets so far: 1; compute time: 12.3 s; run 2 of this search (continue-as-new)',
        '  last rewards: 1.500, 2.250',
        '  best sampled in controller training: [0 1 0 1 1 1 1 0 1] reward 2.500',
      ].join('\n'),
    );
  });

  it('exits 2 on a usage error (unknown option, missing argument), 0 on --help', function () {
    this.timeout(60_000);
    const cli = path.join(__dirname, '..', '..', 'bin', 'autogan.js');
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    const unknown = run('validate', 'x.yaml', '--no-such-option');
    assert.equal(unknown.status, 2, unknown.stderr);
    assert.match(unknown.stderr, /unknown option '--no-such-option'/);
    const missing = run('report');
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /missing required argument 'run'/);
    const help = run('study', '--help');
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Usage: autogan study/);
  });

  it('with no server reachable, names the address tried and how to start or point at one', function () {
    this.timeout(60_000);
    const cli = path.join(__dirname, '..', '..', 'bin', 'autogan.js');
    const r = spawnSync(process.execPath, [cli, 'status', 'some-run', '--address', '127.0.0.1:1'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot reach a Temporal server at 127\.0\.0\.1:1/);
    assert.match(r.stderr, /npx autogan server/);
    assert.match(r.stderr, /TEMPORAL_ADDRESS/);
    assert.doesNotMatch(r.stderr, /tonic::transport/);
  });
});
