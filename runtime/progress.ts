// Live progress of a pipeline run, gathered without changing it: the pipeline's `pipelineStatus`
// query, each running child workflow's `progress` query (search, retrain) and the heartbeat details
// ({ step, total }) of every pending activity, read from `describe()` so a busy worker that cannot
// answer a query still shows its step. Rates and ETAs come from two successive snapshots.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { PipelineStatus } from '../workflows/pipeline';
import type { RetrainProgress } from '../workflows/retrain';
import type { SearchProgress } from '../workflows/search';

/** A training activity as its last heartbeat describes it. */
export interface ActivityProgress {
  type: string;
  attempt: number;
  worker?: string;
  step?: number;
  total?: number;
  /** Steps per second since the previous snapshot (undefined on the first). */
  rate?: number;
  /** Seconds until `total` at `rate`. */
  etaSeconds?: number;
}

export interface RunNode {
  workflowId: string;
  type: string;
  status: string;
  search?: SearchProgress;
  retrain?: Pick<RetrainProgress, 'label' | 'step' | 'totalSteps'>;
  activities: ActivityProgress[];
}

export interface StepProgress {
  id: string;
  uses: string;
  state: string;
  fanOut?: { done: number; total: number };
  error?: string;
  /** The child workflow(s) of a workflow step (one per item of a forEach). */
  children: RunNode[];
  /** Pending activities of an activity step. */
  activities: ActivityProgress[];
}

export interface RunProgress {
  workflowId: string;
  status: string;
  type: string;
  at: string;
  pipeline?: string;
  steps: StepProgress[];
  /** A run that is not a pipeline (a search or retrain started directly). */
  node?: RunNode;
  /** Set when a query went unanswered (busy or absent worker); the rest is still current. */
  note?: string;
}

/** How long a progress query may wait: a worker busy with a tensor step answers late or never. */
const QUERY_DEADLINE_MS = 3000;

type Details = { step?: number; total?: number };

function heartbeatOf(raw: {
  heartbeatDetails?: { payloads?: Array<{ data?: Uint8Array | null }> | null } | null;
}) {
  const data = raw.heartbeatDetails?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8')) as Details;
  } catch {
    return undefined;
  }
}

export class ProgressTracker {
  private last = new Map<string, { step: number; t: number; rate?: number }>();
  private unanswered = 0;

  constructor(
    private readonly client: Client,
    private readonly now: () => number = Date.now,
  ) {}

  /** One snapshot of the run and everything it started. */
  async snapshot(workflowId: string): Promise<RunProgress> {
    const handle = this.client.workflow.getHandle(workflowId);
    const desc = await handle.describe();
    const base = {
      workflowId,
      status: desc.status.name,
      type: desc.type,
      at: new Date(this.now()).toISOString(),
    };
    if (desc.type !== 'pipelineWorkflow') {
      return { ...base, steps: [], node: await this.node(workflowId, handle, desc), ...this.note() };
    }
    const status =
      desc.status.name === 'RUNNING' ? await this.query<PipelineStatus>(handle, 'pipelineStatus') : undefined;
    const pendingTop = (desc.raw.pendingActivities ?? []).map((a) =>
      this.activity(`${workflowId}/${a.activityId}`, a),
    );
    const steps: StepProgress[] = [];
    for (const s of status?.steps ?? []) {
      const step: StepProgress = {
        id: s.id,
        uses: s.uses,
        state: s.state,
        ...(s.fanOut ? { fanOut: s.fanOut } : {}),
        ...(s.error ? { error: s.error } : {}),
        children: [],
        activities: [],
      };
      if (s.state === 'running') {
        const childIds = s.fanOut
          ? Array.from({ length: s.fanOut.total }, (_, i) => `${workflowId}.${s.id}.${i}`)
          : [`${workflowId}.${s.id}`];
        for (const id of childIds) {
          const node = await this.childNode(id);
          if (node && (node.status === 'RUNNING' || s.fanOut)) step.children.push(node);
        }
        // Activity steps have no child: their pending activities belong to the pipeline itself.
        if (!step.children.length) step.activities = pendingTop;
      }
      steps.push(step);
    }
    return { ...base, ...(status ? { pipeline: status.pipeline } : {}), steps, ...this.note() };
  }

