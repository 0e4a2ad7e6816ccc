// The checkpoints of one training-activity attempt: when it writes one (a step interval and a time
// interval), which of them it created (so that, once it completes, its intermediate checkpoints can
// go: nothing needs them after the result exists), and where a retried attempt starts (the
// heartbeat's checkpoint, or the phase's input when that one is gone).
import { ArtifactMissingError, type ArtifactRef } from '../core/artifacts';
import { CheckpointError } from '../core/checkpoint/format';
import type { ArtifactStore } from './artifact-store';
import type { Hooks } from './search/context';

/** Seconds on a monotonic clock. */
export type Clock = () => number;

export const monotonicSeconds: Clock = () => performance.now() / 1000;

/**
 * The time half of the checkpoint rule: a checkpoint that the step rule makes due is written only
 * when at least `minSeconds` of compute passed since this attempt's last checkpoint (or its start).
 * 0 (or absent) lets every due checkpoint through.
 */
export class CheckpointGate {
  private last: number;

  constructor(
    private readonly minSeconds = 0,
    private readonly clock: Clock = monotonicSeconds,
  ) {
    this.last = clock();
  }

  /** Whether enough compute passed since the last checkpoint. */
  ready(): boolean {
    return this.minSeconds <= 0 || this.clock() - this.last >= this.minSeconds;
  }

  /** This attempt just wrote a checkpoint. */
  wrote(): void {
    this.last = this.clock();
  }
}

/**
 * The intermediate checkpoints one attempt writes. `prune` at the end of a completed attempt removes
 * those it created itself (not ones the store already had: another attempt, or a run, may hold
 * them), except what its result references. A retry after that (the completion lost on the way to
 * the server) finds its heartbeat's checkpoint gone and recomputes the phase from its input: the
 * same result, as `resumeOrStart` does.
 */
export class AttemptCheckpoints {
  private readonly created: ArtifactRef[] = [];

  constructor(private readonly store: ArtifactStore) {}

  async put(write: (tmpFile: string) => void): Promise<ArtifactRef> {
    const { ref, created } = await this.store.putNew('ckpt', write);
    if (created && !this.created.includes(ref)) this.created.push(ref);
    return ref;
  }

  /** Removes this attempt's own intermediate checkpoints but `keep`; never fails the activity. */
  async prune(keep: ArtifactRef[]): Promise<{ objects: number; bytes: number }> {
    const freed = { objects: 0, bytes: 0 };
    for (const ref of this.created.splice(0)) {
      if (keep.includes(ref)) continue;
      try {
        const bytes = await this.store.discard(ref);
        if (bytes > 0) {
          freed.objects++;
          freed.bytes += bytes;
        }
      } catch (err) {
        console.error(
          `[autogan] could not remove the intermediate checkpoint ${ref}: ${(err as Error).message}`,
        );
      }
    }
    return freed;
  }
}

/**
 * Loads where an attempt starts: the checkpoint of the last attempt's heartbeat, else (it is corrupt,
 * truncated, or no longer in the store) the earlier checkpoints that heartbeat lists, newest first,
 * else `start` (the phase's input), from which the phase is recomputed with the same result. An
 * object can be gone when the attempt that wrote it completed (and pruned it) without the completion
 * reaching the server, or `autogan gc --offline` collected it; corrupt when a disk or a copy failed.
 * What was skipped and why comes back as `recovered`, for the activity's result (the run's history)
 * and the worker's log.
 */
export async function resumeOrStart<T>(
  hooks: Hooks,
  load: (ref: ArtifactRef) => Promise<T>,
  start: ArtifactRef,
): Promise<{ loaded: T; resumed: boolean; recovered?: string }> {
  const resume = hooks.resumeFrom;
  const skipped: string[] = [];
  const candidates = resume ? [{ step: resume.step, ref: resume.ref }, ...(resume.earlier ?? [])] : [];
  for (const c of candidates) {
    try {
      const loaded = await load(c.ref);
      return {
        loaded,
        resumed: true,
        ...(skipped.length
          ? { recovered: note(skipped, `resumed from the checkpoint of step ${c.step}`) }
          : {}),
      };
    } catch (err) {
      if (!(err instanceof CheckpointError)) throw err;
      skipped.push(
        `the checkpoint of step ${c.step} (${c.ref.slice(0, 12)}…) ${err instanceof ArtifactMissingError ? 'is no longer in the store' : `is unusable: ${err.message}`}`,
      );
    }
  }
  const loaded = await load(start);
  return {
    loaded,
    resumed: false,
    ...(skipped.length ? { recovered: note(skipped, 'recomputed this phase from its input') } : {}),
  };
}

function note(skipped: string[], outcome: string): string {
  const text = `${skipped.join('; ')}; ${outcome}`;
  console.error(`[autogan] ${text}`);
  return text;
}
