// `autogan run --embedded`: one command does everything on one machine — a dev server (or the one
// already listening), a control and a gpu worker in this process, the run, and its result file.
import * as net from 'node:net';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';
import type { PipelineResult, Plan } from '../pipeline/plan';
import { describeServerExit, startDevServer, type DevServer } from '../server/dev-server';
import { connectClient, targetFromEnv, workflowLink } from './connection';
import { watchRun, type RunProgress } from './progress';
import { startPipeline } from './start-pipeline';
import { connectWorker, createWorker } from './worker';

export interface EmbeddedOptions {
  port?: number;
  workflowId?: string;
  log?: (line: string) => void;
  /** Called with each progress snapshot while the run is going (see runtime/progress.ts). */
  onProgress?: (p: RunProgress) => void;
  /** How often to take a snapshot. @default 2000 */
  progressEveryMs?: number;
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function runEmbedded(
  plan: Plan,
  opts: EmbeddedOptions = {},
): Promise<{ result: PipelineResult; workflowId: string; resultFile: string }> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const port = opts.port ?? 7233;
  let server: DevServer | undefined;
  if (await listening('127.0.0.1', port)) {
    log(`[autogan] using the Temporal server already listening on 127.0.0.1:${port}`);
  } else {
    server = await startDevServer({ port, log });
    log(
      `[autogan] started Temporal dev server on ${server.address} (state ${server.dbFile}); web UI ${server.uiUrl}`,
    );
  }
  // If the dev server this command started dies, the run cannot go on: say so at once and fail
  // (the SDK would otherwise retry its connection for ever, and this command would hang).
  let serverDead = false;
  const serverDied = new Promise<never>((_, reject) => {
    void server?.exited.then((e) => {
      if (e.stopped) return;
      serverDead = true;
      log(`[autogan] ${describeServerExit(e)}; this run stops here`);
      reject(new Error(describeServerExit(e)));
    });
  });
  serverDied.catch(() => undefined); // raced below; never an unhandled rejection
  const target = targetFromEnv({ address: `127.0.0.1:${port}` });
  if (server?.uiUrl) target.uiUrl = server.uiUrl;
  const connection = await connectWorker(target);
  const queues = [
    ...new Set([
      plan.spec.taskQueues.control,
      plan.spec.taskQueues.gpu,
      ...plan.steps.map((s) => s.taskQueue),
    ]),
  ];
  const workers = [];
  // Tensor queues are sized from the hardware: on a small CPU machine the top-K retrains of a
  // forEach run one after the other (two at once on 2 cores only slowed each other down).
  for (const q of queues) {
    const maxConcurrentActivities = q === plan.spec.taskQueues.control ? 4 : ('tensor' as const);
    const started = await createWorker({
      connection,
      namespace: target.namespace,
      taskQueue: q,
      backend: plan.spec.backend,
      maxConcurrentActivities,
      log,
    });
    workers.push(started.worker);
  }
  const client = await connectClient(target);
  const running = workers.map((w) => w.run());
  try {
    const handle = await startPipeline(client, plan, opts.workflowId ? { workflowId: opts.workflowId } : {});
    log(`[autogan] started workflow ${handle.workflowId}`);
    const link = workflowLink(target, handle.workflowId);
    if (link) log(`[autogan] web UI: ${link}`);
    const result = handle.result();
    // Progress is read-only and best-effort: a failed snapshot never fails the run.
    const watching = opts.onProgress
      ? watchRun(client, handle.workflowId, opts.onProgress, {
          intervalMs: opts.progressEveryMs ?? 2000,
          until: result.catch(() => undefined),
        }).catch((err: Error) => log(`[autogan] progress display stopped: ${err.message}`))
      : undefined;
    let final: PipelineResult;
    try {
      final = await Promise.race([result, serverDied]);
    } finally {
      await (serverDead ? undefined : watching);
    }
    const resultFile = path.join(plan.spec.artifacts.path, handle.workflowId, 'result.json');
    writeFileAtomic(resultFile, JSON.stringify(final, null, 2));
    return { result: final, workflowId: handle.workflowId, resultFile };
  } finally {
    for (const w of workers) {
      try {
        w.shutdown();
      } catch {
        // already stopped (a worker fails when its server is gone)
      }
    }
    const closing = (async () => {
      await Promise.allSettled(running);
      await client.connection.close();
      await connection.close();
    })();
    // Without a server, draining workers and closing connections may wait on it: 10 s at most.
    await (serverDead
      ? Promise.race([closing.catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())])
      : closing);
    await server?.stop();
  }
}
