// `autogan resume`: a failed, terminated, timed-out or cancelled run continues as a new run.
// A search continues from its newest usable saved state; a pipeline reuses the steps (and fan-out
// items) that finished, continues its search from the saved state if the search had not finished,
// and runs the rest. Everything is read from the server (the run's input and history) and from the
// artifact store (the bucket first, when there is one), so it works from any machine.
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { Plan, PlanResume, S3Settings, StepInput, StepOutput } from '../pipeline/plan';
import { artifactStore, type ArtifactStore } from '../services/artifact-store';
import { startPipeline } from './start-pipeline';
import { carryHistory, readSavedSearch } from './saved-search';

export const RESUMABLE = ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED'];

/** A run that cannot be resumed, with the reason (the CLI prints it and exits 1). */
export class ResumeError extends Error {
  override name = 'ResumeError';
}

type Log = (line: string) => void;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Resumes run `id` (a search or a pipeline) as `requestedId` or the next free `<id>-r<N>`; returns the new id. */
export async function resumeRun(client: Client, id: string, requestedId?: string, log: Log = console.log) {
  const desc = await client.workflow.getHandle(id).describe();
  if (!RESUMABLE.includes(desc.status.name))
    throw new ResumeError(
      `${id} is ${desc.status.name}; only ${RESUMABLE.join(', ').toLowerCase()} runs can be resumed`,
    );
  if (desc.type === 'autogan-search') return resumeSearch(client, desc, requestedId, log);
  if (desc.type === 'pipelineWorkflow') return resumePipeline(client, desc, requestedId, log);
  throw new ResumeError(
    `${id} is a ${desc.type} run; resume continues autogan-search and pipeline runs (a study is started again under its id: \`autogan study start\`)`,
  );
}

/** The events of the run's newest execution, and the first argument it was started with. */
async function historyOf(client: Client, id: string): Promise<{ events: HistoryEvent[]; input: unknown }> {
  const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
  return { events, input: decode(events[0]?.workflowExecutionStartedEventAttributes?.input)[0] };
}

function decode(payloads: temporal.api.common.v1.IPayloads | null | undefined): unknown[] {
  return (payloads?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p as Payload));
}

/** Where a run's artifacts are, from its input (a pipeline step's spec or a direct start's fields). */
function storeOfInput(input: unknown, memo: Record<string, unknown>): ArtifactStore | undefined {
  const x = input as Partial<StepInput> & { artifacts?: unknown; s3?: S3Settings };
  if (x?.spec?.artifacts?.path)
    return artifactStore({ artifacts: x.spec.artifacts.path, s3: x.spec.artifacts.s3 });
  if (typeof x?.artifacts === 'string') return artifactStore({ artifacts: x.artifacts, s3: x.s3 });
  if (typeof memo.artifacts === 'string') return artifactStore({ artifacts: memo.artifacts });
  return undefined;
}

async function resumeSearch(
  client: Client,
  desc: WorkflowExecutionDescription,
  requestedId: string | undefined,
  log: Log,
): Promise<string> {
  const id = desc.workflowId;
  const { input } = await historyOf(client, id);
  const memo = (desc.memo ?? {}) as Record<string, unknown>;
  const store = storeOfInput(input, memo);
  if (!store)
    throw new ResumeError(`${id}: its input names no artifact store, so its saved state cannot be found`);
  const found = await readSavedSearch(store, id);
  if (!found.found)
    throw new ResumeError(
      `no saved state for ${id} (looked in ${store.runDir(id)}${store.location === store.root ? '' : ` and ${store.location}`}): the run ended before its first iteration finished; start it again instead`,
    );
  if (!found.saved)
    throw new ResumeError(`no saved state of ${id} can be resumed: ${found.problems.join('; ')}`);
  if (found.problems.length)
    log(
      `the newest saved state cannot be used (${found.problems.join('; ')}); resuming from the previous one`,
    );
  const { params, state } = found.saved;
  const newId = await freeId(client, id, requestedId);
  await carryHistory(store, id, newId);
  const handle = await client.workflow.start('autogan-search', {
    args: [{ ...params, state: { ...state, paused: false } }],
    taskQueue: desc.taskQueue,
    workflowId: newId,
    memo: { ...memo, resumedFrom: id },
  });
  log(`resumed ${id} at iteration ${state.iteration} (stage ${state.stage}) as ${handle.workflowId}`);
  return handle.workflowId;
}

/** The step (and fan-out index) a child workflow id of pipeline run `runId` belongs to. */
function stepOfChild(
  plan: Plan,
  runId: string,
  childId: string,
): { step: string; index?: number } | undefined {
  if (!childId.startsWith(`${runId}.`)) return undefined;
  const rest = childId.slice(runId.length + 1);
  if (plan.steps.some((s) => s.id === rest)) return { step: rest };
  const m = /^(.*)\.(\d+)$/.exec(rest);
  return m && plan.steps.some((s) => s.id === m[1]) ? { step: m[1], index: Number(m[2]) } : undefined;
}

