// `autogan study validate | run | status | resume | report`: studies of pipeline variants over seeds.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { runFolderOf } from '../../core/artifacts';
import { writeFileAtomic } from '../../core/atomic-write';
import { loadStudy, type StudyPlan } from '../../pipeline/study';
import { connectClient, workflowLink } from '../../runtime/connection';
import { failureOf } from '../../runtime/failure';
import {
  defaultStudyId,
  followStudy,
  formatStudyStatus,
  startOrAttachStudy,
} from '../../runtime/start-study';
import type { StudyJson } from '../../services/study/aggregate';
import { studyHtml } from '../../services/study/report';
import { studyStatusQuery, type StudyOutcome } from '../../workflows/study';
import { CliExit, loadOrExit } from '../exit';
import { targetFrom, withConnectionOptions } from './connection-options';

function load(file: string): StudyPlan {
  return loadOrExit(file, () => loadStudy(file));
}

/** The study's folder: <artifacts>/<study id>, named as the workers name it. */
const folderOf = runFolderOf;

/** The plan a study started with, kept in its folder so `resume` needs neither the file nor the server. */
function keepPlan(plan: StudyPlan, id: string): void {
  writeFileAtomic(path.join(folderOf(plan.artifacts, id), 'study-plan.json'), JSON.stringify(plan, null, 2));
}

function planOf(id: string, artifacts: string): StudyPlan {
  const file = path.join(folderOf(artifacts, id), 'study-plan.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as StudyPlan;
  } catch (err) {
    throw new CliExit(
      2,
      `autogan study resume: cannot read ${file} (${(err as Error).message.split('\n')[0]}): give --artifacts <dir> where the study's folder is, or run the study file again with --id ${id}`,
    );
  }
}

/** The plan cut to the named cells (and no proxy check); every name must be a cell of the study. */
function only(plan: StudyPlan, cells: string | undefined): StudyPlan {
  if (cells === undefined) return plan;
  const want = cells
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const unknown = want.filter((c) => !plan.cells.some((x) => x.id === c));
  if (unknown.length || !want.length)
    throw new CliExit(
      2,
      `autogan study run: --cells ${unknown.length ? `names no cell ${unknown.join(', ')}` : 'is empty'}; the cells are ${plan.cells.map((c) => c.id).join(', ')}`,
    );
  const { proxy: _proxy, ...rest } = plan;
  const kept = plan.cells.filter((c) => want.includes(c.id));
  return {
    ...rest,
    cells: kept,
    variants: plan.variants.filter((v) => kept.some((c) => c.variant === v.name)),
  };
}

function printOutcome(o: StudyOutcome): void {
  console.log(`study ${o.study}: ${o.cells} cells (${o.ran} run now, ${o.cells - o.ran} recorded before)`);
  console.log(`study.json: ${o.studyJson}`);
  console.log(`report: ${o.report} (open it in a browser)`);
}

interface RunOptions {
  embedded?: boolean;
  id?: string;
  wait?: boolean;
  port: number;
  address?: string;
  namespace?: string;
}

/** Starts (or follows) the study: embedded, or against a server with its own workers. */
async function runStudy(plan: StudyPlan, id: string, opts: RunOptions): Promise<void> {
  keepPlan(plan, id);
  const onStatus = (s: Parameters<typeof formatStudyStatus>[0]) => console.error(formatStudyStatus(s));
  if (opts.embedded) {
    const { runStudyEmbedded } = await import('../../runtime/embedded'); // worker code only when embedding
    const { outcome } = await runStudyEmbedded(plan, { port: opts.port, workflowId: id, onStatus });
    printOutcome(outcome);
    return;
  }
  const target = targetFrom(opts);
  const client = await connectClient(target);
  try {
    const { handle, attached } = await startOrAttachStudy(client, plan, { workflowId: id });
    console.log(
      `${attached ? 'following the running' : 'started'} study ${handle.workflowId} on ${target.address}`,
    );
    const link = workflowLink(target, handle.workflowId);
    if (link) console.log(`web UI: ${link}`);
    if (!opts.wait) {
      console.log(`follow it with: autogan study status ${handle.workflowId}`);
      return;
    }
    const result = handle.result();
    await followStudy(client, handle.workflowId, onStatus, 5000, result);
    printOutcome(await result);
  } finally {
    await client.connection.close();
  }
}

const runOptions = (cmd: Command) =>
  withConnectionOptions(
    cmd
      .option(
        '--embedded',
        'start a local dev server (if none is listening) and workers in-process, and wait',
      )
      .option('--wait', 'wait for the study to finish (always on with --embedded)')
      .option('--port <n>', 'dev server port for --embedded', (v) => Number(v), 7233),
  );

