import { CancelledFailure, Context } from '@temporalio/activity';
import type { Hooks } from '../services/search';

/** Heartbeat at most this often (plus whenever a new checkpoint exists). */
const HEARTBEAT_INTERVAL_MS = Number(process.env.AUTOGAN_HEARTBEAT_MS ?? 5000);

/**
 * Hooks for a long activity: heartbeats on a time interval with progress and the newest checkpoint
 * reference, and resumes from the last attempt's heartbeat details when Temporal retries it.
 */
export function activityHooks(): Hooks {
  const ctx = Context.current();
  const details = ctx.info.heartbeatDetails as { step: number; total: number; ref?: string } | undefined;
  let last = 0;
  let latest: { step: number; total: number; ref?: string } | undefined = details;
  return {
    ...(details?.ref ? { resumeFrom: { step: details.step, ref: details.ref } } : {}),
    progress(p) {
      latest = { ...p, ...((p.ref ?? latest?.ref) ? { ref: p.ref ?? latest?.ref } : {}) };
      const now = Date.now();
      if (p.ref || now - last >= HEARTBEAT_INTERVAL_MS) {
        ctx.heartbeat(latest);
        last = now;
      }
    },
    // Yield to the event loop so heartbeats and cancellation are delivered between tensor steps,
    // then stop at this step boundary if the attempt was cancelled: the workflow was cancelled or
    // terminated (NOT_FOUND), the server gave the attempt up after a missed heartbeat and retried
    // it elsewhere (TIMED_OUT), or the worker is shutting down. Nothing is written after this.
    async breathe() {
      await new Promise((r) => setImmediate(r));
      const signal = ctx.cancellationSignal;
      if (!signal.aborted) return;
      const reason =
        signal.reason instanceof Error ? signal.reason : new CancelledFailure(String(signal.reason));
      console.error(
        `[autogan] ${ctx.info.activityType} (${ctx.info.workflowExecution?.workflowId}, attempt ${ctx.info.attempt}) cancelled (${reason.message}) at step ${latest?.step ?? 0}: stopped at the step boundary`,
      );
      throw reason;
    },
  };
}
