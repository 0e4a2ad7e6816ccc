// The `autogan-study` workflow: runs every (variant, seed) cell of a study as a child pipeline run,
// `concurrency` at a time, records each finished cell in the study's folder, runs the proxy check,
// and writes study.json and its report. Started again with the same id (after a lost server, a
// failed cell), it reads the records and runs only the cells — and proxy check — that have none.
// Deterministic: plan data, activity results and Temporal APIs only.
import {
  ApplicationFailure,
  defineQuery,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities/study';
import type { PipelineResult, Plan } from '../pipeline/plan';
import type { StudyCell, StudyPlan } from '../pipeline/study';
import type { CellRecord, ProxyRecord } from '../services/study/records';
import { NON_RETRYABLE, rootMessage } from './pipeline';

export type CellState = 'waiting' | 'running' | 'done' | 'failed';

export interface StudyStatus {
  study: string;
  cells: Array<{ id: string; state: CellState; is?: number; error?: string; reused?: boolean }>;
  proxy: 'none' | 'waiting' | 'scoring' | 'retraining' | 'done' | 'failed';
}

export interface StudyOutcome {
  study: string;
  studyJson: string;
  report: string;
  cells: number;
  /** Cells that ran in this run of the workflow (the others were recorded before). */
  ran: number;
  failed: string[];
}

export const studyStatusQuery = defineQuery<StudyStatus>('studyStatus');

export async function autoganStudy(plan: StudyPlan): Promise<StudyOutcome> {
  const studyId = workflowInfo().workflowId;
  const retry = { maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE };
  const control = proxyActivities<typeof activities>({
    taskQueue: plan.taskQueues.control,
    startToCloseTimeout: '10 minutes',
    retry,
  });
  const tensor = proxyActivities<typeof activities>({
    taskQueue: plan.taskQueues.gpu,
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: '10 minutes',
    retry,
  });
  const status: StudyStatus = {
    study: plan.name,
    cells: plan.cells.map((c) => ({ id: c.id, state: 'waiting' as CellState })),
    proxy: plan.proxy ? 'waiting' : 'none',
  };
  setHandler(studyStatusQuery, () => status);
  const entry = (id: string) => status.cells.find((c) => c.id === id)!;
  const show = () => {
    const n = (s: CellState) => status.cells.filter((c) => c.state === s).length;
    setCurrentDetails(
      `study **${plan.name}**: ${n('done')}/${status.cells.length} cells done, ${n('running')} running, ${n('failed')} failed; proxy check: ${status.proxy}`,
    );
  };

  const before = await control.studyFinished(
    plan.artifacts,
    studyId,
    plan.cells.map((c) => c.id),
  );
  const records = new Map<string, CellRecord>(Object.entries(before.cells));
  for (const id of records.keys())
    Object.assign(entry(id), { state: 'done', is: records.get(id)!.is, reused: true });
  show();

  // The cells without a record, `concurrency` at a time, in plan order (variant by variant per seed).
  const queue: StudyCell[] = plan.cells.filter((c) => !records.has(c.id));
  const ran = queue.length;
  const failed: string[] = [];
  const runCells = async () => {
    for (let cell = queue.shift(); cell; cell = queue.shift()) {
      const workflowId = `${studyId}.${cell.id}`;
      entry(cell.id).state = 'running';
      show();
      try {
        const result = await executeChild('pipelineWorkflow', {
          args: [cell.plan],
          taskQueue: plan.taskQueues.control,
          workflowId,
          staticSummary: `cell ${cell.id} of study ${plan.name}`,
        });
        const r = await control.studyRecordCell(
          plan.artifacts,
          studyId,
          cell,
          workflowId,
          result as PipelineResult,
        );
        records.set(cell.id, r);
        Object.assign(entry(cell.id), { state: 'done', is: r.is });
      } catch (err) {
        Object.assign(entry(cell.id), { state: 'failed', error: rootMessage(err) });
        failed.push(cell.id);
      }
      show();
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.concurrency, queue.length) }, runCells));

  let proxy: ProxyRecord | null = before.proxy;
  if (plan.proxy && !proxy) {
    const px = plan.proxy;
    const sources = plan.cells
      .filter((c) => c.variant === px.variant && records.has(c.id))
      .map((c) => records.get(c.id)!);
    if (sources.length && !failed.some((id) => plan.cells.find((c) => c.id === id)?.variant === px.variant)) {
      try {
        status.proxy = 'scoring';
        show();
        const picked = await control.studyProxyPick(studyId, sources, px);
        const scores = await tensor.studyProxyScore(
          sources.map((r) => ({
            params: r.search.params,
            supernet: r.search.supernet,
            stage: r.search.stage,
          })),
          picked.map((a) => a.arch),
          px.draws,
        );
        status.proxy = 'retraining';
        show();
        const template = px.retrain.steps[0];
        const retrainPlan: Plan = {
          ...px.retrain,
          steps: picked.map((a, i) => ({
            ...template,
            id: `a${i}`,
            with: { ...template.with, arch: a.arch, label: `a${i}` },
          })),
        };
        const workflowId = `${studyId}.proxy`;
        const result = await executeChild('pipelineWorkflow', {
          args: [retrainPlan],
          taskQueue: plan.taskQueues.control,
          workflowId,
          staticSummary: `proxy check of study ${plan.name}: ${picked.length} architectures retrained from scratch`,
        });
        proxy = await control.studyRecordProxy(
          plan.artifacts,
          studyId,
          { variant: px.variant, iterations: px.iterations, draws: px.draws, supernets: sources.length },
          picked,
          scores,
          workflowId,
          result as PipelineResult,
        );
        status.proxy = 'done';
      } catch (err) {
        status.proxy = 'failed';
        failed.push(`proxy: ${rootMessage(err)}`);
      }
      show();
    }
  } else if (proxy) status.proxy = 'done';

  const written = await control.studyWrite(plan, studyId, [...records.values()], proxy);
  show();
  if (failed.length)
    throw ApplicationFailure.nonRetryable(
      `study ${plan.name}: ${failed.length} part${failed.length === 1 ? '' : 's'} failed (${failed.join('; ')}); the finished cells are recorded in ${written.studyJson} — start the study again with the same id (autogan study resume ${studyId}) to run only what is missing`,
      'StudyIncomplete',
    );
  return {
    study: plan.name,
    studyJson: written.studyJson,
    report: written.report,
    cells: plan.cells.length,
    ran,
    failed,
  };
}