/**
 * What pipeline run `runId` finished: step outputs and fan-out items, from its history's completed
 * activities and children, over what that run had itself reused.
 */
export function finishedSteps(
  plan: Plan,
  runId: string,
  events: HistoryEvent[],
): Pick<PlanResume, 'outputs' | 'items'> {
  const outputs: PlanResume['outputs'] = { ...(plan.resume?.outputs ?? {}) };
  const items: PlanResume['items'] = {};
  for (const [step, byIndex] of Object.entries(plan.resume?.items ?? {})) items[step] = { ...byIndex };
  const record = (where: { step: string; index?: number } | undefined, out: unknown) => {
    if (!where || !plan.steps.some((s) => s.id === where.step)) return;
    if (where.index === undefined) outputs[where.step] = out as StepOutput;
    else (items[where.step] ??= {})[String(where.index)] = out as StepOutput;
  };
  const scheduled = new Map<string, { step: string; index?: number }>();
  const started = new Map<string, string>();
  for (const e of events) {
    const id = String(e.eventId);
    const a = e.activityTaskScheduledEventAttributes;
    if (a) {
      const [input] = decode(a.input) as [StepInput | undefined];
      if (input?.stepId) scheduled.set(id, { step: input.stepId, index: input.index });
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) record(scheduled.get(String(done.scheduledEventId)), decode(done.result)[0]);
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (child?.workflowId) started.set(id, child.workflowId);
    const childDone = e.childWorkflowExecutionCompletedEventAttributes;
    if (childDone) {
      const childId = started.get(String(childDone.initiatedEventId));
      if (childId) record(stepOfChild(plan, runId, childId), decode(childDone.result)[0]);
    }
  }
  // A fan-out step's own output exists only inside the workflow: its finished items are what is kept.
  return { outputs, items };
}

async function resumePipeline(
  client: Client,
  desc: WorkflowExecutionDescription,
  requestedId: string | undefined,
  log: Log,
): Promise<string> {
  const id = desc.workflowId;
  const { events, input } = await historyOf(client, id);
  const plan = input as Plan | undefined;
  if (!plan?.steps) throw new ResumeError(`${id}: its input is not a pipeline plan`);
  const { outputs, items } = finishedSteps(plan, id, events);
  const newId = await freeId(client, id, requestedId);
  const store = artifactStore({ artifacts: plan.spec.artifacts.path, s3: plan.spec.artifacts.s3 });
  const searches: PlanResume['searches'] = {};
  const lines: string[] = [];
  for (const step of plan.steps) {
    if (outputs[step.id]) {
      // The report of the new run draws the search's curves from its folder's history.
      if (step.uses === 'autogan.search')
        await carryHistory(store, `${id}.${step.id}`, `${newId}.${step.id}`);
      lines.push(`${step.id}: finished, reused`);
      continue;
    }
    const reusedItems = Object.keys(items[step.id] ?? {}).length;
    if (step.uses === 'autogan.search') {
      // The search child of the earlier run, or the one it had continued.
      const childId = `${id}.${step.id}`;
      const found = await readSavedSearch(store, childId);
      if (found.saved) {
        const { params, state } = found.saved;
        searches[step.id] = { ...params, state: { ...state, paused: false } };
        await carryHistory(store, childId, `${newId}.${step.id}`);
        lines.push(`${step.id}: continues at iteration ${state.iteration} (stage ${state.stage})`);
      } else
        lines.push(
          `${step.id}: starts again (${found.problems.length ? found.problems.join('; ') : 'no saved state'})`,
        );
      continue;
    }
    lines.push(
      `${step.id}: runs${reusedItems ? ` (${reusedItems} finished item${reusedItems === 1 ? '' : 's'} reused)` : ''}`,
    );
  }
  if (plan.steps.every((s) => outputs[s.id]))
    throw new ResumeError(`${id}: every step finished; there is nothing to resume`);
  const resume: PlanResume = { from: id, outputs, items, searches };
  const handle = await startPipeline(
    client,
    { ...plan, resume },
    {
      workflowId: newId,
      taskQueue: desc.taskQueue,
      memo: { resumedFrom: id },
    },
  );
  log(`resumed pipeline ${id} as ${handle.workflowId}:`);
  for (const l of lines) log(`  ${l}`);
  return handle.workflowId;
}

/** The requested id if no workflow has it, else the first `<id>-r<N>` no workflow has. */
async function freeId(client: Client, id: string, requested?: string): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = requested ?? `${id}-r${n}`;
    try {
      await client.workflow.getHandle(candidate).describe();
      if (requested) throw new ResumeError(`a workflow ${candidate} already exists`);
    } catch (err) {
      if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
      return candidate;
    }
  }
}
