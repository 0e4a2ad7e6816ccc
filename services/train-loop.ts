// The one GAN training loop of the method's services (shared training, random-search children,
// retraining): a D step per batch (and G steps as due), running loss sums, progress after every
// step, a checkpoint every N steps (and at most one per checkpointMinSeconds of compute) that a
// retried attempt resumes from, and the event loop let through between steps so heartbeats go out.
import type { ArtifactRef } from '../core/artifacts';
import type { BatchLoader } from '../core/datasets/loader';
import type { GanTrainer, StepResult } from '../core/gan/trainer';
import { CheckpointGate, type Clock } from './checkpoints';
import { checkFinite } from './numerical-fault';
import type { Hooks } from './search/context';

/** Where a loop stands: steps done and the loss sums so far (saved in checkpoints for resume). */
export interface LoopState {
  step: number;
  dSum: number;
  dCount: number;
  gSum: number;
  gCount: number;
}

export function freshLoopState(step = 0): LoopState {
  return { step, dSum: 0, dCount: 0, gSum: 0, gCount: 0 };
}

export interface LoopOptions {
  /** Step to stop at (exclusive of further steps). */
  end: number;
  /** The architecture of each step (the shared supernet); none for a derived generator. */
  arch?: () => readonly number[];
  /** Checkpoint every this many steps (never at the last step: the caller saves the result). */
  checkpointEvery?: number;
  /** …skipping a due checkpoint until this many seconds of compute passed since the last (0: none skipped). */
  checkpointMinSeconds?: number;
  /** The clock of checkpointMinSeconds (tests). @default monotonic seconds */
  clock?: Clock;
  /** Writes a checkpoint of everything the loop and its caller need to resume (stored, remotely too, when it resolves). */
  checkpoint?: () => Promise<ArtifactRef>;
  hooks: Hooks;
  /** Ends the loop after a step whose result asks for it (a dynamic reset). */
  stopOn?: (r: StepResult) => boolean;
}

/** Trains until `end` (or `stopOn`); mutates `state`; returns whether it stopped early. */
export async function trainLoop(
  trainer: GanTrainer,
  loader: BatchLoader,
  state: LoopState,
  o: LoopOptions,
): Promise<{ stopped: boolean }> {
  let ref: ArtifactRef | undefined;
  let stopped = false;
  const gate = new CheckpointGate(o.checkpointMinSeconds, o.clock);
  while (state.step < o.end && !stopped) {
    const real = loader.next();
    let r: StepResult;
    try {
      r = trainer.step(real, o.arch?.());
    } finally {
      real.dispose();
    }
    state.step++;
    checkFinite(state.step, r); // before any sum or checkpoint takes the bad step in
    state.dSum += r.dLoss;
    state.dCount++;
    if (r.gLoss !== undefined) {
      state.gSum += r.gLoss;
      state.gCount++;
    }
    stopped = o.stopOn?.(r) ?? false;
    // Let heartbeats and a cancellation through before writing anything: a cancelled attempt stops
    // here (atStepBoundary throws) and never writes another checkpoint.
    try {
      await o.hooks.atStepBoundary();
    } catch (err) {
      // A worker shutting down (not a stale or cancelled attempt, which must write nothing more):
      // save the step reached, so the retry on another worker loses nothing.
      if (
        (err as { workerShutdown?: boolean }).workerShutdown &&
        o.checkpoint &&
        state.step < o.end &&
        !stopped
      ) {
        const saved = await o.checkpoint();
        o.hooks.progress({ step: state.step, total: o.end, ref: saved });
        console.error(
          `[autogan] worker shutting down: checkpointed step ${state.step} of ${o.end} for the retry`,
        );
      }
      throw err;
    }
    const due = o.checkpoint && o.checkpointEvery && state.step % o.checkpointEvery === 0 && gate.ready();
    if (due && state.step < o.end && !stopped) {
      ref = await o.checkpoint!();
      gate.wrote();
      o.hooks.progress({ step: state.step, total: o.end, ref });
    } else o.hooks.progress({ step: state.step, total: o.end, ...(ref ? { ref } : {}) });
  }
  return { stopped };
}

/** Mean D and G losses of a loop. */
export function meanLosses(s: LoopState): { dLoss: number; gLoss: number } {
  return { dLoss: s.dSum / Math.max(1, s.dCount), gLoss: s.gSum / Math.max(1, s.gCount) };
}
