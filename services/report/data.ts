// What a run report shows, gathered from a run folder (read-only): the pipeline result when there
// is one, else the search's durable state and full iteration history, the evaluation, and every
// sample grid the run wrote. `runtime/report-live.ts` adds what only a server knows (live state,
// failure reason, running retrains' curves).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IterationSummary } from '../../workflows/search';

export interface Scored {
  arch: number[];
  score: number;
}

/** One search iteration's summary, as the search records it. */
export type IterationPoint = IterationSummary;

export interface RetrainReport {
  label: string;
  arch: number[];
  step?: number;
  totalSteps?: number;
  curve: Array<{ step: number; is: number; fid: number | null }>;
  final?: { is: number; isStd?: number; fid: number | null } | null;
  /** Sample grids of this candidate, oldest first (absolute paths). */
  samples: Array<{ title: string; file: string }>;
}

export interface ReportData {
  id: string;
  status: string;
  generatedAt: string;
  pipeline?: string;
  dataset?: string;
  failure?: string;
  started?: string;
  closed?: string;
  /** Steps of a pipeline run and their states, when known. */
  steps: Array<{ id: string; uses?: string; state: string }>;
  search?: {
    name: string;
    iterations: number;
    maxIterations?: number;
    stage: number;
    phase?: string;
    resets: number;
    computeSeconds?: number;
    history: IterationPoint[];
    /** Top-K beams at the end of each stage (grow steps). */
    grown: Array<{ iteration: number; topK: Scored[] }>;
    /** The derived top-K (final). */
    topK: Scored[];
    /** Best sampled during controller training (not derived). */
    best: Scored[];
    /** The dynamic-reset threshold the loss-window spreads are compared with (null: reset off). */
    resetThreshold?: number | null;
  };
  /**
   * The derive step's draw (its step id and top K): the list the retrain fan-out trained, which is
   * not the search's own final top K.
   */
  derived?: { step: string; topK: Scored[] };
  /** Images the leaderboard's IS and FID were measured on (the evaluate step's `images`). */
  leaderboardImages?: number;
  retrains: RetrainReport[];
  leaderboard: Array<{
    label: string;
    arch: number[];
    is: number;
    isStd?: number;
    fid: number | null;
    samples?: string;
  }>;
  winner?: string;
  /** Other sample grids: per search stage, the winner's. */
  grids: Array<{ title: string; file: string }>;
  notes: string[];
}

function readJson<T>(file: string): T | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(
      `${file} is not valid JSON (${(err as Error).message}); the report reads it and changes nothing`,
    );
  }
}

type JsonObject = Record<string, unknown>;

/** Resolves a report argument that is a folder: a run folder, or a search's `<id>.search` folder. */
export function runFolders(folder: string): { id: string; run: string; search?: string } {
  const abs = path.resolve(folder);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory())
    throw new Error(`${folder} is not a run folder (expected <artifacts>/<workflow id>)`);
  const id = path.basename(abs);
  const searchSibling = `${abs}.search`;
  if (fs.existsSync(path.join(abs, 'search-state.json'))) return { id, run: abs, search: abs };
  return { id, run: abs, ...(fs.existsSync(searchSibling) ? { search: searchSibling } : {}) };
}

const GRID = /^samples-(.+)-step(\d+)\.png$/;
const FINAL_GRID = /^samples-final-(.+)\.png$/;
const STAGE_GRID = /^samples-stage(\d+)-iter(\d+)\.png$/;

