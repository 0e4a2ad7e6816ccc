// What the Temporal server holds of the artifact store, for `autogan gc`: every "<sha256>.<ext>"
// reference an open workflow may still use, everything a failed, terminated, timed-out or
// cancelled workflow's history names (it can be reset or resumed), the Schedules' actions, and the
// results of completed workflows still within the namespace's retention (a retrained model nobody
// wrote down yet).
//
// An open workflow's current history is read event by event: its input (a continued search's
// state), signals, markers, child workflows' results, the inputs and heartbeat details of pending
// activities (the checkpoint a retry resumes from, which no file records), and activity results —
// all of them, except for the activity types whose every result supersedes the previous one of the
// same type (the search's supernet and controller phases, retraining chunks: the workflow keeps
// only the newest), where only the newest result counts. Inputs of completed activities only
// repeat references from those sources. At paper scale this frees a retrain's finished chunks
// (≈ 250 checkpoints per model) while it runs.
import type { Client } from '@temporalio/client';
import { refsIn, type TemporalRefs } from '../services/artifact-gc';

/** HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT: only a closed workflow's last event (its result). */
const CLOSE_EVENT_ONLY = 2;

/** Every reference in a decoded protobuf message or JSON value (payload bytes read as UTF-8). */
export function scanForRefs(v: unknown, into: Set<string>, seen = new WeakSet<object>(), depth = 0): void {
  if (v === null || v === undefined || depth > 64) return;
  if (typeof v === 'string') {
    refsIn(v, into);
    return;
  }
  if (v instanceof Uint8Array) {
    refsIn(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8'), into);
    return;
  }
  if (typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  for (const x of Array.isArray(v) ? v : Object.values(v)) scanForRefs(x, into, seen, depth + 1);
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; code?: number };
  return e?.name === 'WorkflowNotFoundError' || e?.code === 5;
}

/** Activity types whose newest completed result holds all the workflow still uses of that type. */
export const SUPERSEDING_ACTIVITIES = new Set([
  'searchGrow',
  'searchTrainShared',
  'searchTrainController',
  'searchResetShared',
  'retrainChunk',
]);

type Event = {
  eventId?: unknown;
  activityTaskScheduledEventAttributes?: {
    activityType?: { name?: string | null } | null;
    input?: unknown;
  } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: unknown; result?: unknown } | null;
  activityTaskFailedEventAttributes?: { scheduledEventId?: unknown } | null;
  activityTaskTimedOutEventAttributes?: { scheduledEventId?: unknown } | null;
  activityTaskCanceledEventAttributes?: { scheduledEventId?: unknown } | null;
};

/** The references an open workflow's history holds that it may still use (see the file header). */
export function openHistoryRefs(
  history: { events?: Event[] | null } | null | undefined,
  into: Set<string>,
): void {
  const scheduled = new Map<string, { type: string; input: unknown }>();
  const newest = new Map<string, unknown>();
  for (const e of history?.events ?? []) {
    const sched = e.activityTaskScheduledEventAttributes;
    const done =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (sched) {
      scheduled.set(String(e.eventId), { type: sched.activityType?.name ?? '', input: sched.input });
    } else if (done) {
      const id = String(done.scheduledEventId);
      const type = scheduled.get(id)?.type ?? '';
      scheduled.delete(id);
      const completed = e.activityTaskCompletedEventAttributes;
      if (completed && SUPERSEDING_ACTIVITIES.has(type)) newest.set(type, completed.result);
      else scanForRefs(e, into); // other results; a failure's last heartbeat details
    } else scanForRefs(e, into);
  }
  for (const p of scheduled.values()) scanForRefs(p.input, into); // pending activities
  for (const r of newest.values()) scanForRefs(r, into);
}

/** Closed states a run can still be reset or resumed from (within the namespace's retention). */
const RESUMABLE = new Set(['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED']);

/** Gathers the references the client's namespace holds: workflows of every state, and Schedules. */
export async function temporalLiveRefs(
  client: Client,
  where: { address: string; namespace: string },
): Promise<TemporalRefs> {
  const refs = new Set<string>();
  const open: string[] = [];
  let completed = 0;
  let closed = 0;
  for await (const wf of client.workflow.list()) {
    const status = wf.status.name;
    if (RESUMABLE.has(status)) {
      // `temporal workflow reset` replays it to an earlier point, and `autogan resume` continues
      // a search from the state it saved: what its history names may be needed again.
      try {
        openHistoryRefs(await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory(), refs);
        closed++;
      } catch (err) {
        if (!isNotFound(err)) throw err; // gone past retention meanwhile
      }
    } else if (status === 'RUNNING') {
      const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
      try {
        openHistoryRefs(await handle.fetchHistory(), refs);
        const desc = await handle.describe();
        for (const a of desc.raw.pendingActivities ?? []) scanForRefs(a.heartbeatDetails, refs);
        open.push(wf.workflowId);
      } catch (err) {
        // Closed and gone between the listing and the read: its refs are in its result or state.
        if (!isNotFound(err)) throw err;
      }
    } else if (status === 'COMPLETED') {
      try {
        const res = await client.workflowService.getWorkflowExecutionHistory({
          namespace: where.namespace,
          execution: { workflowId: wf.workflowId, runId: wf.runId },
          historyEventFilterType: CLOSE_EVENT_ONLY,
        });
        scanForRefs(res.history, refs);
        completed++;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
  const schedules = await scheduleRefs(client, refs);
  return { address: where.address, namespace: where.namespace, refs, open, completed, closed, schedules };
}

/** Every reference in the Schedules' actions (`schedule create --evaluate <checkpoint>`); how many. */
async function scheduleRefs(client: Client, into: Set<string>): Promise<number> {
  let n = 0;
  for await (const s of client.schedule.list()) {
    try {
      const desc = await client.schedule.getHandle(s.scheduleId).describe();
      scanForRefs(desc.action, into);
      n++;
    } catch (err) {
      if ((err as { name?: string }).name !== 'ScheduleNotFoundError') throw err; // deleted meanwhile
    }
  }
  return n;
}
