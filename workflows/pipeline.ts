// The generic DAG workflow: runs a validated Plan. Steps start when all their needs are done, so
// independent steps run in parallel; forEach steps fan out; each step's small JSON output feeds the
// templates of later steps. Deterministic: only plan data and Temporal APIs.
import {
  ApplicationFailure,
  defineQuery,
  executeChild,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { FanOutOutput, PipelineResult, Plan, PlanStep, StepInput, StepOutput } from '../pipeline/plan';
import { resolveTemplates } from '../pipeline/templates';

export type StepState = 'waiting' | 'running' | 'done' | 'failed' | 'skipped';

export interface PipelineStatus {
  pipeline: string;
  steps: Array<{
    id: string;
    uses: string;
    state: StepState;
    fanOut?: { done: number; total: number };
    error?: string;
    /** Resumed runs: the step's output came from the run this one continues; or its search continued. */
    from?: 'reused' | 'continued';
  }>;
}

/** Since this patch a plan's `resume` (from `autogan resume <pipeline run>`) is honoured. */
export const PIPELINE_RESUME_PATCH = 'pipeline-resume';

export const pipelineStatusQuery = defineQuery<PipelineStatus>('pipelineStatus');

/** Error types that retrying cannot fix (bad input, bad data): fail at once. */
export const NON_RETRYABLE = ['PipelineInputError', 'DatasetError', 'CheckpointError'];

/** Temporal wraps failures (ActivityFailure → ApplicationFailure): the innermost message says what happened. */
export function rootMessage(err: unknown): string {
  let e = err as Error & { cause?: unknown };
  while (e?.cause instanceof Error) e = e.cause as Error & { cause?: unknown };
  return e?.message ?? String(err);
}

type StepFn = (input: StepInput) => Promise<StepOutput>;

function activityOptions(step: PlanStep): ActivityOptions {
  return {
    taskQueue: step.taskQueue,
    startToCloseTimeout: step.timeout.startToClose as ActivityOptions['startToCloseTimeout'],
    ...(step.timeout.heartbeat
      ? { heartbeatTimeout: step.timeout.heartbeat as ActivityOptions['heartbeatTimeout'] }
      : {}),
    retry: {
      maximumAttempts: step.retry.maximumAttempts,
      initialInterval: step.retry.initialInterval as ActivityOptions['startToCloseTimeout'],
      backoffCoefficient: step.retry.backoffCoefficient,
      maximumInterval: step.retry.maximumInterval as ActivityOptions['startToCloseTimeout'],
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  };
}

/** The Web UI's "current details" (markdown): where the run stands, readable without a query. */
function details(status: PipelineStatus): string {
  return status.steps
    .map(
      (s) =>
        `- **${s.id}** (${s.uses}): ${s.state}${s.from ? ` (${s.from})` : ''}${s.fanOut ? ` ${s.fanOut.done}/${s.fanOut.total}` : ''}${s.error ? ` — ${s.error}` : ''}`,
    )
    .join('\n');
}

export async function pipelineWorkflow(plan: Plan): Promise<PipelineResult> {
  const info = workflowInfo();
  const outputs: Record<string, StepOutput | FanOutOutput> = {};
  const status: PipelineStatus = {
    pipeline: plan.name,
    steps: plan.steps.map((s) => ({ id: s.id, uses: s.uses, state: 'waiting' as StepState })),
  };
  const entry = (id: string) => status.steps.find((s) => s.id === id)!;
  setHandler(pipelineStatusQuery, () => status);
  // Only a resumed run's plan has `resume`; the patch marks the histories that may use it.
  const resume = plan.resume && patched(PIPELINE_RESUME_PATCH) ? plan.resume : undefined;
  const showDetails = () => setCurrentDetails(details(status));
  showDetails();

  const runOne = (
    step: PlanStep,
    withValue: Record<string, unknown>,
    index?: number,
  ): Promise<StepOutput> => {
    const input: StepInput = {
      pipeline: plan.name,
      stepId: step.id,
      ...(index !== undefined ? { index } : {}),
      with: withValue,
      spec: plan.spec,
      runId: info.workflowId,
    };
    const continued = index === undefined ? resume?.searches[step.id] : undefined;
    if (step.execution === 'workflow') {
      return executeChild(step.target, {
        // A search that stopped part-way continues from its saved state (the direct input form).
        args: [continued ?? input],
        taskQueue: step.taskQueue,
        workflowId: `${info.workflowId}.${step.id}${index !== undefined ? `.${index}` : ''}`,
        staticSummary: `${step.id}${index !== undefined ? ` [${index}]` : ''} (${step.uses}) of pipeline ${plan.name}`,
      }) as Promise<StepOutput>;
    }
    const acts = proxyActivities<Record<string, StepFn>>(activityOptions(step));
    return acts[step.target](input);
  };

  const runStep = async (step: PlanStep): Promise<void> => {
    const ctx = {
      steps: outputs as Record<string, unknown>,
      pipeline: { name: plan.name, seed: plan.spec.seed, runId: info.workflowId },
    };
    const reused = resume?.outputs[step.id];
    if (reused) {
      outputs[step.id] = reused;
      entry(step.id).from = 'reused';
      return;
    }
    entry(step.id).state = 'running';
    if (resume?.searches[step.id]) entry(step.id).from = 'continued';
    showDetails();
    if (!step.forEach) {
      outputs[step.id] = await runOne(step, resolveTemplates(step.with, ctx));
      return;
    }
    const source = outputs[step.forEach.step] as StepOutput;
    const list = source[step.forEach.output];
    if (!Array.isArray(list)) {
      throw ApplicationFailure.nonRetryable(
        `forEach ${step.forEach.step}.${step.forEach.output}: expected a list output, got ${typeof list}`,
        'PipelineInputError',
      );
    }
    const progress = { done: 0, total: list.length };
    entry(step.id).fanOut = progress;
    const items = await Promise.all(
      list.map(async (item, i) => {
        const out =
          resume?.items[step.id]?.[String(i)] ??
          (await runOne(step, resolveTemplates(step.with, { ...ctx, item }), i));
        progress.done++;
        showDetails();
        return out;
      }),
    );
    outputs[step.id] = { items };
  };

  // Plan steps are already in dependency order, so every need has its promise before it is used.
  const running = new Map<string, Promise<void>>();
  for (const step of plan.steps) {
    const p = (async () => {
      try {
        await Promise.all(step.needs.map((n) => running.get(n)!));
      } catch {
        entry(step.id).state = 'skipped';
        throw new Error(`skipped: a step it needs failed`);
      }
      try {
        await runStep(step);
        entry(step.id).state = 'done';
        showDetails();
      } catch (err) {
        entry(step.id).state = 'failed';
        entry(step.id).error = rootMessage(err);
        showDetails();
        throw err;
      }
    })();
    p.catch(() => undefined); // observed below; avoid unhandled rejections while others still run
    running.set(step.id, p);
  }
  const settled = await Promise.allSettled(running.values());
  const firstFailure = plan.steps.find(
    (s, i) => settled[i].status === 'rejected' && entry(s.id).state === 'failed',
  );
  if (firstFailure) {
    const reason = (settled[plan.steps.indexOf(firstFailure)] as PromiseRejectedResult).reason as Error;
    throw ApplicationFailure.nonRetryable(
      `step "${firstFailure.id}" (${firstFailure.uses}) failed: ${rootMessage(reason)}`,
      'StepFailed',
    );
  }
  return { pipeline: plan.name, outputs };
}