/** Everything a run folder (and its search folder) holds, as report data. */
export function reportFromFolder(
  folder: string,
  opts: {
    now?: Date;
    /** A finished run's result, when the folder has no result.json. */ result?: unknown;
  } = {},
): ReportData {
  const now = opts.now ?? new Date();
  const dirs = runFolders(folder);
  const data: ReportData = {
    id: dirs.id,
    status: 'UNKNOWN',
    generatedAt: now.toISOString(),
    steps: [],
    retrains: [],
    leaderboard: [],
    grids: [],
    notes: [],
  };
  const result =
    readJson<{ pipeline?: string; outputs?: Record<string, JsonObject> }>(
      path.join(dirs.run, 'result.json'),
    ) ?? (opts.result as { pipeline?: string; outputs?: Record<string, JsonObject> } | undefined);
  if (result) {
    data.status = 'COMPLETED';
    data.pipeline = result.pipeline;
    data.steps = Object.keys(result.outputs ?? {}).map((id) => ({ id, state: 'done' }));
  }
  const outputs = Object.values(result?.outputs ?? {});
  const searchOut = outputs.find((o) => o && 'topK' in o && 'rewards' in o) as JsonObject | undefined;
  const searchFile = dirs.search
    ? readJson<{ params?: JsonObject; state?: JsonObject; result?: JsonObject }>(
        path.join(dirs.search, 'search-state.json'),
      )
    : undefined;
  const fullHistory = dirs.search
    ? readJson<IterationPoint[]>(path.join(dirs.search, 'search-history.json'))
    : undefined;
  const state = (searchFile?.state ?? {}) as JsonObject;
  const params = (searchOut?.params ?? searchFile?.params ?? {}) as JsonObject;
  if (searchOut || searchFile) {
    const hist = (
      fullHistory ??
      (searchOut?.history as IterationPoint[]) ??
      (state.history as IterationPoint[]) ??
      []
    )
      .slice()
      .sort((a, b) => a.iteration - b.iteration);
    if (!fullHistory && hist.length && hist[0].iteration > 0)
      data.notes.push(
        `the search's per-iteration history starts at iteration ${hist[0].iteration} (this run predates search-history.json; earlier iterations show their mean reward only)`,
      );
    const rewards = ((searchOut?.rewards ?? state.rewards) as Array<number | null> | undefined) ?? [];
    // Iterations the history no longer holds still have their mean reward.
    const known = new Set(hist.map((h) => h.iteration));
    const padded = rewards
      .map((r, i): IterationPoint | undefined =>
        known.has(i)
          ? undefined
          : { iteration: i, stage: NaN, dLoss: NaN, gLoss: NaN, meanReward: r, entropy: null, reset: false },
      )
      .filter((x): x is IterationPoint => !!x);
    const searchResult = (searchOut ?? searchFile?.result) as JsonObject | undefined;
    // A folder with no pipeline result yet (a running or failed run): the search names its pipeline.
    if (!data.pipeline && typeof params.name === 'string') data.pipeline = params.name;
    data.search = {
      name: String(params.name ?? data.pipeline ?? dirs.id),
      iterations: Number(searchResult?.iterations ?? state.iteration ?? hist.length),
      ...(params.maxIterations !== undefined ? { maxIterations: Number(params.maxIterations) } : {}),
      stage: Number(searchResult?.stage ?? state.stage ?? 0),
      resets: Number(searchResult?.resets ?? state.resets ?? 0),
      ...(searchResult?.computeSeconds !== undefined || state.computeSeconds !== undefined
        ? { computeSeconds: Number(searchResult?.computeSeconds ?? state.computeSeconds) }
        : {}),
      history: [...padded, ...hist].sort((a, b) => a.iteration - b.iteration),
      grown: ((searchResult?.grown ?? state.grown) as Array<{ iteration: number; topK: Scored[] }>) ?? [],
      topK: (searchResult?.topK as Scored[]) ?? [],
      best: (state.best as Scored[]) ?? [],
      ...resetThresholdOf(params),
    };
    // Checkpoints a retry had to skip stay part of the run's story after it completes.
    const recoveries = (searchResult?.recoveries ?? state.recoveries) as string[] | undefined;
    for (const r of recoveries ?? []) data.notes.push(`search checkpoint recovery: ${r}`);
    if (!result && searchFile?.result) data.status = 'COMPLETED';
    if (!result && !searchFile?.result) data.status = 'RUNNING or stopped (no result yet)';
  }
  const deriveStep = Object.entries(result?.outputs ?? {}).find(
    ([, o]) => o && 'topK' in o && 'candidates' in o && !('rewards' in o),
  );
  if (deriveStep) data.derived = { step: deriveStep[0], topK: (deriveStep[1].topK as Scored[]) ?? [] };
  const dataset = params.dataset as JsonObject | undefined;
  if (dataset?.kind) data.dataset = String(dataset.kind);

  // Retrains from the result's fan-out outputs, the leaderboard, and every sample grid.
  const files = fs.existsSync(dirs.run) ? fs.readdirSync(dirs.run).sort() : [];
  readRetrains(data, dirs.run, outputs, files);
  readLeaderboard(data, dirs.run);
  readGrids(data, dirs, files);
  if (!result && !data.search && !data.retrains.length && !data.leaderboard.length)
    throw new Error(
      `${folder} holds no run output (no result.json, search-state.json, evaluation.json or sample grids)`,
    );
  return data;
}

