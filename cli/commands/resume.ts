// `autogan resume`: continue a failed, terminated or timed-out search from its last durable state.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runFolderOf } from '../../core/artifacts';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../runtime/connection';
import { CheckpointError } from '../../core/checkpoint/format';
import type { S3Settings } from '../../pipeline/plan';
import { artifactStore } from '../../services/artifact-store';
import type { SearchState } from '../../workflows/search';
import { targetFrom, withConnectionOptions } from './connection-options';

const RESUMABLE = ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED'];

export function registerResumeCommand(program: Command): void {
  withConnectionOptions(
    program
      .command('resume')
      .description(
        'continue a failed, terminated or timed-out autogan-search run from its last durable state (checkpoints and beams)',
      )
      .argument('<workflow-id>')
      .option('--id <new-id>', 'id of the new run (default: <old>-r<N>)'),
  ).action(async (id: string, opts: { id?: string; address?: string; namespace?: string }) => {
    const client = await connectClient(targetFrom(opts));
    try {
      await resumeSearch(client, id, opts.id);
    } finally {
      await client.connection.close();
    }
  });
}

/** Starts a new run of `id`'s search from its saved state, under `newId` or the next free `<id>-r<N>`. */
async function resumeSearch(client: Client, id: string, requestedId?: string): Promise<void> {
  const old = client.workflow.getHandle(id);
  const desc = await old.describe();
  if (!RESUMABLE.includes(desc.status.name))
    throw new Error(
      `${id} is ${desc.status.name}; only ${RESUMABLE.join(', ').toLowerCase()} runs can be resumed`,
    );
  if (desc.type !== 'autogan-search')
    throw new Error(`${id} is a ${desc.type} run; resume continues autogan-search runs`);
  const memo = (desc.memo ?? {}) as { artifacts?: string };
  const dir = memo.artifacts ? runFolderOf(memo.artifacts, id) : undefined;
  const files = dir ? ['search-state.json', 'search-state.previous.json'].map((f) => path.join(dir, f)) : [];
  if (!files.length || !fs.existsSync(files[0])) {
    throw new Error(
      `no saved state for ${id} (looked for ${files[0] ?? 'a stateFile in the memo'}): the run ended before its first iteration finished; start it again instead`,
    );
  }
  // The newest saved state whose checkpoints are intact (each is read and its hash checked).
  let saved: { params: Record<string, unknown>; state: SearchState } | undefined;
  const problems: string[] = [];
  for (const file of files.filter((f) => fs.existsSync(f))) {
    const candidate = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof saved & object;
    const bad = await unusableCheckpoint(memo.artifacts!, candidate);
    if (!bad) {
      saved = candidate;
      break;
    }
    problems.push(`${path.basename(file)} (iteration ${candidate.state.iteration}): ${bad}`);
  }
  if (!saved) throw new Error(`no saved state of ${id} can be resumed: ${problems.join('; ')}`);
  if (problems.length)
    console.log(
      `the newest saved state cannot be used (${problems.join('; ')}); resuming from the previous one`,
    );
  const newId = await freeId(client, id, requestedId);
  const handle = await client.workflow.start('autogan-search', {
    args: [{ ...saved.params, state: { ...saved.state, paused: false } }],
    taskQueue: desc.taskQueue,
    workflowId: newId,
    memo: { ...memo, resumedFrom: id },
  });
  console.log(
    `resumed ${id} at iteration ${saved.state.iteration} (stage ${saved.state.stage}) as ${handle.workflowId}`,
  );
}

/** Why a saved state cannot be resumed (a checkpoint it names is missing or corrupt), or undefined. */
async function unusableCheckpoint(
  artifacts: string,
  saved: { params: Record<string, unknown>; state: SearchState },
): Promise<string | undefined> {
  const store = artifactStore({ artifacts, s3: saved.params.s3 as S3Settings | undefined });
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

/** The requested id if no workflow has it, else the first `<id>-r<N>` no workflow has. */
async function freeId(client: Client, id: string, requested?: string): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = requested ?? `${id}-r${n}`;
    try {
      await client.workflow.getHandle(candidate).describe();
      if (requested) throw new Error(`a workflow ${candidate} already exists`);
    } catch (err) {
      if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
      return candidate;
    }
  }
}
