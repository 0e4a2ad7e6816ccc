// `autogan run --embedded`: one command does everything on one machine — a dev server (or the one
// already listening), a control and a gpu worker in this process, the run, and its result file.
import * as net from 'node:net';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';
import type { Client } from '@temporalio/client';
import type { PipelineResult, Plan } from '../pipeline/plan';
import type { StudyPlan } from '../pipeline/study';
import type { StudyOutcome, StudyStatus } from '../workflows/study';
import { describeServerExit, startDevServer, type DevServer } from '../server/dev-server';
import { connectClient, targetFromEnv, workflowLink, type TemporalTarget } from './connection';
import { watchRun, type RunProgress } from './progress';
import { startPipeline } from './start-pipeline';
import { followStudy, startOrAttachStudy } from './start-study';
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

/** What an embedded session gives the work it runs: a client, and a race that fails if the server dies. */
interface Session {
  client: Client;
  target: TemporalTarget;
  /** Resolves with `p`, or rejects as soon as the dev server this command started dies. */
  unlessServerDies<R>(p: Promise<R>): Promise<R>;
  /** Whether that server died (then nothing more can be asked of it). */
  serverDead(): boolean;
  log: (line: string) => void;
}

/**
 * A dev server (or the one already listening), workers for `queues` in this process, `body`, then
 * everything stopped. The control queue gets 4 concurrent activities; the others are sized from the
 * hardware (tensorConcurrency).
 */
async function embeddedSession<T>(
  queues: { control: string; all: string[] },
  backend: Plan['spec']['backend'],
  opts: EmbeddedOptions,
  body: (s: Session) => Promise<T>,
): Promise<T> {
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
  const workers = [];
  // Tensor queues are sized from the hardware: on a small CPU machine the top-K retrains of a
  // forEach run one after the other (two at once on 2 cores only slowed each other down).
  for (const q of new Set(queues.all)) {
    const maxConcurrentActivities = q === queues.control ? 4 : ('tensor' as const);
    const started = await createWorker({
      connection,
      namespace: target.namespace,
      taskQueue: q,
      backend,
      maxConcurrentActivities,
      log,
    });
    workers.push(started.worker);
  }
  const client = await connectClient(target);
  const running = workers.map((w) => w.run());
  try {
    return await body({
      client,
      target,
      log,
      unlessServerDies: (p) => Promise.race([p, serverDied]),
      serverDead: () => serverDead,
    });
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

export async function runEmbedded(
  plan: Plan,
  opts: EmbeddedOptions = {},
): Promise<{ result: PipelineResult; workflowId: string; resultFile: string }> {
  const queues = {
    control: plan.spec.taskQueues.control,
    all: [plan.spec.taskQueues.control, plan.spec.taskQueues.gpu, ...plan.steps.map((s) => s.taskQueue)],
  };
  return embeddedSession(
    queues,
    plan.spec.backend,
    opts,
    async ({ client, target, log, unlessServerDies, serverDead }) => {
      const handle = await startPipeline(
        client,
        plan,
        opts.workflowId ? { workflowId: opts.workflowId } : {},
      );
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
        final = await unlessServerDies(result);
      } finally {
        await (serverDead() ? undefined : watching);
      }
      const resultFile = path.join(plan.spec.artifacts.path, handle.workflowId, 'result.json');
      writeFileAtomic(resultFile, JSON.stringify(final, null, 2));
      return { result: final, workflowId: handle.workflowId, resultFile };
    },
  );
}

/**
 * `autogan study run --embedded`: the study workflow with its workers in this process. `onStatus`
 * gets the study's status every few seconds.
 */
export async function runStudyEmbedded(
  plan: StudyPlan,
  opts: EmbeddedOptions & { onStatus?: (s: StudyStatus) => void } = {},
): Promise<{ outcome: StudyOutcome; workflowId: string }> {
  const queues = {
    control: plan.taskQueues.control,
    all: [
      plan.taskQueues.control,
      plan.taskQueues.gpu,
      ...plan.cells.flatMap((c) => [
        c.plan.spec.taskQueues.control,
        c.plan.spec.taskQueues.gpu,
        ...c.plan.steps.map((s) => s.taskQueue),
      ]),
    ],
  };
  const backend = plan.cells[0]?.plan.spec.backend ?? 'auto';
  return embeddedSession(queues, backend, opts, async ({ client, target, log, unlessServerDies }) => {
    const { handle, attached } = await startOrAttachStudy(
      client,
      plan,
      opts.workflowId ? { workflowId: opts.workflowId } : {},
    );
    log(`[autogan] ${attached ? 'following the running' : 'started'} study ${handle.workflowId}`);
    const link = workflowLink(target, handle.workflowId);
    if (link) log(`[autogan] web UI: ${link}`);
    const result = handle.result();
    const watching = opts.onStatus
      ? followStudy(client, handle.workflowId, opts.onStatus, opts.progressEveryMs ?? 5000, result)
      : undefined;
    try {
      return { outcome: await unlessServerDies(result), workflowId: handle.workflowId };
    } finally {
      await watching?.catch(() => undefined);
    }
  });
}
