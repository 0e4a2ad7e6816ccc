// TensorBoard event files in the run folders, so `tensorboard --logdir runs/` shows every search's
// losses, rewards, entropy and best-architecture grids, and every retrain's IS, FID, losses and
// sample grids. Each file is rebuilt whole from what the run folder holds (atomically), so a
// retried or replayed activity writes the same file again instead of appending twice.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { safeName } from '../core/artifacts';
import { writeFileAtomic } from '../core/atomic-write';
import { eventFile, eventFileName, type SummaryEvent } from '../core/tensorboard/event-file';
import type { IterationSummary } from '../workflows/search';

const STAGE_GRID = /^samples-stage(\d+)-iter(\d+)\.png$/;

function readPng(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * The search's events from its full history (search-history.json) and its stage grids. Wall time
 * is the iteration (use TensorBoard's Step axis): the history keeps no clock.
 */
export function writeSearchEvents(dir: string, history: IterationSummary[]): string {
  const events: SummaryEvent[] = [];
  const scalar = (tag: string, step: number, v: number | null | undefined) => {
    if (typeof v === 'number') events.push({ kind: 'scalar', tag, step, value: v, wallTime: step });
  };
  for (const h of history) {
    scalar('search/d_loss', h.iteration, h.dLoss);
    scalar('search/g_loss', h.iteration, h.gLoss);
    scalar('search/mean_reward', h.iteration, h.meanReward);
    scalar('search/entropy', h.iteration, h.entropy);
    scalar('search/baseline', h.iteration, h.baseline);
    scalar('search/reward_noise', h.iteration, h.rewardNoise);
    scalar('search/reward_spread', h.iteration, h.rewardSpread);
    scalar('search/stage', h.iteration, h.stage);
    scalar('search/dynamic_reset', h.iteration, h.reset ? 1 : 0);
  }
  const grids = fs
    .readdirSync(dir)
    .map((f) => ({ f, m: STAGE_GRID.exec(f) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]) || Number(a.m![2]) - Number(b.m![2]));
  for (const g of grids) {
    const png = readPng(path.join(dir, g.f));
    const step = Number(g.m![2]);
    if (png)
      events.push({
        kind: 'image',
        tag: `search/best_architecture_stage${g.m![1]}`,
        step,
        png,
        wallTime: step,
      });
  }
  const file = path.join(dir, eventFileName('search'));
  writeFileAtomic(file, eventFile(events.sort((a, b) => a.step - b.step)));
  return file;
}

/** One retrain chunk's numbers, with the wall time it ended. */
export interface RetrainPoint {
  step: number;
  dLoss: number;
  gLoss: number;
  is?: number;
  fid?: number | null;
  samples?: string;
  wallTime: number;
}

/**
 * A retrained candidate's events: its points are merged by step into retrain-<label>-curve.json
 * (a retried chunk replaces its own point), then the event file is rebuilt from all of them.
 */
export function writeRetrainEvents(
  dir: string,
  label: string,
  point: RetrainPoint,
): { events: string; curve: string } {
  const curveFile = path.join(dir, `retrain-${safeName(label)}-curve.json`);
  let points: RetrainPoint[] = [];
  try {
    points = JSON.parse(fs.readFileSync(curveFile, 'utf8')) as RetrainPoint[];
  } catch {
    points = []; // the first chunk (or an unreadable file, rebuilt from here on)
  }
  const byStep = new Map(points.map((p) => [p.step, p]));
  byStep.set(point.step, { ...point, wallTime: byStep.get(point.step)?.wallTime ?? point.wallTime });
  points = [...byStep.values()].sort((a, b) => a.step - b.step);
  writeFileAtomic(curveFile, JSON.stringify(points));
  const events: SummaryEvent[] = [];
  for (const p of points) {
    const at = { step: p.step, wallTime: p.wallTime };
    events.push({ kind: 'scalar', tag: `${label}/d_loss`, value: p.dLoss, ...at });
    events.push({ kind: 'scalar', tag: `${label}/g_loss`, value: p.gLoss, ...at });
    if (typeof p.is === 'number')
      events.push({ kind: 'scalar', tag: `${label}/inception_score`, value: p.is, ...at });
    if (typeof p.fid === 'number') events.push({ kind: 'scalar', tag: `${label}/fid`, value: p.fid, ...at });
    const png = p.samples ? readPng(p.samples) : undefined;
    if (png) events.push({ kind: 'image', tag: `${label}/samples`, png, ...at });
  }
  const file = path.join(dir, eventFileName(label));
  writeFileAtomic(file, eventFile(events));
  return { events: file, curve: curveFile };
}
