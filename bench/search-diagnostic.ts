// Diagnostic: does a pipeline's search learn? Runs the pipeline's `autogan.search` step (and what it
// needs) through the real workflow on a fresh Temporal dev server, then reports per stage:
//  - from the search's own history: the controller's entropy (first → last), its mean reward (first
//    third → last third of the stage), the reward's noise (rewardProbes children re-scored on fresh
//    images) against its spread across children (signal), resets and the lowest loss-window spread
//    against the reset threshold;
//  - on the supernet each stage ended with: a probe that scores N policy children and N uniform ones
//    on R paired image draws each: noise (std of one score), signal (std of the uniform children's
//    true rewards), their ratio, and the policy's lift over uniform sampling with its standard error;
//  - the best beam's sample grid of each stage (copied to --grids DIR when given).
//
//   npm run bench:search -- [pipeline.yaml] [--children 12] [--draws 3] [--grids DIR] [--out FILE]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../core/backend';
import { projectRoot } from '../core/paths';
import { loadPipeline } from '../pipeline/load';
import { searchLearning } from '../services/search/learning';
import { probeRewards, type RewardProbe } from '../services/search/reward-probe';
import { benchHeader, emit, onScratchServer, runMain, searchOnly, searchOutcome } from './search-run';

interface Args {
  file: string;
  children: number;
  draws: number;
  grids?: string;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { file: path.join(projectRoot(), 'pipelines', 'demo-mnist.yaml'), children: 12, draws: 3 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    const int = (name: string) => {
      const n = Number(v());
      if (!Number.isInteger(n) || n < 2) throw new Error(`${name} must be an integer ≥ 2`);
      return n;
    };
    if (k === '--children') a.children = int('--children');
    else if (k === '--draws') a.draws = int('--draws');
    else if (k === '--grids') a.grids = path.resolve(v());
    else if (k === '--out') a.out = path.resolve(v());
    else if (k.startsWith('--')) throw new Error(`unknown option ${k}`);
    else a.file = path.resolve(k);
  }
  return a;
}

const round = (v: number | null | undefined, d = 4) =>
  v === null || v === undefined || !Number.isFinite(v) ? null : +v.toFixed(d);

function probeSummary(p: RewardProbe) {
  return {
    children: p.uniform.length,
    draws: p.draws,
    images: p.images,
    noise: round(p.noise),
    signal: round(p.signal),
    signalToNoise: round(p.signalToNoise, 2),
    lift: p.lift
      ? {
          policyMean: round(p.lift.policyMean),
          uniformMean: round(p.lift.uniformMean),
          difference: round(p.lift.difference),
          stdErr: round(p.lift.stdErr),
        }
      : null,
    uniform: p.uniform.map((c) => ({ arch: c.arch.join(' '), mean: round(c.mean) })),
    policy: p.policy.map((c) => ({ arch: c.arch.join(' '), mean: round(c.mean) })),
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const backend = await selectBackend('auto', () => undefined);
  await onScratchServer('bench-search-', async (run) => {
    // Loaded in the scratch folder: the pipeline's relative artifact path lands there.
    const { plan, stepId } = searchOnly(loadPipeline(args.file));
    const t0 = Date.now();
    const { workflowId, result } = await run(plan);
    const wall = (Date.now() - t0) / 1000;
    const { search, dir, history } = searchOutcome(result, workflowId, stepId);
    const p = search.params;
    const learning = searchLearning(history);

    // The supernet (and controller) each stage ended with: grow steps, then the final stage.
    const ends = [
      ...search.grown.map((g, i) => ({
        stage: learning[i]?.stage ?? i,
        supernet: g.supernet,
        // Beams of an intermediate stage > 0 are not kept: probe its uniform children only.
        controller: i === 0 ? (g.controller ?? null) : null,
        beams: [],
      })),
      { stage: search.stage, supernet: search.supernet, controller: search.controller, beams: search.beams },
    ];
    const probes: Record<number, ReturnType<typeof probeSummary>> = {};
    for (const e of ends) {
      if (!e.supernet) continue;
      console.error(`[search-diagnostic] probing stage ${e.stage}'s supernet`);
      probes[e.stage] = probeSummary(
        await probeRewards(p, { ...e, supernet: e.supernet }, { children: args.children, draws: args.draws }),
      );
    }

    const grids = fs
      .readdirSync(dir)
      .filter((f) => /^samples-stage\d+-iter\d+\.png$/.test(f))
      .sort();
    if (args.grids) {
      fs.mkdirSync(args.grids, { recursive: true });
      for (const g of grids) fs.copyFileSync(path.join(dir, g), path.join(args.grids, g));
    }

    const out = {
      ...benchHeader('search-diagnostic', plan.name, args.file, backend.package),
      wallSeconds: +wall.toFixed(1),
      computeSeconds: +search.computeSeconds.toFixed(1),
      settings: {
        gan: p.gan,
        train: p.train,
        maxIterations: p.maxIterations,
        growSteps: p.growSteps,
        sharedSteps: p.sharedSteps ?? null,
        controllerSteps: p.controllerSteps,
        controllerBatch: p.controllerBatch,
        rewardImages: p.rewardImages,
        rewardProbes: p.rewardProbes,
        ctrlLr: p.ctrlLr,
        entropyCoeff: p.entropyCoeff,
        dynamicReset: p.dynamicReset,
      },
      stages: learning.map((l) => ({
        stage: l.stage,
        iterations: l.iterations,
        entropy: {
          first: round(l.entropy.first),
          last: round(l.entropy.last),
          changePercent: round(l.entropy.changePercent, 2),
        },
        reward: {
          firstThird: round(l.reward.firstThird),
          lastThird: round(l.reward.lastThird),
          rose: l.reward.rose,
        },
        duringSearch: {
          noise: round(l.noise),
          spread: round(l.spread),
          signal: round(l.signal),
          signalToNoise: round(l.signalToNoise, 2),
        },
        resets: l.resets,
        resetThreshold: p.dynamicReset.enabled ? p.dynamicReset.threshold : null,
        lowestLossSpread: { g: round(l.lowestLossSpread.g, 6), d: round(l.lowestLossSpread.d, 6) },
        endProbe: probes[l.stage] ?? null,
      })),
      topK: search.topK.map((t) => ({ arch: t.arch.join(' '), score: round(t.score) })),
      iterations: history.map((h) => ({
        iteration: h.iteration,
        stage: h.stage,
        meanReward: round(h.meanReward),
        entropy: round(h.entropy),
        rewardNoise: round(h.rewardNoise),
        rewardSpread: round(h.rewardSpread),
        dLoss: round(h.dLoss),
        gLoss: round(h.gLoss),
        lossSpread: { g: round(h.lossSpread?.g, 6), d: round(h.lossSpread?.d, 6) },
        reset: h.reset,
      })),
      grids: args.grids ? grids.map((g) => path.join(args.grids!, g)) : grids,
    };
    emit(out, args.out);
  });
}

runMain(main);
