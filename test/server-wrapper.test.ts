// `autogan server` runs the `temporal` binary as its child. When that child dies while the wrapper
// runs (killed, crashed, exited), the wrapper says which process died, how (exit code or signal)
// and its last output, and exits non-zero — it used to exit 0 without a word (issue 11). A normal
// stop (SIGTERM, Ctrl-C) is not a death. `run --embedded` watches the same `exited` promise.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeServerExit, freePort, startDevServer } from '../server/dev-server';
import { resolveTemporalBinary } from '../server/temporal-binary';

const cli = path.join(__dirname, '..', '..', 'bin', 'autogan.js');

interface Wrapper {
  child: ChildProcess;
  out: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function startWrapper(port: number, db: string): Wrapper {
  const child = spawn(process.execPath, [cli, 'server', '--port', String(port), '--headless', '--db', db], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, out: () => text, exit };
}

async function waitFor<T>(what: string, fn: () => T | undefined, ms: number, w?: Wrapper): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output:\n${w?.out() ?? ''}`);
    if (w && w.child.exitCode !== null) throw new Error(`the wrapper exited early; output:\n${w.out()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The parent pid of a process, from /proc (Linux); undefined elsewhere. */
function parentOf(pid: number): number | undefined {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
  } catch {
    return undefined;
  }
}

describe('autogan server reports the death of its temporal child @integration', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  const wrappers: Wrapper[] = [];
  const db = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'autogan-server-'));
    dirs.push(d);
    return path.join(d, 'temporal.db');
  };

  before(async function () {
    try {
      await resolveTemporalBinary({ install: false });
    } catch {
      this.skip(); // no `temporal` CLI on this machine (`autogan setup temporal` installs one)
    }
  });

  after(() => {
    for (const w of wrappers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('SIGKILL of the temporal process: the wrapper names it, with the signal, and exits 1 within seconds', async () => {
    const w = startWrapper(await freePort(), db());
    wrappers.push(w);
    const pid = await waitFor(
      'the wrapper to listen',
      () => {
        const m = /listening on .* temporal pid (\d+)\)/.exec(w.out());
        return m ? Number(m[1]) : undefined;
      },
      120_000,
      w,
    );
    const parent = parentOf(pid);
    if (parent !== undefined) assert.equal(parent, w.child.pid, 'the printed pid is the wrapper’s child');
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const end = await Promise.race([
      w.exit,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still running 10 s after its child died:\n${w.out()}`)), 10_000),
      ),
    ]);
    assert.equal(end.code, 1, w.out());
    assert.ok(end.at - killedAt < 5000, `exited ${end.at - killedAt} ms after the kill`);
    assert.match(
      w.out(),
      new RegExp(
        `autogan server: the Temporal dev server \\(.*temporal, pid ${pid}\\) was killed by SIGKILL`,
      ),
    );
    assert.match(w.out(), /its last output:|it printed nothing/);
  });

  it('SIGTERM to the wrapper stops the server and exits 0, with no report of a death', async () => {
    const w = startWrapper(await freePort(), db());
    wrappers.push(w);
    const pid = await waitFor(
      'the wrapper to listen',
      () => /temporal pid (\d+)\)/.exec(w.out())?.[1],
      120_000,
      w,
    );
    w.child.kill('SIGTERM');
    const end = await w.exit;
    assert.equal(end.code, 0, w.out());
    assert.doesNotMatch(w.out(), /was killed|exited with code/);
    assert.equal(parentOf(Number(pid)), undefined, 'the temporal process is gone too');
  });

  it('started through a wrapper that dies (SIGTERM to `npx`): the server notices it was orphaned and stops', async () => {
    // A shell stands for npm: it does not forward signals to the node process it started.
    const port = await freePort();
    const sh = spawn(
      '/bin/sh',
      ['-c', `"${process.execPath}" "${cli}" server --port ${port} --headless --db "${db()}"; true`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const w: Wrapper = {
      child: sh,
      out: () => text,
      exit: new Promise((resolve) =>
        sh.once('close', (code, signal) => resolve({ code, signal, at: Date.now() })),
      ),
    };
    let text = '';
    sh.stdout!.on('data', (d) => (text += d));
    sh.stderr!.on('data', (d) => (text += d));
    wrappers.push(w);
    const temporalPid = Number(
      await waitFor('the server to listen', () => /temporal pid (\d+)\)/.exec(text)?.[1], 120_000),
    );
    const nodePid = parentOf(temporalPid)!;
    assert.equal(parentOf(nodePid), sh.pid, 'node runs under the shell');
    sh.kill('SIGKILL'); // the wrapper dies; node is re-parented and told nothing
    await waitFor(
      'the orphaned server to stop',
      () => (parentOf(nodePid) === undefined ? true : undefined),
      15_000,
    );
    assert.equal(parentOf(temporalPid), undefined, 'its temporal child is gone too');
    assert.match(text, /the process that started this server \(pid \d+\) is gone: stopping it/);
  });

  it('`autogan worker` with no server says so in one plain line and exits 1', async () => {
    const port = await freePort();
    const r = spawn(process.execPath, [cli, 'worker', '--address', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    r.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => r.once('close', (c) => resolve(c)));
    assert.equal(code, 1, err);
    assert.match(
      err,
      new RegExp(`cannot reach a Temporal server at 127\\.0\\.0\\.1:${port} \\(connection refused\\)`),
    );
    assert.doesNotMatch(err, /tonic|transport::Error/);
  });

  it('startDevServer (used by run --embedded): `exited` settles with the signal, not as a stop', async () => {
    const server = await startDevServer({
      port: await freePort(),
      headless: true,
      dbFile: db(),
      log: () => undefined,
    });
    try {
      server.process.kill('SIGKILL');
      const e = await server.exited;
      assert.equal(e.signal, 'SIGKILL');
      assert.equal(e.stopped, false);
      assert.equal(e.pid, server.process.pid);
      assert.match(describeServerExit(e), new RegExp(`pid ${e.pid}\\) was killed by SIGKILL`));
    } finally {
      await server.stop();
    }
    const again = await startDevServer({
      port: await freePort(),
      headless: true,
      dbFile: db(),
      log: () => undefined,
    });
    await again.stop();
    assert.equal((await again.exited).stopped, true);
  });
});
