// A search's saved state, read from the artifact store (the bucket first, when there is one), for
// `autogan resume`: the newest of search-state.json and search-state.previous.json that parses and
// whose checkpoints are intact, and the search history carried into the run that continues it.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { writeFileAtomic } from '../core/atomic-write';
import { CheckpointError } from '../core/checkpoint/format';
import type { S3Settings } from '../pipeline/plan';
import type { ArtifactStore } from '../services/artifact-store';

/** What searchRecordState writes: the search's parameters and its state at an iteration's end. */
export interface SavedSearch {
  params: Record<string, unknown> & { artifacts: string; s3?: S3Settings };
  state: {
    iteration: number;
    stage: number;
    supernet: string;
    controller: string | null;
    paused?: boolean;
  } & Record<string, unknown>;
}

export interface SavedSearchLookup {
  /** The newest usable state, if any. */
  saved?: SavedSearch;
  /** The file it came from (for messages). */
  file?: string;
  /** Why newer files could not be used: unreadable JSON, missing or corrupt checkpoints. */
  problems: string[];
  /** Whether any state file exists at all. */
  found: boolean;
}

const STATE_FILES = ['search-state.json', 'search-state.previous.json'];

/** The newest saved state of the search run `runId` that can be resumed. */
export async function readSavedSearch(store: ArtifactStore, runId: string): Promise<SavedSearchLookup> {
  const problems: string[] = [];
  let found = false;
  for (const name of STATE_FILES) {
    const file = await store.pullRunFile(runId, name);
    if (!file) continue;
    found = true;
    let saved: SavedSearch;
    try {
      saved = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedSearch;
    } catch (err) {
      problems.push(`${name}: not valid JSON, a write cut short? (${(err as Error).message})`);
      continue;
    }
    if (typeof saved?.state?.iteration !== 'number' || typeof saved.params !== 'object' || !saved.params) {
      problems.push(`${name}: not a saved search state (no params or state.iteration)`);
      continue;
    }
    const bad = await unusableCheckpoint(store, saved);
    if (bad) {
      problems.push(`${name} (iteration ${saved.state.iteration}): ${bad}`);
      continue;
    }
    return { saved, file, problems, found };
  }
  return { problems, found };
}

/** Why a saved state cannot be resumed (a checkpoint it names is missing or corrupt), or undefined. */
async function unusableCheckpoint(store: ArtifactStore, saved: SavedSearch): Promise<string | undefined> {
  for (const ref of [saved.state.supernet, saved.state.controller]) {
    if (!ref) continue;
    try {
      await store.get(ref);
    } catch (err) {
      if ((err as Error).name === 'CheckpointError' || err instanceof CheckpointError)
        return (err as Error).message;
      throw err;
    }
  }
  return undefined;
}

/**
 * Copies the search history of `fromRun` into `toRun`'s folder (and bucket), so the continuing
 * run's curves and reports start at iteration 1, not at the oldest iteration the state carries.
 */
export async function carryHistory(store: ArtifactStore, fromRun: string, toRun: string): Promise<void> {
  const from = await store.pullRunFile(fromRun, 'search-history.json');
  if (!from) return;
  const to = path.join(store.runDir(toRun), 'search-history.json');
  writeFileAtomic(to, fs.readFileSync(from));
  await store.publish(toRun, to);
}
