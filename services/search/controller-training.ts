// Training the controller with REINFORCE for one search iteration (Algorithm 1, line 4).
import { type ArtifactRef } from '../../core/artifacts';
import { type GanTrainer } from '../../core/gan/trainer';
import { mean, std } from '../../core/metrics/summary-stats';
import { type SearchParams } from '../../pipeline/search-params';
import {
  derivedSeed,
  loadController,
  loadTrainer,
  noHooks,
  saveController,
  type Hooks,
  type SearchRefs,
} from './context';
import { scoreArch } from './scoring';
import { writeStageGrid } from './grow';
import { artifactStore } from '../artifact-store';
import { AttemptCheckpoints, CheckpointGate, resumeOrStart } from '../checkpoints';

export interface ControllerResult {
  controller: ArtifactRef;
  archs: number[][];
  rewards: number[];
  meanReward: number;
  entropy: number;
  baseline: number | null;
  /**
   * The reward's noise: the standard deviation of one child's score over fresh draws of
   * rewardImages images, from the rewardProbes children scored twice (null when none were).
   */
  rewardNoise: number | null;
  /** The standard deviation of the scores across this call's children (signal and noise together). */
  rewardSpread: number;
  /** Checkpoints a retry had to skip (corrupt, missing) and where it resumed instead. */
  recovered?: string;
}

export async function trainController(
  p: SearchParams,
  s: SearchRefs,
  hooks: Hooks = noHooks,
  /** The search's run folder for its sample grids (gridEvery); none: no grid. */
  gridRunId?: string,
): Promise<ControllerResult> {
  if (!s.controller) throw new Error('this search has no controller (random search)');
  const start = await resumeOrStart(hooks, (ref) => loadController(p, ref), s.controller);
  const { controller: ctrl, extra } = start.loaded;
  const resume = start.resumed;
  let trainer;
  try {
    trainer = (await loadTrainer(p, s.supernet)).trainer;
  } catch (err) {
    ctrl.dispose();
    throw err;
  }
  // A checkpoint after a step (not the last: the result is saved below) when checkpointMinSeconds
  // of compute passed since the last one; each step is long (controllerBatch children scored).
  const gate = new CheckpointGate(p.checkpointMinSeconds);
  const scratch = new AttemptCheckpoints(artifactStore(p));
  let ref: ArtifactRef | undefined;
  try {
    if (trainer.stage !== s.stage) trainer.setStage(s.stage);
    const acc =
      resume && extra.phase?.iteration === s.iteration
        ? extra.phase
        : {
            iteration: s.iteration,
            step: 0,
            rewards: [] as number[],
            entropies: [] as number[],
            archs: [] as number[][],
            scores: [] as number[],
          };
    const beams = s.beams.length ? s.beams : undefined;
    // A fresh call (not a resumed attempt of this iteration) starts its baseline afresh, as the
    // reference's train_controller does.
    if (acc.step === 0 && (ctrl.config.baselineScope ?? 'call') === 'call') ctrl.resetBaseline();
    while (acc.step < p.controllerSteps) {
      const batch = ctrl.sample(p.controllerBatch, beams);
      const scores: number[] = [];
      for (const [k, smp] of batch.entries()) {
        scores.push(
          await scoreArch(p, trainer, smp.arch, s.stage, derivedSeed(p, 'reward', s.iteration, acc.step, k)),
        );
        await hooks.atStepBoundary();
      }
      const u = ctrl.update(batch, scores, beams);
      acc.step++;
      acc.rewards.push(...u.rewards);
      acc.entropies.push(u.meanEntropy);
      acc.archs.push(...batch.map((b) => b.arch));
      acc.scores?.push(...scores);
      if (acc.step < p.controllerSteps && gate.ready()) {
        ref = await scratch.put((f) => ctrl.save(f, { phase: { ...acc } }));
        gate.wrote();
      }
      hooks.progress({ step: acc.step, total: p.controllerSteps, ...(ref ? { ref } : {}) });
      await hooks.atStepBoundary();
    }
    const scores = acc.scores ?? acc.rewards;
    const rewardNoise = await probeNoise(p, s, trainer, acc.archs, scores, hooks);
    const done = s.iteration + 1;
    if (gridRunId && p.gridEvery > 0 && done % p.gridEvery === 0 && acc.archs.length) {
      const best = scores.indexOf(Math.max(...scores));
      await writeStageGrid(p, trainer, s.stage, done, acc.archs[best], gridRunId);
    }
    const controller = await saveController(p, ctrl);
    await scratch.prune([controller]);
    return {
      controller,
      archs: acc.archs,
      rewards: acc.rewards,
      meanReward: mean(acc.rewards),
      entropy: mean(acc.entropies),
      baseline:
        ctrl.baseline === null ? null : ctrl.baseline.reduce((a, b) => a + b, 0) / ctrl.baseline.length,
      rewardNoise,
      rewardSpread: std(scores),
      ...(start.recovered ? { recovered: start.recovered } : {}),
    };
  } finally {
    ctrl.dispose();
    trainer.dispose();
  }
}

/**
 * Scores the last `rewardProbes` children of the call once more on fresh images (the supernet has
 * not changed since their first score) and returns the pooled standard deviation of one score:
 * sqrt(mean((a - b)² / 2)) over the pairs. The probes use their own seeds, so the search's own
 * draws, and its trajectory, are the same with or without them.
 */
async function probeNoise(
  p: SearchParams,
  s: SearchRefs,
  trainer: GanTrainer,
  archs: number[][],
  scores: number[],
  hooks: Hooks,
): Promise<number | null> {
  const n = Math.min(p.rewardProbes, archs.length);
  if (n === 0) return null;
  let sq = 0;
  for (let j = 0; j < n; j++) {
    const i = archs.length - 1 - j;
    const again = await scoreArch(
      p,
      trainer,
      archs[i],
      s.stage,
      derivedSeed(p, 'reward-probe', s.iteration, j),
    );
    sq += (again - scores[i]) ** 2 / 2;
    await hooks.atStepBoundary();
  }
  return Math.sqrt(sq / n);
}
