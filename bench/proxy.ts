// Proxy validity (AutoGAN §4.3.1, Fig. 7) at a pipeline's scale: does an architecture's reward on the
// searched supernet rank architectures like training each one from scratch does?
//  1. runs the pipeline's search (the real workflow, fresh dev server, scratch folder);
//  2. takes --policy distinct architectures from the final policy (the best of 3× as many sampled)
//     and --random distinct uniform ones, and scores each on the final supernet on --draws paired
//     image draws (the proxy: their mean, services/study/proxy.ts as in a study's proxy check);
//  3. retrains every one from scratch with the pipeline's retrain settings and one fixed budget
//     (--iterations), as a pipeline of retrain steps that run side by side within the workers'
//     capacity, and takes each one's final IS on the digit classifier (the real score);
//  4. reports Spearman's ρ and Kendall's τ between proxy and real, over all and over the random
//     architectures alone, and the policy's and the random architectures' mean real IS.
//
//   npm run bench:proxy -- [pipeline.yaml] [--policy 4] [--random 6] [--iterations 2000]
//                          [--draws 3] [--out FILE]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomArch } from '../core/arch/encoding';
import { selectBackend } from '../core/backend';
import { kendall, spearman } from '../core/metrics/rank-correlation';
import { mean } from '../core/metrics/summary-stats';
import { projectRoot } from '../core/paths';
import { Rng } from '../core/rng';
import { loadPipeline } from '../pipeline/load';
import { derivedSeed, derive } from '../services/search';
import { proxyScores, type ProxyArch } from '../services/study/proxy';
import {
  benchHeader,
  emit,
  intOption,
  onScratchServer,
  runMain,
  searchOnly,
  searchOutcome,
  type ScratchRun,
} from './search-run';

interface Args {
  file: string;
  policy: number;
  random: number;
  iterations: number;
  draws: number;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    file: path.join(projectRoot(), 'pipelines', 'demo-mnist.yaml'),
    policy: 4,
    random: 6,
    iterations: 2000,
    draws: 3,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--policy') a.policy = intOption(argv, ++i, k, 1);
    else if (k === '--random') a.random = intOption(argv, ++i, k, 1);
    else if (k === '--iterations') a.iterations = intOption(argv, ++i, k, 1);
    else if (k === '--draws') a.draws = intOption(argv, ++i, k, 1);
    else if (k === '--out') a.out = path.resolve(argv[++i] ?? '');
    else if (k.startsWith('--')) throw new Error(`unknown option ${k}`);
    else a.file = path.resolve(k);
  }
  if (a.policy + a.random < 3) throw new Error('--policy + --random must be at least 3');
  return a;
}

/** The images each retrained architecture's final IS/FID is measured on. */
const EVAL_IMAGES = 1000;

const round = (v: number, d = 4) => (Number.isFinite(v) ? +v.toFixed(d) : null);

type Search = ReturnType<typeof searchOutcome>['search'];
type Picked = ProxyArch[];

/** The policy's best distinct architectures (of 3× as many derived), then distinct uniform ones. */
async function pickArchs(search: Search, args: Args): Promise<Picked> {
  const p = search.params;
  const key = (a: number[]) => a.join(' ');
  const picked = new Map<string, ProxyArch>();
  if (search.controller) {
    const refs = {
      supernet: search.supernet,
      controller: search.controller,
      beams: search.beams,
      stage: search.stage,
      iteration: search.iterations,
    };
    const d = await derive(p, refs, { m: 3 * args.policy, k: 3 * args.policy, tag: 'proxy' });
    for (const t of d.topK) {
      if (picked.size >= args.policy) break;
      if (!picked.has(key(t.arch))) picked.set(key(t.arch), { arch: t.arch, source: 'policy' });
    }
  }
  const rng = new Rng(derivedSeed(p, 'proxy-random'));
  for (let n = 0, tries = 0; n < args.random; tries++) {
    if (tries > 10_000) throw new Error('could not draw enough distinct uniform architectures');
    const a = randomArch(search.stage, rng);
    if (picked.has(key(a))) continue;
    picked.set(key(a), { arch: a, source: 'random' });
    n++;
  }
  return [...picked.values()];
}

