// What a study keeps of each finished cell and of its proxy check: small JSON records in the study's
// folder (cells/<cell>.json, proxy.json), written atomically when each one finishes. They are the
// study's durable memory beyond Temporal's: a study started again with the same id reads them and
// runs only what has no record.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write';
import type { PipelineResult, Plan } from '../../pipeline/plan';
import type { IterationSummary, SearchResult } from '../../workflows/search';

/** One point of a cell's search curve. */
export interface CurvePoint {
  iteration: number;
  stage: number;
  reward: number | null;
  entropy: number | null;
  /** Search compute seconds up to this iteration (the search's mean seconds per iteration × iteration). */
  seconds: number;
}

export interface CellRecord {
  cell: string;
  variant: string;
  seed: number;
  workflowId: string;
  /** The evaluated winner: its architecture, IS (± its split std) and FID. */
  arch: number[];
  is: number;
  isStd: number | null;
  fid: number | null;
  /** Compute seconds of the search's activities. */
  searchSeconds: number;
  /** Wall-clock seconds of the whole cell (search, derive, retrain, evaluate), start to close. */
  computeSeconds: number;
  iterations: number;
  resets: number;
  /** The derive step's scored candidates, best first (the proxy check draws from them). */
  candidates: Array<{ arch: number[]; score: number }>;
  /** What the proxy check needs to score on this cell's final supernet. */
  search: Pick<SearchResult, 'params' | 'supernet' | 'stage' | 'iterations'>;
  curve: CurvePoint[];
  /** The winner's sample grid. */
  samples: string | null;
}

export interface ProxyPoint {
  arch: number[];
  /** Where it came from: a seed's derive candidates, or uniform. */
  source: 'policy' | 'random';
  /** Mean reward on the variant's final supernets over paired draws. */
  proxy: number;
  /** IS after retraining from scratch with the proxy's budget. */
  real: number;
  fid: number | null;
}

export interface ProxyRecord {
  variant: string;
  iterations: number;
  draws: number;
  supernets: number;
  retrainSeconds: number;
  points: ProxyPoint[];
}

/** A step id of the cell's plan by type, where the result holds its output. */
function stepOf(plan: Plan, uses: string): string | undefined {
  return plan.steps.find((s) => s.uses === uses)?.id;
}

/** The search curve from the search's full history, on a compute-time axis. */
export function curveOf(
  history: IterationSummary[],
  search: Pick<SearchResult, 'computeSeconds' | 'iterations'>,
): CurvePoint[] {
  const perIteration = search.iterations > 0 ? search.computeSeconds / search.iterations : 0;
  return history.map((h) => ({
    iteration: h.iteration,
    stage: h.stage,
    reward: h.meanReward,
    entropy: h.entropy,
    seconds: +(perIteration * h.iteration).toFixed(2),
  }));
}

/** A finished cell's record from its pipeline result and run folder. */
export function cellRecord(
  cell: { id: string; variant: string; seed: number; plan: Plan },
  workflowId: string,
  result: PipelineResult,
  times: { computeSeconds: number },
  history: IterationSummary[],
): CellRecord {
  const search = result.outputs[stepOf(cell.plan, 'autogan.search') ?? ''] as unknown as
    SearchResult | undefined;
  const derive = result.outputs[stepOf(cell.plan, 'autogan.derive') ?? ''] as
    { candidates?: Array<{ arch: number[]; score: number }> } | undefined;
  const evaluate = result.outputs[stepOf(cell.plan, 'autogan.evaluate') ?? ''] as
    | { winner?: { arch: number[]; is: number; isStd?: number; fid: number | null; samples?: string } }
    | undefined;
  if (!search?.supernet) throw new Error(`cell ${cell.id}: the pipeline result has no search output`);
  const winner = evaluate?.winner;
  if (!winner) throw new Error(`cell ${cell.id}: the pipeline result has no evaluated winner`);
  return {
    cell: cell.id,
    variant: cell.variant,
    seed: cell.seed,
    workflowId,
    arch: winner.arch,
    is: winner.is,
    isStd: winner.isStd ?? null,
    fid: winner.fid,
    searchSeconds: +search.computeSeconds.toFixed(1),
    computeSeconds: +times.computeSeconds.toFixed(1),
    iterations: search.iterations,
    resets: search.resets,
    candidates: [...(derive?.candidates ?? search.topK)].sort((a, b) => b.score - a.score),
    search: {
      params: search.params,
      supernet: search.supernet,
      stage: search.stage,
      iterations: search.iterations,
    },
    curve: curveOf(history, search),
    samples: winner.samples ?? null,
  };
}

const cellFile = (dir: string, cell: string) => path.join(dir, 'cells', `${cell}.json`);

export function writeCellRecord(dir: string, r: CellRecord): string {
  const file = cellFile(dir, r.cell);
  writeFileAtomic(file, JSON.stringify(r, null, 2));
  return file;
}

export function writeProxyRecord(dir: string, r: ProxyRecord): string {
  const file = path.join(dir, 'proxy.json');
  writeFileAtomic(file, JSON.stringify(r, null, 2));
  return file;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined; // absent, or unreadable (then it is simply run again)
  }
}

/** The records already in the study's folder, for the cells asked about; unreadable ones count as absent. */
export function finishedRecords(
  dir: string,
  cells: string[],
): { cells: Record<string, CellRecord>; proxy: ProxyRecord | null } {
  const out: Record<string, CellRecord> = {};
  for (const c of cells) {
    const r = readJson<CellRecord>(cellFile(dir, c));
    if (r && r.cell === c && typeof r.is === 'number') out[c] = r;
  }
  const proxy = readJson<ProxyRecord>(path.join(dir, 'proxy.json'));
  return { cells: out, proxy: proxy && Array.isArray(proxy.points) ? proxy : null };
}
