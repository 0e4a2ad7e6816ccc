// `autogan report`: one self-contained HTML file for a run, from its folder or its workflow id.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { safeName } from '../../core/artifacts';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../core/atomic-write';
import { connectClient } from '../../runtime/connection';
import { reportFromServer } from '../../runtime/report-live';
import { reportFromFolder, type ReportData } from '../../services/report/data';
import { reportHtml } from '../../services/report/html';
import { CliExit } from '../exit';
import { targetFrom, withConnectionOptions } from './connection-options';

export function registerReportCommand(program: Command): void {
  withConnectionOptions(
    program
      .command('report')
      .description(
        'write one self-contained HTML report of a run (curves, beams, leaderboard, sample grids, architecture drawings); read-only',
      )
      .argument('<run>', 'a workflow id, or a run folder (<artifacts>/<workflow id>)')
      .option('--out <file>', 'where to write the HTML (default: ./autogan-report-<id>.html)')
      .option('--artifacts <dir>', "the artifact folder, when a workflow id's run does not name it")
      .option('--grids <n>', 'sample grids shown per retrained candidate', (v) => Number(v), 6),
  ).action(
    async (
      run: string,
      opts: { out?: string; artifacts?: string; grids: number; address?: string; namespace?: string },
    ) => {
      let data: ReportData;
      if (fs.existsSync(run)) {
        if (!fs.statSync(run).isDirectory())
          throw new CliExit(
            2,
            `autogan report: ${run} is a file, not a run folder (give a run folder or a workflow id)`,
          );
        data = reportFromFolder(run);
      } else {
        // Not a path here: a workflow id, which may hold '/' or ':' (nightly/2026-12-05).
        const target = targetFrom(opts);
        const client = await connectClient(target);
        try {
          data = await reportFromServer(client, run, opts.artifacts ? { artifacts: opts.artifacts } : {});
        } catch (err) {
          if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
          throw new CliExit(
            2,
            `autogan report: ${run} is neither a folder here nor a workflow on ${target.address} (namespace ${target.namespace})`,
          );
        } finally {
          await client.connection.close();
        }
      }
      const out = path.resolve(opts.out ?? `autogan-report-${safeName(data.id)}.html`);
      const html = reportHtml(data, { gridsPerCandidate: opts.grids });
      writeFileAtomic(out, html);
      console.log(
        `report of ${data.id} (${data.status}) written to ${out} (${(html.length / 1024).toFixed(0)} KiB; opens offline)`,
      );
    },
  );
}
