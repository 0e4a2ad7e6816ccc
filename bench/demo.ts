// Benchmark: the demo pipeline end to end (`autogan run pipelines/demo-mnist.yaml --embedded`):
// wall time, and how much of it activities were running (the union of all activity intervals of
// the pipeline, the search's continued runs and the retrain children) versus orchestration time.
import * as path from 'node:path';
import { Connection, Client } from '@temporalio/client';
import { selectBackend } from '../core/backend';
import { projectRoot } from '../core/paths';
import { loadPipeline } from '../pipeline/load';
import { emit, onScratchServer, runMain } from './search-run';

type Interval = [number, number];

function ms(t: unknown): number {
  const ts = t as { seconds?: { toNumber(): number } | number; nanos?: number };
  const s = typeof ts.seconds === 'number' ? ts.seconds : (ts.seconds?.toNumber() ?? 0);
  return s * 1000 + (ts.nanos ?? 0) / 1e6;
}

async function intervals(
  client: Client,
  workflowId: string,
): Promise<{ intervals: Interval[]; byType: Record<string, number> }> {
  const out: Interval[] = [];
  const byType: Record<string, number> = {};
  for await (const exec of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await client.workflow.getHandle(workflowId, exec.runId).fetchHistory();
    const started = new Map<string, { t: number; type: string }>();
    const scheduledType = new Map<string, string>();
    for (const e of history.events ?? []) {
      const id = String(e.eventId);
      if (e.activityTaskScheduledEventAttributes)
        scheduledType.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
      if (e.activityTaskStartedEventAttributes) {
        const sid = String(e.activityTaskStartedEventAttributes.scheduledEventId);
        started.set(sid, { t: ms(e.eventTime), type: scheduledType.get(sid) ?? '?' });
      }
      const done =
        e.activityTaskCompletedEventAttributes ??
        e.activityTaskFailedEventAttributes ??
        e.activityTaskTimedOutEventAttributes;
      if (done) {
        const s = started.get(String(done.scheduledEventId));
        if (s) {
          out.push([s.t, ms(e.eventTime)]);
          byType[s.type] = (byType[s.type] ?? 0) + (ms(e.eventTime) - s.t) / 1000;
        }
      }
    }
  }
  return { intervals: out, byType };
}

function unionLength(xs: Interval[]): number {
  const sorted = [...xs].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let cur: Interval | undefined;
  for (const [a, b] of sorted) {
    if (!cur || a > cur[1]) {
      if (cur) total += cur[1] - cur[0];
      cur = [a, b];
    } else cur[1] = Math.max(cur[1], b);
  }
  if (cur) total += cur[1] - cur[0];
  return total;
}

async function main() {
  // Absolute before the chdir into the scratch folder below.
  const file = path.resolve(process.argv[2] ?? path.join(projectRoot(), 'pipelines', 'demo-mnist.yaml'));
  const backend = await selectBackend('auto', () => undefined);
  await onScratchServer('bench-demo-', async (run, address) => {
    const plan = loadPipeline(file);
    const t0 = Date.now();
    const { workflowId, result } = await run(plan);
    const wall = (Date.now() - t0) / 1000;
    const connection = await Connection.connect({ address });
    const client = new Client({ connection });
    const ids = [
      workflowId,
      ...plan.steps
        .filter((s) => s.execution === 'workflow')
        .flatMap((s) =>
          s.forEach
            ? [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${workflowId}.${s.id}.${i}`)
            : [`${workflowId}.${s.id}`],
        ),
    ];
    const all: Interval[] = [];
    const byType: Record<string, number> = {};
    for (const id of ids) {
      const r = await intervals(client, id).catch(() => ({ intervals: [], byType: {} }));
      all.push(...r.intervals);
      for (const [k, v] of Object.entries(r.byType)) byType[k] = +((byType[k] ?? 0) + v).toFixed(2);
    }
    await connection.close();
    const busy = unionLength(all) / 1000;
    const ev = (result.outputs.evaluate ?? {}) as { winner?: { arch: number[]; is: number; fid: number } };
    emit({
      benchmark: 'demo',
      pipeline: plan.name,
      backend: backend.package,
      wallSeconds: +wall.toFixed(1),
      activitySeconds: +busy.toFixed(1),
      activityShare: +(busy / wall).toFixed(3),
      orchestrationSeconds: +(wall - busy).toFixed(1),
      activitySecondsByType: byType,
      winner: ev.winner
        ? { arch: ev.winner.arch.join(' '), is: +ev.winner.is.toFixed(3), fid: +ev.winner.fid.toFixed(2) }
        : null,
    });
  });
}

runMain(main);