  private note(): { note?: string } {
    const n = this.unanswered;
    this.unanswered = 0;
    return n
      ? { note: `${n} progress quer${n === 1 ? 'y' : 'ies'} unanswered (worker busy): heartbeat steps shown` }
      : {};
  }

  private async childNode(id: string): Promise<RunNode | undefined> {
    const handle = this.client.workflow.getHandle(id);
    try {
      return await this.node(id, handle, await handle.describe());
    } catch {
      return undefined; // not started yet
    }
  }

  private async node(
    id: string,
    handle: WorkflowHandle,
    desc: Awaited<ReturnType<WorkflowHandle['describe']>>,
  ): Promise<RunNode> {
    const node: RunNode = {
      workflowId: id,
      type: desc.type,
      status: desc.status.name,
      activities: (desc.raw.pendingActivities ?? []).map((a) =>
        this.activity(`${id}/${a.activityType?.name}`, a),
      ),
    };
    if (desc.status.name !== 'RUNNING') return node;
    if (desc.type === 'autogan-search') {
      const p = await this.query<SearchProgress>(handle, 'progress');
      if (p) node.search = p;
    } else if (desc.type === 'autogan-retrain') {
      const p = await this.query<RetrainProgress>(handle, 'progress');
      if (p) node.retrain = { label: p.label, step: p.step, totalSteps: p.totalSteps };
    }
    return node;
  }

  private async query<T>(handle: WorkflowHandle, name: string): Promise<T | undefined> {
    try {
      return await this.client.withDeadline(this.now() + QUERY_DEADLINE_MS, () => handle.query<T>(name));
    } catch {
      this.unanswered++;
      return undefined;
    }
  }

  private activity(
    key: string,
    a: {
      activityType?: { name?: string | null } | null;
      attempt?: number | null;
      lastWorkerIdentity?: string | null;
      heartbeatDetails?: { payloads?: Array<{ data?: Uint8Array | null }> | null } | null;
    },
  ): ActivityProgress {
    const hb = heartbeatOf(a);
    const out: ActivityProgress = {
      type: a.activityType?.name ?? '?',
      attempt: a.attempt ?? 1,
      ...(a.lastWorkerIdentity ? { worker: a.lastWorkerIdentity } : {}),
      ...(typeof hb?.step === 'number' ? { step: hb.step } : {}),
      ...(typeof hb?.total === 'number' ? { total: hb.total } : {}),
    };
    if (out.step === undefined) return out;
    const t = this.now();
    const prev = this.last.get(key);
    let rate = prev?.rate;
    if (prev && out.step > prev.step && t > prev.t) rate = (out.step - prev.step) / ((t - prev.t) / 1000);
    else if (prev && out.step < prev.step) rate = undefined; // a new phase or a retry: start over
    // Keep the old anchor until the step moves (heartbeats arrive every few seconds).
    this.last.set(key, prev && out.step === prev.step ? { ...prev, rate } : { step: out.step, t, rate });
    if (rate) {
      out.rate = rate;
      if (out.total !== undefined) out.etaSeconds = Math.max(0, (out.total - out.step) / rate);
    }
    return out;
  }
}

/** Polls until the run closes, calling `onSnapshot` with each snapshot. */
export async function watchRun(
  client: Client,
  workflowId: string,
  onSnapshot: (p: RunProgress) => void,
  opts: { intervalMs?: number; until?: Promise<unknown> } = {},
): Promise<RunProgress> {
  const tracker = new ProgressTracker(client);
  const interval = opts.intervalMs ?? 2000;
  let done = false;
  void opts.until?.finally(() => (done = true));
  for (;;) {
    const snap = await tracker.snapshot(workflowId);
    onSnapshot(snap);
    if (snap.status !== 'RUNNING' || done) return snap;
    await new Promise((r) => setTimeout(r, interval));
  }
}
