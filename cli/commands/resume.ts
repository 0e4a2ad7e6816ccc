// `autogan resume`: continue a failed, terminated, timed-out or cancelled search or pipeline run.
import type { Command } from 'commander';
import { connectClient } from '../../runtime/connection';
import { resumeRun } from '../../runtime/resume';
import { targetFrom, withConnectionOptions } from './connection-options';

export function registerResumeCommand(program: Command): void {
  withConnectionOptions(
    program
      .command('resume')
      .description(
        'continue a failed, terminated, timed-out or cancelled run as a new run: an autogan-search from its newest usable saved state; a pipeline reusing the steps that finished and continuing its search',
      )
      .argument('<workflow-id>')
      .option('--id <new-id>', 'id of the new run (default: <old>-r<N>)'),
  ).action(async (id: string, opts: { id?: string; address?: string; namespace?: string }) => {
    const client = await connectClient(targetFrom(opts));
    try {
      await resumeRun(client, id, opts.id);
    } finally {
      await client.connection.close();
    }
  });
}
