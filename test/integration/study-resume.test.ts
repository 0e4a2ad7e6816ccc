// @integration: a study killed mid-way — its workers SIGKILLed, its server restarted, then the study
// workflow itself terminated and started again under its id — ends with the same study.json as an
// uninterrupted run, and the second start reruns none of the cells recorded before.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadStudy } from '../../pipeline/study';
import { runStudyEmbedded } from '../../runtime/embedded';
import { startStudy } from '../../runtime/start-study';
import { freePort, startDevServer, type DevServer } from '../../server/dev-server';
import type { StudyJson } from '../../services/study/aggregate';
import { exited, workerProcess } from '../helpers/worker-process';

// Heartbeat timeouts of 10 s: a worker killed in any phase has its activity retried within seconds.
const FIXTURE = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tiny-study-failover.yaml');
const ID = 'tiny-study-resume';

/** study.json without what differs between two machines or sittings: times and absolute paths. */
function comparable(file: string): unknown {
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as StudyJson;
  return {
    ...j,
    variants: j.variants.map((v) => ({
      ...v,
      mean: { is: v.mean.is, fid: v.mean.fid },
      std: { is: v.std.is, fid: v.std.fid },
      runs: v.runs.map((r) => ({
        ...r,
        searchSeconds: undefined,
        computeSeconds: undefined,
        samples: undefined,
        curve: r.curve.map((p) => ({ ...p, seconds: undefined })),
      })),
    })),
    proxy: j.proxy ? { ...j.proxy, retrainSeconds: undefined } : null,
  };
}

/** A scratch folder as the working directory (the study's relative artifact path lands there). */
function scratch(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.chdir(dir);
  return dir;
}

async function until(what: string, ok: () => boolean, ms = 240_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('study resume @integration', function () {
  this.timeout(600_000);
  const cwd = process.cwd();
  after(() => process.chdir(cwd));

  it('a study whose workers die, whose server restarts and which is started again gives the same study.json, rerunning no recorded cell', async () => {
    // Uninterrupted.
    const clean = scratch('study-clean-');
    const cleanPort = await freePort();
    const s0 = await startDevServer({
      port: cleanPort,
      headless: true,
      dbFile: path.join(clean, 'db'),
      log: () => undefined,
    });
    let first;
    try {
      first = await runStudyEmbedded(loadStudy(FIXTURE), {
        port: cleanPort,
        workflowId: ID,
        log: () => undefined,
      });
    } finally {
      await s0.stop();
    }
    assert.equal(first.outcome.ran, 4);
    // Each cell's own run folder has what `autogan run` leaves.
    for (const f of ['result.json', 'report.html'])
      assert.ok(fs.existsSync(path.join(clean, 'runs', `${ID}.autogan.seed1`, f)), f);
    const cleanJson = path.join(clean, 'runs', ID, 'study.json');
    const expected = comparable(cleanJson);

    // Interrupted: worker processes, killed once the first cell is recorded.
    const dir = scratch('study-killed-');
    const dbFile = path.join(dir, 'db');
    const port = await freePort();
    const plan = loadStudy(FIXTURE);
    let server: DevServer = await startDevServer({ port, headless: true, dbFile, log: () => undefined });
    const cells = path.join(dir, 'runs', ID, 'cells');
    const recorded = () =>
      fs.existsSync(cells) ? fs.readdirSync(cells).filter((f) => f.endsWith('.json')) : [];
    const spawnWorkers = () => [
      workerProcess(server.address, 'autogan-control', 'control'),
      workerProcess(server.address, 'autogan-gpu', 'gpu'),
    ];
    let workers = spawnWorkers();
    let connection = await Connection.connect({ address: server.address });
    try {
      await startStudy(new Client({ connection }), plan, { workflowId: ID });
      await until('a first recorded cell', () => recorded().length >= 1);
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map(exited));
      await connection.close();
      await server.stop();

      // The server comes back with its database; new workers carry the study on.
      server = await startDevServer({ port, headless: true, dbFile, log: () => undefined });
      connection = await Connection.connect({ address: server.address });
      const client = new Client({ connection });
      assert.equal((await client.workflow.getHandle(ID).describe()).status.name, 'RUNNING');
      workers = spawnWorkers();
      await until('a second recorded cell', () => recorded().length >= 2);

      // The study workflow itself is lost (terminated); started again under its id, it reads the
      // records and runs only what is missing.
      await client.workflow.getHandle(ID).terminate('test: the study is lost');
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map(exited));
      const before = recorded();
      const stamps = new Map(before.map((f) => [f, fs.statSync(path.join(cells, f)).mtimeMs]));
      const again = await runStudyEmbedded(plan, { port, workflowId: ID, log: () => undefined });
      assert.equal(again.outcome.ran, 4 - before.length, `${before.length} cells were recorded before`);
      for (const [f, t] of stamps)
        assert.equal(fs.statSync(path.join(cells, f)).mtimeMs, t, `${f} was not rewritten`);
    } finally {
      for (const w of workers) w.kill('SIGKILL');
      await connection.close().catch(() => undefined);
      await server.stop();
    }
    assert.deepEqual(comparable(path.join(dir, 'runs', ID, 'study.json')), expected);
  });
});