/** Retrained candidates: from the fan-out's outputs; sample grids (and candidates still training) from the files. */
function readRetrains(data: ReportData, run: string, outputs: JsonObject[], files: string[]): void {
  const gridsOf = (label: string) =>
    files
      .map((f) => ({ f, m: GRID.exec(f) }))
      .filter((x) => x.m && x.m[1] === label)
      .sort((a, b) => Number(a.m![2]) - Number(b.m![2]))
      .map((x) => ({ title: `${label} at step ${x.m![2]}`, file: path.join(run, x.f) }));
  const fan = outputs.find((o) => o && Array.isArray(o.items) && (o.items as JsonObject[])[0]?.curve) as
    { items: JsonObject[] } | undefined;
  for (const it of fan?.items ?? []) {
    const label = String(it.label);
    data.retrains.push({
      label,
      arch: it.arch as number[],
      step: Number(it.steps),
      curve: (it.curve as RetrainReport['curve']) ?? [],
      final: (it.final as RetrainReport['final']) ?? null,
      samples: gridsOf(label),
    });
    for (const r of (it.recoveries as string[] | undefined) ?? [])
      data.notes.push(`${label} checkpoint recovery: ${r}`);
  }
  // Candidates seen only through their sample files (a run still retraining).
  const labels = new Set(data.retrains.map((r) => r.label));
  for (const f of files) {
    const m = GRID.exec(f);
    if (m && !labels.has(m[1]) && !m[1].startsWith('stage')) {
      labels.add(m[1]);
      data.retrains.push({ label: m[1], arch: [], curve: [], samples: gridsOf(m[1]) });
    }
  }
}

/** The evaluate step's results (evaluation.json), best IS first. */
function readLeaderboard(data: ReportData, run: string): void {
  const evaluation = readJson<{ winner?: JsonObject; results?: JsonObject[]; images?: number }>(
    path.join(run, 'evaluation.json'),
  );
  if (typeof evaluation?.images === 'number') data.leaderboardImages = evaluation.images;
  for (const r of evaluation?.results ?? []) {
    data.leaderboard.push({
      label: String(r.label),
      arch: r.arch as number[],
      is: Number(r.is),
      ...(r.isStd !== undefined ? { isStd: Number(r.isStd) } : {}),
      fid: r.fid === null || r.fid === undefined ? null : Number(r.fid),
      ...(typeof r.samples === 'string' ? { samples: r.samples } : {}),
    });
  }
  data.leaderboard.sort((a, b) => b.is - a.is);
  if (evaluation?.winner) data.winner = String(evaluation.winner.label);
}

/** The search's grids in the order they were drawn (stage, then iterations done), then the final ones. */
function readGrids(data: ReportData, dirs: { run: string; search?: string }, files: string[]): void {
  const stageGrids: Array<{ stage: number; after: number; file: string }> = [];
  const searchDirs = [dirs.run, ...(dirs.search && dirs.search !== dirs.run ? [dirs.search] : [])];
  for (const dir of searchDirs) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) {
      const m = STAGE_GRID.exec(f);
      if (m) stageGrids.push({ stage: Number(m[1]), after: Number(m[2]), file: path.join(dir, f) });
    }
  }
  stageGrids.sort((a, b) => a.stage - b.stage || a.after - b.after);
  for (const g of stageGrids)
    data.grids.push({
      title: `search stage ${g.stage} (iteration ${g.after}): best architecture`,
      file: g.file,
    });
  for (const f of files) {
    const m = FINAL_GRID.exec(f);
    if (m) data.grids.push({ title: `${m[1]}: final samples (evaluation)`, file: path.join(dirs.run, f) });
  }
}

/** The reset threshold of a search's parameters, when they say (null: dynamic reset off). */
function resetThresholdOf(params: JsonObject): { resetThreshold?: number | null } {
  const r = params.dynamicReset as { enabled?: boolean; threshold?: number } | undefined;
  if (!r || typeof r.threshold !== 'number') return {};
  return { resetThreshold: r.enabled === false ? null : r.threshold };
}
