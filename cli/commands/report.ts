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
      if (fs.existsSync(run) && fs.statSync(run).isDirectory()) {
        data = reportFromFolder(run);
      } else if (run.includes(path.sep) || run.startsWith('.')) {
        throw new CliExit(2, `autogan report: ${run} is not a folder (give a run folder or a workflow id)`);
      } else {
        const client = await connectClient(targetFrom(opts));
        try {
          data = await reportFromServer(client, run, opts.artifacts ? { artifacts: opts.artifacts } : {});
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