/** Each architecture retrained from scratch with one budget, side by side: its final IS and FID. */
async function retrainAll(
  run: ScratchRun,
  source: ReturnType<typeof loadPipeline>,
  archs: Picked,
  args: Args,
): Promise<Array<{ is: number; fid: number | null }>> {
  const retrainStep = source.steps.find((s) => s.uses === 'autogan.retrain');
  if (!retrainStep)
    throw new Error(`${args.file}: no autogan.retrain step to take the retrain settings from`);
  const rw = retrainStep.with as Record<string, unknown>;
  const steps = archs.map((a, i) => ({
    id: `a${i}`,
    uses: 'autogan.retrain',
    with: {
      arch: a.arch,
      label: `a${i}`,
      ...(rw.gan ? { gan: rw.gan } : {}),
      ...(rw.train ? { train: rw.train } : {}),
      ...(rw.datasetLimit ? { datasetLimit: rw.datasetLimit } : {}),
      iterations: args.iterations,
      stepsPerActivity: args.iterations * Number((rw.train as { nCritic?: number })?.nCritic ?? 5),
      evalImages: EVAL_IMAGES,
      checkpointEvery: 500,
    },
  }));
  const file = path.join(process.cwd(), 'proxy-retrain.yaml');
  const spec = source.spec;
  fs.writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'autogan/v1',
      kind: 'Pipeline',
      metadata: { name: `${source.name}-proxy` },
      spec: { dataset: spec.dataset, seed: spec.seed, artifacts: { path: 'runs' }, steps },
    }),
  );
  console.error(`[proxy] retraining ${archs.length} architectures for ${args.iterations} iterations each`);
  const retrained = await run(loadPipeline(file));
  return archs.map((_, i) => {
    const out = retrained.result.outputs[`a${i}`] as { final?: { is: number; fid: number | null } };
    if (!out?.final) throw new Error(`retrain a${i} has no final evaluation`);
    return out.final;
  });
}

/** Rank correlations over all architectures and over the random ones alone; mean real IS by source. */
function agreement(archs: Picked, proxies: number[], isReal: number[]) {
  const idx = (src: ProxyArch['source']) => archs.flatMap((a, i) => (a.source === src ? [i] : []));
  const randomIdx = idx('random');
  const policyIdx = idx('policy');
  const pick = (xs: number[], at: number[]) => at.map((i) => xs[i]);
  return {
    spearman: round(spearman(proxies, isReal), 3),
    kendall: round(kendall(proxies, isReal), 3),
    randomOnly:
      randomIdx.length >= 3
        ? {
            spearman: round(spearman(pick(proxies, randomIdx), pick(isReal, randomIdx)), 3),
            kendall: round(kendall(pick(proxies, randomIdx), pick(isReal, randomIdx)), 3),
          }
        : null,
    realIs: {
      policyMean: policyIdx.length ? round(mean(pick(isReal, policyIdx)), 3) : null,
      randomMean: randomIdx.length ? round(mean(pick(isReal, randomIdx)), 3) : null,
    },
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const backend = await selectBackend('auto', () => undefined);
  await onScratchServer('bench-proxy-', async (run) => {
    // Loaded in the scratch folder: the pipeline's relative artifact path lands there.
    const source = loadPipeline(args.file);
    const { plan, stepId } = searchOnly(source);
    const t0 = Date.now();
    const { workflowId, result } = await run(plan);
    const searchSeconds = (Date.now() - t0) / 1000;
    const { search } = searchOutcome(result, workflowId, stepId);
    const archs = await pickArchs(search, args);
    console.error(`[proxy] scoring ${archs.length} architectures on the supernet`);
    const supernet = { params: search.params, supernet: search.supernet, stage: search.stage };
    const proxies = await proxyScores(
      [supernet],
      archs.map((a) => a.arch),
      args.draws,
    );
    const t1 = Date.now();
    const real = await retrainAll(run, source, archs, args);
    const retrainSeconds = (Date.now() - t1) / 1000;
    emit(
      {
        ...benchHeader('proxy', source.name, args.file, backend.package),
        command: `npm run bench:proxy -- ${process.argv.slice(2).join(' ')}`.trim(),
        searchSeconds: +searchSeconds.toFixed(1),
        retrainSeconds: +retrainSeconds.toFixed(1),
        budget: {
          iterations: args.iterations,
          evalImages: EVAL_IMAGES,
          proxyDraws: args.draws,
          rewardImages: search.params.rewardImages,
        },
        ...agreement(
          archs,
          proxies,
          real.map((r) => r.is),
        ),
        points: archs.map((a, i) => ({
          arch: a.arch.join(' '),
          source: a.source,
          proxy: round(proxies[i]),
          real: round(real[i].is, 3),
          fid: real[i].fid === null ? null : round(real[i].fid!, 3),
        })),
      },
      args.out,
    );
  });
}

runMain(main);
