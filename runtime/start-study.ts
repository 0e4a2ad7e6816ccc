// Starts a validated study as an `autogan-study` workflow run, and follows one.
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { StudyPlan } from '../pipeline/study';
import { studyStatusQuery, type StudyStatus, type autoganStudy } from '../workflows/study';

/** `<study>-<timestamp>`: the id names the study's folder, so it is readable and unique. */
export function defaultStudyId(plan: Pick<StudyPlan, 'name'>): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${plan.name}-${stamp}`;
}

export async function startStudy(
  client: Client,
  plan: StudyPlan,
  opts: { workflowId?: string } = {},
): Promise<WorkflowHandle<typeof autoganStudy>> {
  const cellsPerVariant = plan.seeds.length;
  return client.workflow.start<typeof autoganStudy>('autogan-study', {
    args: [plan],
    taskQueue: plan.taskQueues.control,
    workflowId: opts.workflowId ?? defaultStudyId(plan),
    memo: { study: plan.name, source: plan.source, artifacts: plan.artifacts },
    staticSummary: `AutoGAN study ${plan.name}: ${plan.variants.length} variants × ${cellsPerVariant} seeds${plan.proxy ? ' + proxy check' : ''}`,
    staticDetails: [
      `**${plan.name}**${plan.description ? ` — ${plan.description}` : ''}`,
      `variants: ${plan.variants.map((v) => `\`${v.name}\``).join(', ')}; seeds ${plan.seeds.join(', ')}; budget: retrain ${plan.budget.retrainIterations} iterations`,
    ].join('\n\n'),
  });
}

/**
 * Starts the study, or — when a study with that id is still running (a server that kept its state
 * through a restart) — follows that one: its workers pick it up where it stopped.
 */
export async function startOrAttachStudy(
  client: Client,
  plan: StudyPlan,
  opts: { workflowId?: string } = {},
): Promise<{ handle: WorkflowHandle<typeof autoganStudy>; attached: boolean }> {
  if (opts.workflowId) {
    const status = await client.workflow
      .getHandle(opts.workflowId)
      .describe()
      .then((d) => d.status.name)
      .catch(() => undefined); // never started on this server
    if (status === 'RUNNING')
      return { handle: client.workflow.getHandle<typeof autoganStudy>(opts.workflowId), attached: true };
    // A closed study's children close after it (terminated with their parent): its cells reuse
    // their ids, so wait until none is still running.
    if (status) await childrenClosed(client, opts.workflowId);
  }
  try {
    return { handle: await startStudy(client, plan, opts), attached: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError) || !opts.workflowId) throw err;
    return { handle: client.workflow.getHandle<typeof autoganStudy>(opts.workflowId), attached: true };
  }
}

/** Waits (up to `ms`) until no workflow whose id starts with `<id>.` is running. */
async function childrenClosed(client: Client, id: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  const query = `WorkflowId STARTS_WITH "${id}." AND ExecutionStatus = "Running"`;
  for (;;) {
    let running = 0;
    for await (const _ of client.workflow.list({ query })) running++;
    if (!running) return;
    if (Date.now() > end)
      throw new Error(
        `${running} workflow(s) of study ${id} are still running after ${ms / 1000} s; terminate them first`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Calls `onStatus` with the study's status every `everyMs` until `until` settles (best effort). */
export async function followStudy(
  client: Client,
  workflowId: string,
  onStatus: (s: StudyStatus) => void,
  everyMs: number,
  until: Promise<unknown>,
): Promise<void> {
  let done = false;
  void until.finally(() => (done = true)).catch(() => undefined);
  let last = '';
  while (!done) {
    try {
      const st = await client.workflow.getHandle(workflowId).query(studyStatusQuery);
      const key = JSON.stringify(st);
      if (key !== last) onStatus(st);
      last = key;
    } catch {
      // a query can time out while the worker is busy: try again next time
    }
    await Promise.race([new Promise((r) => setTimeout(r, everyMs)), until.catch(() => undefined)]);
  }
}

/** One line per cell state change: `cells 5/12 done (2 running, 0 failed); proxy waiting`. */
export function formatStudyStatus(s: StudyStatus): string {
  const n = (st: string) => s.cells.filter((c) => c.state === st).length;
  const running = s.cells.filter((c) => c.state === 'running').map((c) => c.id);
  return `[study ${s.study}] cells ${n('done')}/${s.cells.length} done${running.length ? `, running ${running.join(', ')}` : ''}${n('failed') ? `, ${n('failed')} failed` : ''}; proxy check: ${s.proxy}`;
}
