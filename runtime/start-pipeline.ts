// Starts a validated plan as a pipeline workflow run.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Plan } from '../pipeline/plan';
import type { pipelineWorkflow } from '../workflows/pipeline';

export interface StartOptions {
  workflowId?: string;
  /** Task queue of the workflow itself; default: the plan's control queue. */
  taskQueue?: string;
  /** More memo fields (e.g. `resumedFrom`). */
  memo?: Record<string, unknown>;
}

function defaultWorkflowId(plan: Plan): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${plan.name}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function startPipeline(
  client: Client,
  plan: Plan,
  opts: StartOptions = {},
): Promise<WorkflowHandle<typeof pipelineWorkflow>> {
  return client.workflow.start<typeof pipelineWorkflow>('pipelineWorkflow', {
    args: [plan],
    taskQueue: opts.taskQueue ?? plan.spec.taskQueues.control,
    workflowId: opts.workflowId ?? defaultWorkflowId(plan),
    // Memo makes runs findable and readable in the Web UI without extra server setup.
    memo: {
      pipeline: plan.name,
      dataset: plan.spec.dataset.kind,
      source: plan.source,
      // `autogan report <id>` finds the run folder through it.
      artifacts: plan.spec.artifacts.path,
      ...opts.memo,
    },
    // Shown by the Web UI at the top of the run (user metadata, Temporal server ≥ 1.27).
    staticSummary: `AutoGAN pipeline ${plan.name} on ${plan.spec.dataset.kind}: ${plan.steps.map((s) => s.id).join(' → ')}`,
    staticDetails: [
      `**${plan.name}**${plan.description ? ` — ${plan.description}` : ''}`,
      `dataset \`${plan.spec.dataset.kind}\`, seed ${plan.spec.seed}, backend \`${plan.spec.backend}\`, artifacts \`${plan.spec.artifacts.path}\``,
      plan.steps
        .map(
          (s) =>
            `- \`${s.id}\`: ${s.uses}${s.forEach ? ` for each of ${s.forEach.step}.${s.forEach.output}` : ''}`,
        )
        .join('\n'),
    ].join('\n\n'),
  });
}
