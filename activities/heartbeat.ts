import { Context } from '@temporalio/activity';
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
    // Yield to the event loop so heartbeats and cancellation are delivered between tensor steps.
    breathe: () => new Promise((r) => setImmediate(r)),
  };
}
