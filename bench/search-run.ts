// What the search benchmarks share: a pipeline cut down to its search step, run through the real
// workflow on a fresh Temporal dev server in a scratch folder, and the search's run folder.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../core/paths';
import type { Plan, PipelineResult } from '../pipeline/plan';
import { runEmbedded } from '../runtime/embedded';
import { freePort, startDevServer } from '../server/dev-server';
import { artifactStore } from '../services/artifact-store';
import type { IterationSummary, SearchResult } from '../workflows/search';

/** The plan cut down to its search step and everything that step needs. */
export function searchOnly(plan: Plan): { plan: Plan; stepId: string } {
  const search = plan.steps.find((s) => s.uses === 'autogan.search');
  if (!search) throw new Error(`${plan.source}: no autogan.search step`);
  const keep = new Set<string>();
  const visit = (id: string) => {
    if (keep.has(id)) return;
    keep.add(id);
    plan.steps.find((s) => s.id === id)?.needs.forEach(visit);
  };
  visit(search.id);
  return { plan: { ...plan, steps: plan.steps.filter((s) => keep.has(s.id)) }, stepId: search.id };
}

/** Runs a pipeline plan to its end on the scratch server. */
export type ScratchRun = (plan: Plan) => Promise<{ result: PipelineResult; workflowId: string }>;

/**
 * A scratch folder (the working directory from here on) with a fresh dev server; stopped after
 * `fn`, which gets a runner of plans on it (embedded workers) and the server's address.
 */
export async function onScratchServer<T>(
  prefix: string,
  fn: (run: ScratchRun, address: string) => Promise<T>,
): Promise<T> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.chdir(work);
  const port = await freePort();
  const server = await startDevServer({
    port,
    headless: true,
    dbFile: path.join(work, 'temporal.db'),
    log: () => undefined,
  });
  try {
    return await fn((plan) => runEmbedded(plan, { port, log: (l) => console.error(l) }), server.address);
  } finally {
    await server.stop();
  }
}

/** A finished search of a pipeline run: its result, folder and full iteration history. */
export function searchOutcome(
  result: PipelineResult,
  workflowId: string,
  stepId: string,
): { search: SearchResult; dir: string; history: IterationSummary[] } {
  const search = result.outputs[stepId] as unknown as SearchResult;
  const dir = artifactStore(search.params).runDir(`${workflowId}.${stepId}`);
  const history = JSON.parse(
    fs.readFileSync(path.join(dir, 'search-history.json'), 'utf8'),
  ) as IterationSummary[];
  return { search, dir, history };
}

/** Prints a benchmark's JSON, and writes it to `file` too when given. */
export function emit(out: unknown, file?: string): void {
  const text = JSON.stringify(out, null, 2);
  if (file) fs.writeFileSync(file, text + '\n');
  console.log(text);
}

/** The integer value of option `flag` at `argv[at]`, at least `min`; else an error naming the flag. */
export function intOption(argv: string[], at: number, flag: string, min: number): number {
  const n = Number(argv[at]);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer ≥ ${min}`);
  return n;
}

/** Runs a benchmark's main; an error is printed and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

/** The fields every search benchmark's JSON starts with. */
export function benchHeader(benchmark: string, pipeline: string, file: string, backend: string) {
  return {
    benchmark,
    pipeline,
    source: path.relative(projectRoot(), file),
    date: new Date().toISOString().slice(0, 10),
    backend,
    cpus: os.cpus().length,
  };
}
