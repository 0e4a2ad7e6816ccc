import { CancelledFailure, Context } from '@temporalio/activity';
import type { Hooks } from '../services/search';

/**
 * Heartbeat at most this often (plus whenever a new checkpoint exists). The server's answer to a
 * heartbeat is how a cancel or terminate reaches the activity, so this bounds how long training
 * goes on after one (the worker's heartbeat throttle is 1 s too, runtime/worker.ts).
 */
const HEARTBEAT_INTERVAL_MS = Number(process.env.AUTOGAN_HEARTBEAT_MS ?? 1000);

type Details = {
  step: number;
  total: number;
  ref?: string;
  /** The step `ref` was written at. */
  refStep?: number;
  /** The checkpoints before `ref`, newest first (a retry falls back to them if `ref` is corrupt). */
  earlier?: Array<{ step: number; ref: string }>;
};

/** How many earlier checkpoints the heartbeat keeps besides the newest. */
const EARLIER_KEPT = 2;

/**
 * Training metrics of one activity, through the worker's metric meter (exported when the worker
 * serves Prometheus metrics, `autogan worker --metrics`; a no-op otherwise): steps done, steps per
 * second over the last reporting interval, checkpoints written. The meter tags them with the
 * activity type, namespace and task queue. `from`: the step this attempt starts from.
 */
/** The shortest interval a steps-per-second reading is taken over. */
const RATE_WINDOW_MS = 200;

function trainingMetrics(ctx: Context, from: number) {
  const meter = ctx.metricMeter;
  const steps = meter.createCounter(
    'autogan_training_steps',
    'steps',
    "steps done, in each activity's own unit (shared-GAN and retrain steps, controller steps, candidates scored)",
  );
  const rate = meter.createGauge(
    'autogan_training_steps_per_second',
    'float',
    's',
    'training steps per second',
  );
  const checkpoints = meter.createCounter('autogan_checkpoints', 'checkpoints', 'checkpoints written');
  let counted = from; // the step the counter has reached
  let window: { step: number; t: number } | undefined; // the start of the rate's interval
  return {
    progress(step: number, checkpoint: boolean) {
      const t = Date.now();
      if (step > counted) steps.add(step - counted);
      counted = step;
      if (!window || step < window.step) window = { step, t };
      else if (t - window.t >= RATE_WINDOW_MS) {
        rate.set(((step - window.step) * 1000) / (t - window.t));
        window = { step, t };
      }
      if (checkpoint) checkpoints.add(1);
    },
  };
}

/**
 * Hooks for a long activity: heartbeats on a time interval with progress and the newest checkpoints'
 * references, and resumes from the last attempt's heartbeat details when Temporal retries it.
 */
export function activityHooks(): Hooks {
  const ctx = Context.current();
  const details = ctx.info.heartbeatDetails as Details | undefined;
  const metrics = trainingMetrics(ctx, details?.refStep ?? details?.step ?? 0);
  let last = 0;
  let latest: Details | undefined = details;
  return {
    ...(details?.ref
      ? {
          resumeFrom: {
            step: details.refStep ?? details.step,
            ref: details.ref,
            ...(details.earlier ? { earlier: details.earlier } : {}),
          },
        }
      : {}),
    progress(p) {
      metrics.progress(p.step, !!p.ref && p.ref !== latest?.ref);
      const prev = latest;
      let earlier = prev?.earlier ?? [];
      if (p.ref && prev?.ref && p.ref !== prev.ref)
        earlier = [{ step: prev.refStep ?? prev.step, ref: prev.ref }, ...earlier].slice(0, EARLIER_KEPT);
      const fresh = p.ref && p.ref !== prev?.ref;
      const ref = p.ref ?? prev?.ref;
      const refStep = fresh ? p.step : prev?.refStep;
      latest = {
        step: p.step,
        total: p.total,
        ...(ref ? { ref } : {}),
        ...(ref && refStep !== undefined ? { refStep } : {}),
        ...(earlier.length ? { earlier } : {}),
      };
      const now = Date.now();
      if (p.ref || now - last >= HEARTBEAT_INTERVAL_MS) {
        ctx.heartbeat(latest);
        last = now;
      }
    },
    keepAlive() {
      ctx.heartbeat(latest);
      last = Date.now();
    },
    // Yield to the event loop so heartbeats and cancellation are delivered between tensor steps,
    // then stop at this step boundary if the attempt was cancelled: the workflow was cancelled or
    // terminated (NOT_FOUND), the server gave the attempt up after a missed heartbeat and retried
    // it elsewhere (TIMED_OUT), or the worker is shutting down. Nothing is written after this.
    async atStepBoundary() {
      await new Promise((r) => setImmediate(r));
      const signal = ctx.cancellationSignal;
      if (!signal.aborted) return;
      const reason =
        signal.reason instanceof Error ? signal.reason : new CancelledFailure(String(signal.reason));
      // The worker is shutting down (SIGTERM): this attempt is still the valid one, so the training
      // loop checkpoints the step it reached before it stops, and the retry resumes right there.
      if (ctx.cancellationDetails?.workerShutdown) Object.assign(reason, { workerShutdown: true });
      console.error(
        `[autogan] ${ctx.info.activityType} (${ctx.info.workflowExecution?.workflowId}, attempt ${ctx.info.attempt}) cancelled (${reason.message}) at step ${latest?.step ?? 0}: stopped at the step boundary`,
      );
      throw reason;
    },
  };
}
