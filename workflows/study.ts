// The `autogan-study` workflow: runs every (variant, seed) cell of a study as a child pipeline run,
// `concurrency` at a time, records each finished cell in the study's folder, runs the proxy check,
// and writes study.json and its report. Started again with the same id (after a lost server, a
// failed cell), it reads the records and runs only the cells — and proxy check — that have none.
// Deterministic: plan data, activity results and Temporal APIs only.
import {
  ApplicationFailure,
  defineQuery,
  executeChild,
  patched,
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

/**
 * Since this patch the study's control activities (records, picks, study.json) time out after 2
 * minutes instead of 10: they are seconds of file work and send no heartbeat, so the timeout is
 * how long a study waits to retry one whose worker died.
 */
export const STUDY_CONTROL_TIMEOUT_PATCH = 'study-control-timeout';

type Activities = ReturnType<typeof proxyActivities<typeof activities>>;

/** One run of the study workflow: its status (query, Web UI details), records and phases. */
class StudyRun {
  readonly studyId = workflowInfo().workflowId;
  readonly status: StudyStatus;
  readonly records = new Map<string, CellRecord>();
  readonly failed: string[] = [];
  private readonly control: Activities;
  private readonly tensor: Activities;

  constructor(readonly plan: StudyPlan) {
    const retry = { maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE };
    this.control = proxyActivities<typeof activities>({
      taskQueue: plan.taskQueues.control,
      startToCloseTimeout: patched(STUDY_CONTROL_TIMEOUT_PATCH) ? '2 minutes' : '10 minutes',
      retry,
    });
    this.tensor = proxyActivities<typeof activities>({
      taskQueue: plan.taskQueues.gpu,
      startToCloseTimeout: '6 hours',
      heartbeatTimeout: '10 minutes',
      retry,
    });
    this.status = {
      study: plan.name,
      cells: plan.cells.map((c) => ({ id: c.id, state: 'waiting' as CellState })),
      proxy: plan.proxy ? 'waiting' : 'none',
    };
    setHandler(studyStatusQuery, () => this.status);
  }

  private entry(id: string) {
    return this.status.cells.find((c) => c.id === id)!;
  }

  /** The Web UI's "current details": where the study stands. */
  show(): void {
    const n = (s: CellState) => this.status.cells.filter((c) => c.state === s).length;
    setCurrentDetails(
      `study **${this.plan.name}**: ${n('done')}/${this.status.cells.length} cells done, ${n('running')} running, ${n('failed')} failed; proxy check: ${this.status.proxy}`,
    );
  }

  /** The records an earlier run of this study left; returns its proxy record, if any. */
  async readRecords(): Promise<ProxyRecord | null> {
    const before = await this.control.studyFinished(
      this.plan.artifacts,
      this.studyId,
      this.plan.cells.map((c) => c.id),
    );
    for (const [id, r] of Object.entries(before.cells)) {
      this.records.set(id, r);
      Object.assign(this.entry(id), { state: 'done', is: r.is, reused: true });
    }
    this.show();
    return before.proxy;
  }

  /** The cells without a record, `concurrency` at a time, in plan order; returns how many ran. */
  async runCells(): Promise<number> {
    const queue: StudyCell[] = this.plan.cells.filter((c) => !this.records.has(c.id));
    const ran = queue.length;
    const lane = async () => {
      for (let cell = queue.shift(); cell; cell = queue.shift()) await this.runCell(cell);
    };
    await Promise.all(Array.from({ length: Math.min(this.plan.concurrency, queue.length) }, lane));
    return ran;
  }

  /** One cell as a child pipeline run, then its record; a failure is noted and the others go on. */
  private async runCell(cell: StudyCell): Promise<void> {
    const workflowId = `${this.studyId}.${cell.id}`;
    this.entry(cell.id).state = 'running';
    this.show();
    try {
      const result = await executeChild('pipelineWorkflow', {
        args: [cell.plan],
        taskQueue: this.plan.taskQueues.control,
        workflowId,
        staticSummary: `cell ${cell.id} of study ${this.plan.name}`,
      });
      const r = await this.control.studyRecordCell(
        this.plan.artifacts,
        this.studyId,
        cell,
        workflowId,
        result as PipelineResult,
      );
      this.records.set(cell.id, r);
      Object.assign(this.entry(cell.id), { state: 'done', is: r.is });
    } catch (err) {
      Object.assign(this.entry(cell.id), { state: 'failed', error: rootMessage(err) });
      this.failed.push(cell.id);
    }
    this.show();
  }

  /**
   * The proxy check, unless recorded before or a cell of its variant failed: picks, scores on the
   * variant's final supernets, retrains every architecture from scratch (one child pipeline run).
   */
  async proxyCheck(recorded: ProxyRecord | null): Promise<ProxyRecord | null> {
    const px = this.plan.proxy;
    if (!px) return recorded;
    if (recorded) {
      this.status.proxy = 'done';
      return recorded;
    }
    const sources = this.plan.cells
      .filter((c) => c.variant === px.variant && this.records.has(c.id))
      .map((c) => this.records.get(c.id)!);
    const variantFailed = this.failed.some(
      (id) => this.plan.cells.find((c) => c.id === id)?.variant === px.variant,
    );
    if (!sources.length || variantFailed) return null;
    try {
      this.status.proxy = 'scoring';
      this.show();
      const picked = await this.control.studyProxyPick(this.studyId, sources, px);
      const scores = await this.tensor.studyProxyScore(
        sources.map((r) => ({ params: r.search.params, supernet: r.search.supernet, stage: r.search.stage })),
        picked.map((a) => a.arch),
        px.draws,
      );
      this.status.proxy = 'retraining';
      this.show();
      const template = px.retrain.steps[0];
      const retrainPlan: Plan = {
        ...px.retrain,
        steps: picked.map((a, i) => ({
          ...template,
          id: `a${i}`,
          with: { ...template.with, arch: a.arch, label: `a${i}` },
        })),
      };
      const workflowId = `${this.studyId}.proxy`;
      const result = await executeChild('pipelineWorkflow', {
        args: [retrainPlan],
        taskQueue: this.plan.taskQueues.control,
        workflowId,
        staticSummary: `proxy check of study ${this.plan.name}: ${picked.length} architectures retrained from scratch`,
      });
      const proxy = await this.control.studyRecordProxy(
        this.plan.artifacts,
        this.studyId,
        { variant: px.variant, iterations: px.iterations, draws: px.draws, supernets: sources.length },
        picked,
        scores,
        workflowId,
        result as PipelineResult,
      );
      this.status.proxy = 'done';
      return proxy;
    } catch (err) {
      this.status.proxy = 'failed';
      this.failed.push(`proxy: ${rootMessage(err)}`);
      return null;
    } finally {
      this.show();
    }
  }

  /** study.json and the report, from every record there is. */
  write(proxy: ProxyRecord | null) {
    return this.control.studyWrite(this.plan, this.studyId, [...this.records.values()], proxy);
  }
}

export async function autoganStudy(plan: StudyPlan): Promise<StudyOutcome> {
  const run = new StudyRun(plan);
  const recordedProxy = await run.readRecords();
  const ran = await run.runCells();
  const proxy = await run.proxyCheck(recordedProxy);
  const written = await run.write(proxy);
  run.show();
  if (run.failed.length)
    throw ApplicationFailure.nonRetryable(
      `study ${plan.name}: ${run.failed.length} part${run.failed.length === 1 ? '' : 's'} failed (${run.failed.join('; ')}); the finished cells are recorded in ${written.studyJson} — start the study again with the same id (autogan study resume ${run.studyId}) to run only what is missing`,
      'StudyIncomplete',
    );
  return {
    study: plan.name,
    studyJson: written.studyJson,
    report: written.report,
    cells: plan.cells.length,
    ran,
    failed: run.failed,
  };
}
