// `autogan run --embedded`: one command does everything on one machine — a dev server (or the one
// already listening), a control and a gpu worker in this process, the run, and its result file.
import * as net from 'node:net';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';
import type { PipelineResult, Plan } from '../pipeline/plan';
import { startDevServer, type DevServer } from '../server/dev-server';
import { pipelineStatusQuery } from '../workflows/pipeline';
import { connectClient, targetFromEnv, workflowLink } from './connection';
import { startPipeline } from './start-pipeline';
import { connectWorker, createWorker } from './worker';

export interface EmbeddedOptions {
  port?: number;
  workflowId?: string;
  log?: (line: string) => void;
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
    let last = '';
    const timer = setInterval(() => {
      handle
        .query(pipelineStatusQuery)
        .then((st) => {
          const line = st.steps
            .map((s) => `${s.id}:${s.state}${s.fanOut ? `(${s.fanOut.done}/${s.fanOut.total})` : ''}`)
            .join(' ');
          if (line !== last) log(`[autogan] ${line}`);
          last = line;
        })
        .catch(() => undefined);
    }, 1000);
    let result: PipelineResult;
    try {
      result = await handle.result();
    } finally {
      clearInterval(timer);
    }
    const resultFile = path.join(plan.spec.artifacts.path, handle.workflowId, 'result.json');
    writeFileAtomic(resultFile, JSON.stringify(result, null, 2));
    return { result, workflowId: handle.workflowId, resultFile };
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    await client.connection.close();
    await connection.close();
    await server?.stop();
  }
}
