// Training the controller with REINFORCE for one search iteration (Algorithm 1, line 4).
import { type ArtifactRef } from '../../core/artifacts';
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
import { artifactStore } from '../artifact-store';
import { AttemptCheckpoints, CheckpointGate, resumeOrStart } from '../checkpoints';

export interface ControllerResult {
  controller: ArtifactRef;
  archs: number[][];
  rewards: number[];
  meanReward: number;
  entropy: number;
  baseline: number | null;
  /** Checkpoints a retry had to skip (corrupt, missing) and where it resumed instead. */
  recovered?: string;
}

export async function trainController(
  p: SearchParams,
  s: SearchRefs,
  hooks: Hooks = noHooks,
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
        await hooks.breathe();
      }
      const u = ctrl.update(batch, scores, beams);
      acc.step++;
      acc.rewards.push(...u.rewards);
      acc.entropies.push(u.meanEntropy);
      acc.archs.push(...batch.map((b) => b.arch));
      if (acc.step < p.controllerSteps && gate.ready()) {
        ref = await scratch.put((f) => ctrl.save(f, { phase: { ...acc } }));
        gate.wrote();
      }
      hooks.progress({ step: acc.step, total: p.controllerSteps, ...(ref ? { ref } : {}) });
      await hooks.breathe();
    }
    const controller = await saveController(p, ctrl);
    await scratch.prune([controller]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    return {
      controller,
      archs: acc.archs,
      rewards: acc.rewards,
      meanReward: mean(acc.rewards),
      entropy: mean(acc.entropies),
      baseline:
        ctrl.baseline === null ? null : ctrl.baseline.reduce((a, b) => a + b, 0) / ctrl.baseline.length,
      ...(start.recovered ? { recovered: start.recovered } : {}),
    };
  } finally {
    ctrl.dispose();
    trainer.dispose();
  }
}
