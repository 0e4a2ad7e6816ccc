// Rewards: the feature network (loaded once per process), real-image statistics (cached by
// everything they depend on) and the IS or 1/FID of an architecture's samples.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { openDataset } from '../../core/datasets';
import { imageSizeAt } from '../../core/gan/config';
import { GanTrainer } from '../../core/gan/trainer';
import { evaluateImages, type ImageSource } from '../../core/metrics/evaluate';
import { loadDigitClassifier, loadTfjsNetwork, type FeatureNetwork } from '../../core/metrics/features';
import { frechetDistance, type GaussianStats } from '../../core/metrics/fid';
import { readStatsNpz, writeStatsNpz } from '../../core/metrics/npz';
import { datasetSource } from '../../core/metrics/sources';
import { Rng } from '../../core/rng';
import { type NetworkRef, type SearchParams } from '../../pipeline/search-params';

const networks = new Map<string, Promise<FeatureNetwork>>();

/** The feature network, loaded once per worker process. */
export function network(ref: NetworkRef): Promise<FeatureNetwork> {
  const key = JSON.stringify(ref);
  let n = networks.get(key);
  if (!n) {
    n = ref === 'digits' ? loadDigitClassifier() : loadTfjsNetwork(ref);
    networks.set(key, n);
    // A failed load is not cached: the next attempt (e.g. after the file appears) tries again.
    n.catch(() => networks.delete(key));
  }
  return n;
}

const realStatsCache = new Map<string, GaussianStats>();

/** Statistics of real images at a stage's resolution (for the 1/FID reward), cached on disk. */
export async function realStats(
  p: Pick<
    SearchParams,
    | 'fidStats'
    | 'gan'
    | 'dataset'
    | 'network'
    | 'datasetLimit'
    | 'rewardImages'
    | 'evalBatchSize'
    | 'artifacts'
  >,
  stage: number,
): Promise<GaussianStats> {
  if (p.fidStats) return readStatsNpz(p.fidStats);
  const size = imageSizeAt(p.gan, stage);
  const ds = openDataset(p.dataset);
  const n = Math.min(ds.count, p.datasetLimit ?? ds.count, Math.max(p.rewardImages, 2));
  // Everything the statistics depend on, the image count included (a 200-image estimate is not a
  // 5,000-image one).
  const key = createHash('sha256')
    .update(JSON.stringify([p.dataset, size, p.network, p.datasetLimit ?? null, n]))
    .digest('hex')
    .slice(0, 16);
  const cached = realStatsCache.get(key);
  if (cached) return cached;
  const file = path.join(p.artifacts, 'cache', `real-stats-${key}.npz`);
  if (fs.existsSync(file)) {
    const st = readStatsNpz(file);
    realStatsCache.set(key, st);
    return st;
  }
  const net = await network(p.network);
  const ev = await evaluateImages(net, datasetSource(ds, size), {
    images: n,
    batchSize: p.evalBatchSize,
    is: false,
    stats: true,
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeStatsNpz(file, ev.stats!);
  realStatsCache.set(key, ev.stats!);
  return ev.stats!;
}

/** The reward of an architecture: IS (or 1/FID) of rewardImages generated at the stage's resolution. */
export async function scoreArch(
  p: SearchParams,
  trainer: GanTrainer,
  arch: number[],
  stage: number,
  seed: number,
): Promise<number> {
  const net = await network(p.network);
  const rng = new Rng(seed);
  const source: ImageSource = {
    count: p.rewardImages,
    next: (n) => trainer.sample(n, { ...(trainer.arch ? {} : { arch }), rng, ema: !!trainer.ema }),
  };
  const wantFid = p.reward === 'inverse-fid';
  const ev = await evaluateImages(net, source, {
    images: p.rewardImages,
    batchSize: p.evalBatchSize,
    is: !wantFid,
    stats: wantFid,
    splits: Math.min(10, p.rewardImages),
  });
  if (!wantFid) return ev.is!.mean;
  return 1 / Math.max(1e-9, frechetDistance(ev.stats!, await realStats(p, stage)));
}