export function registerStudyCommands(program: Command): void {
  const study = program
    .command('study')
    .description('studies: variants of one pipeline over seeds with one budget, compared (AutoGAN §4.3)');

  study
    .command('validate')
    .description('check a study file and every (variant, seed) pipeline it makes (exit 2 on errors)')
    .argument('<file>', 'study YAML')
    .action((file: string) => {
      const plan = load(file);
      console.log(
        `${file}: ok — study ${plan.name}: ${plan.variants.length} variants (${plan.variants.map((v) => v.name).join(', ')}) × ${plan.seeds.length} seeds = ${plan.cells.length} pipeline runs${plan.proxy ? `, proxy check on ${plan.proxy.variant}'s supernets (${plan.proxy.policyPerSeed} per seed + ${plan.proxy.random} random, ${plan.proxy.iterations} iterations each)` : ''}`,
      );
    });

  runOptions(
    study
      .command('run')
      .description('validate a study and start it (with --embedded: server and workers in this process)')
      .argument('<file>', 'study YAML')
      .option(
        '--id <study-id>',
        'study id, and its folder under the artifacts (default: <study>-<timestamp>)',
      )
      .option(
        '--cells <ids>',
        'run only these cells (comma-separated, e.g. autogan.seed1), without the proxy check: to reproduce a cell under a new id',
      ),
  ).action(async (file: string, opts: RunOptions & { cells?: string }) => {
    const plan = only(load(file), opts.cells);
    await runStudy(plan, opts.id ?? defaultStudyId(plan), opts);
  });

  runOptions(
    study
      .command('resume')
      .description(
        'continue a study: follow it if it is still running, or start it again under its id — finished cells are read from its folder and not rerun',
      )
      .argument('<study-id>')
      .option('--artifacts <dir>', "the artifact folder holding the study's folder", 'runs'),
  ).action(async (id: string, opts: RunOptions & { artifacts: string }) => {
    await runStudy(planOf(id, opts.artifacts), id, opts);
  });

  withConnectionOptions(
    study
      .command('status')
      .description('show a study: each cell, the proxy check; why it failed (exit 1 for failed studies)')
      .argument('<study-id>'),
  ).action(async (id: string, opts: { address?: string; namespace?: string }) => {
    const client = await connectClient(targetFrom(opts));
    let failed = false;
    try {
      const handle = client.workflow.getHandle(id);
      const desc = await handle.describe();
      console.log(
        `${id}: ${desc.status.name} (started ${desc.startTime.toISOString()}${desc.closeTime ? `, closed ${desc.closeTime.toISOString()}` : ''})`,
      );
      failed = ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED'].includes(desc.status.name);
      if (failed) {
        const cause = await failureOf(handle);
        if (cause) console.log(`  why: ${cause}`);
      }
      if (desc.status.name === 'RUNNING') {
        const st = await handle.query(studyStatusQuery);
        console.log(formatStudyStatus(st));
        for (const c of st.cells)
          console.log(
            `  ${c.id.padEnd(28)} ${c.state}${c.is !== undefined ? `  IS ${c.is.toFixed(3)}` : ''}${c.reused ? ' (recorded before)' : ''}${c.error ? `  ${c.error}` : ''}`,
          );
      } else if (desc.status.name === 'COMPLETED') {
        printOutcome((await handle.result()) as StudyOutcome);
      }
    } finally {
      await client.connection.close();
    }
    if (failed) throw new CliExit(1);
  });

  study
    .command('report')
    .description("write the study's HTML report again from its study.json (read-only otherwise)")
    .argument('<study>', 'a study folder, or a study id under --artifacts')
    .option('--artifacts <dir>', 'the artifact folder', 'runs')
    .option('--out <file>', 'where to write the HTML (default: report.html in the study folder)')
    .action((s: string, opts: { artifacts: string; out?: string }) => {
      const dir = fs.existsSync(s) && fs.statSync(s).isDirectory() ? s : folderOf(opts.artifacts, s);
      const file = path.join(dir, 'study.json');
      let json: StudyJson;
      try {
        json = JSON.parse(fs.readFileSync(file, 'utf8')) as StudyJson;
      } catch (err) {
        throw new CliExit(
          2,
          `autogan study report: cannot read ${file}: ${(err as Error).message.split('\n')[0]}`,
        );
      }
      const out = path.resolve(opts.out ?? path.join(dir, 'report.html'));
      writeFileAtomic(out, studyHtml(json));
      console.log(`study report of ${json.studyId} written to ${out}`);
    });
}
