// @integration: `autogan server`'s dev server keeps workflows in SQLite across a restart, and the
// CLI's one-command path (`run --embedded`, `status`) works against it.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createWorker, installRuntime } from '../../runtime/worker';
import { startPipeline } from '../../runtime/start-pipeline';
import { freePort, startDevServer } from '../../server/dev-server';
import { resolveTemporalBinary } from '../../server/temporal-binary';
import { check } from '../helpers/pipeline-text';

const cli = path.join(__dirname, '..', '..', '..', 'bin', 'autogan.js');

describe('dev server persistence @integration', function () {
  this.timeout(180_000);

  it('keeps a running workflow across a server restart, and it then completes', async () => {
    const dbFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-db-')), 'temporal.db');
    const port = await freePort();
    const queue = `persist-${process.pid}`;
    const { plan } = check(`apiVersion: autogan/v1
kind: Pipeline
metadata: { name: persist }
spec:
  dataset: { kind: mnist }
  taskQueues: { control: ${queue}, gpu: ${queue} }
  steps:
    - { id: a, uses: dataset.inspect, with: { limit: 50, shards: 2 } }
`);
    let server = await startDevServer({ port, headless: true, dbFile, log: () => undefined });
    let connection = await Connection.connect({ address: server.address });
    // No worker yet: the run waits on its task queue.
    const handle = await startPipeline(new Client({ connection }), plan!, {
      workflowId: `persist-${Date.now()}`,
    });
    await connection.close();
    await server.stop();

    server = await startDevServer({ port, headless: true, dbFile, log: () => undefined });
    try {
      connection = await Connection.connect({ address: server.address });
      const client = new Client({ connection });
      const desc = await client.workflow.getHandle(handle.workflowId).describe();
      assert.equal(desc.status.name, 'RUNNING');
      installRuntime();
      const native = await NativeConnection.connect({ address: server.address });
      const { worker } = await createWorker({
        connection: native,
        namespace: 'default',
        taskQueue: queue,
        backend: 'auto',
        log: () => undefined,
      });
      const result = await worker.runUntil(client.workflow.getHandle(handle.workflowId).result());
      assert.equal((result.outputs.a as Record<string, unknown>).count, 50);

      // `autogan status` reads the finished run from the restarted server.
      const st = spawnSync(
        process.execPath,
        [cli, 'status', handle.workflowId, '--address', server.address],
        { encoding: 'utf8' },
      );
      assert.equal(st.status, 0, st.stderr);
      assert.match(st.stdout, /COMPLETED/);
      assert.match(st.stdout, /steps: a \(full outputs: --json\)/);
      const json = spawnSync(
        process.execPath,
        [cli, 'status', handle.workflowId, '--json', '--address', server.address],
        { encoding: 'utf8' },
      );
      assert.equal(json.status, 0, json.stderr);
      const doc = JSON.parse(json.stdout) as {
        status: string;
        result: { outputs: { a: { count: number } } };
      };
      assert.equal(doc.status, 'COMPLETED');
      assert.equal(doc.result.outputs.a.count, 50);
      await native.close();
      await connection.close();
    } finally {
      await server.stop();
    }
  });

  it('`autogan run --embedded` runs the whole method (search → derive → retrain top-2 → evaluate) and leaves its results', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'autogan-home-'));
    const port = await freePort();
    const binary = await resolveTemporalBinary();
    const r = spawnSync(
      process.execPath,
      [
        cli,
        'run',
        path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tiny-autogan.yaml'),
        '--embedded',
        '--port',
        String(port),
      ],
      {
        encoding: 'utf8',
        cwd: home,
        env: { ...process.env, AUTOGAN_HOME: home, TEMPORAL_CLI_PATH: binary },
        timeout: 280_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /started workflow tiny-autogan-/);
    // Progress in a log (not a TTY): blocks of one line per step, the fan-out with its count (at toy
    // size the whole fan-out may fit between two 2-second snapshots, so it may be seen done).
    assert.match(r.stderr, /\n\s+retrain\s+(running|done) \d\/2/);
    assert.match(r.stderr, /\n\s+search\s+(running|done)/);
    assert.ok(!/Query not found|query task not found/i.test(r.stderr), 'no SDK warning flood');
    // The report is written next to the result at the end.
    const report = /report: (\S+report\.html)/.exec(r.stdout)?.[1];
    assert.ok(report && fs.existsSync(report), r.stdout);
    assert.match(fs.readFileSync(report!, 'utf8'), /<h2>Leaderboard<\/h2>/);
    const file = /result written to (.*)/.exec(r.stdout)?.[1];
    assert.ok(file && fs.existsSync(file), r.stdout);
    assert.ok(file!.startsWith(path.join(home, 'runs')), file);
    const result = JSON.parse(fs.readFileSync(file!, 'utf8'));
    assert.equal(result.outputs.search.topK.length, 2);
    assert.equal(result.outputs.derive.topK.length, 2);
    const retrained = result.outputs.retrain.items;
    assert.deepEqual(
      retrained.map((x: { arch: number[] }) => x.arch),
      result.outputs.derive.topK.map((x: { arch: number[] }) => x.arch),
    );
    const ev = result.outputs.evaluate;
    assert.equal(ev.results.length, 2);
    assert.equal(
      ev.winner.is,
      Math.max(...ev.results.map((x: { is: number }) => x.is)),
      'the winner has the best IS',
    );
    for (const x of ev.results) assert.ok(Number.isFinite(x.fid) && x.fid >= 0);
    assert.ok(
      fs.existsSync(ev.bestSamples) && fs.statSync(ev.bestSamples).size > 100,
      'a PNG sample grid of the winner',
    );
    assert.ok(fs.existsSync(ev.summary));
    // TensorBoard event files: the search's in its folder, each retrained candidate's in the run's
    // (their content is checked by TensorBoard's own reader in test/tensorboard.test.ts).
    const runDir = path.dirname(file!);
    assert.ok(fs.existsSync(path.join(`${runDir}.search`, 'events.out.tfevents.0.autogan-search')));
    for (const label of ['top1', 'top2'])
      assert.ok(fs.existsSync(path.join(runDir, `events.out.tfevents.0.autogan-${label}`)), label);
  });
});
