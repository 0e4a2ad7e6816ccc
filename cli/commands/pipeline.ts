// validate, plan, run, status.
import * as path from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../core/atomic-write';
import { loadPipeline } from '../../pipeline/load';
import type { Plan } from '../../pipeline/plan';
import { connectClient, workflowLink } from '../../runtime/connection';
import { failureOf } from '../../runtime/failure';
import { startPipeline } from '../../runtime/start-pipeline';
import { pipelineStatusQuery } from '../../workflows/pipeline';
import { progressQuery } from '../../workflows/search';
import { CliExit, loadOrExit } from '../exit';
import { formatPlan, formatResult, formatSearchProgress, formatStatus } from '../format';
import { ProgressPrinter } from '../progress-view';
import { reportFromFolder } from '../../services/report/data';
import { reportHtml } from '../../services/report/html';
import { watchRun } from '../../runtime/progress';
import { targetFrom, withConnectionOptions } from './connection-options';

function load(file: string, checkFiles = true): Plan {
  return loadOrExit(file, () => loadPipeline(file, { checkFiles }));
}

export function registerPipelineCommands(program: Command): void {
  registerValidate(program);
  registerPlan(program);
  registerRun(program);
  registerStatus(program);
}

/** `autogan validate <file>`: check a pipeline, exit 2 on errors. */
function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a pipeline file: schema, step types, dependencies, dataset paths (exit 2 on errors)')
    .argument('<file>', 'pipeline YAML')
    .action((file: string) => {
      const plan = load(file);
      console.log(
        `${file}: ok — pipeline ${plan.name}, ${plan.steps.length} steps (${plan.steps.map((s) => s.id).join(' → ')})`,
      );
    });
}

/** `autogan plan <file>`: the resolved plan. */
function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('print the resolved DAG with every default filled in')
    .argument('<file>', 'pipeline YAML')
    .option('--json', 'print the plan as JSON (the workflow input)')
    .option('--no-check-files', 'do not check that dataset files exist on this machine')
    .action((file: string, opts: { json?: boolean; checkFiles: boolean }) => {
      const plan = load(file, opts.checkFiles);
      console.log(opts.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
    });
}

/** `autogan run <file>`: start a pipeline (or run it embedded) and optionally wait. */
function registerRun(program: Command): void {
  withConnectionOptions(
    program
      .command('run')
      .description(
        'validate a pipeline and start it as a workflow (with --embedded: server and workers in this process)',
      )
      .argument('<file>', 'pipeline YAML')
      .option(
        '--embedded',
        'start a local dev server (if none is listening) and workers in-process, and wait for the result',
      )
      .option('--id <workflow-id>', 'workflow id (default: <pipeline>-<timestamp>-<random>)')
      .option('--wait', 'wait for the result (always on with --embedded)')
      .option(
        '--json',
        'progress as one JSON document per line on stderr, and the whole result as JSON on stdout (default: a summary)',
      )
      .option('--no-progress', 'no live progress while waiting')
      .option('--port <n>', 'dev server port for --embedded', (v) => Number(v), 7233),
  ).action(
    async (
      file: string,
      opts: {
        embedded?: boolean;
        id?: string;
        wait?: boolean;
        json?: boolean;
        progress: boolean;
        port: number;
        address?: string;
        namespace?: string;
      },
    ) => {
      const started = Date.now();
      const plan = load(file);
      const printer = new ProgressPrinter(ProgressPrinter.modeFor(opts, process.stderr), process.stderr);
      const onProgress = opts.progress
        ? (p: Parameters<ProgressPrinter['print']>[0]) => printer.print(p)
        : undefined;
      if (opts.embedded) {
        const { runEmbedded } = await import('../../runtime/embedded'); // worker code only when embedding
        const result = await runEmbedded(plan, {
          port: opts.port,
          ...(opts.id ? { workflowId: opts.id } : {}),
          ...(onProgress ? { onProgress } : {}),
        });
        printResult(result.result, opts.json, started);
        console.log(`result written to ${result.resultFile}`);
        writeReport(path.dirname(result.resultFile));
        return;
      }
      const target = targetFrom(opts);
      const client = await connectClient(target);
      const handle = await startPipeline(client, plan, opts.id ? { workflowId: opts.id } : {});
      console.log(
        `started workflow ${handle.workflowId} on ${target.address} (queue ${plan.spec.taskQueues.control})`,
      );
      const link = workflowLink(target, handle.workflowId);
      if (link) console.log(`web UI: ${link}`);
      if (opts.wait) {
        const result = handle.result();
        const watching = onProgress
          ? watchRun(client, handle.workflowId, onProgress, { until: result.catch(() => undefined) }).catch(
              () => undefined,
            )
          : undefined;
        await watching;
        const done = await result;
        const file = path.join(plan.spec.artifacts.path, handle.workflowId, 'result.json');
        writeFileAtomic(file, JSON.stringify(done, null, 2));
        printResult(done, opts.json, started);
        console.log(`result written to ${file}`);
        writeReport(path.dirname(file));
      } else {
        console.log(`follow it with: autogan status ${handle.workflowId}`);
      }
      await client.connection.close();
    },
  );
}

/** `autogan status <id>`: a run's state, steps, progress; `--watch` follows it. */
function registerStatus(program: Command): void {
  withConnectionOptions(
    program
      .command('status')
      .description(
        'show a run: state, each step, search progress, the running activity; why it failed (exit 1 for failed runs)',
      )
      .argument('<workflow-id>')
      .option(
        '--json',
        'print the whole description and result as JSON (with --watch: one snapshot per line)',
      )
      .option('--watch', 'follow the run live until it closes (steps, iteration, phase, steps/s, ETA)')
      .option('--interval <seconds>', 'seconds between snapshots with --watch', (v) => Number(v), 2),
  ).action(
    async (
      id: string,
      opts: { json?: boolean; watch?: boolean; interval: number; address?: string; namespace?: string },
    ) => {
      const target = targetFrom(opts);
      const client = await connectClient(target);
      let failed = false;
      if (opts.watch) {
        try {
          const printer = new ProgressPrinter(ProgressPrinter.modeFor(opts, process.stdout), process.stdout);
          const last = await watchRun(client, id, (p) => printer.print(p), {
            intervalMs: Math.max(0.2, opts.interval) * 1000,
          });
          failed = FAILED_STATES.includes(last.status);
          if (failed && !opts.json) {
            const cause = await failureOf(client.workflow.getHandle(id));
            if (cause) console.log(`  why: ${cause}`);
          }
        } finally {
          await client.connection.close();
        }
        if (failed) throw new CliExit(1);
        return;
      }
      try {
        const handle = client.workflow.getHandle(id);
        const desc = await handle.describe();
        const state = desc.status.name;
        failed = FAILED_STATES.includes(state);
        const cause = failed ? await failureOf(handle) : undefined;
        const result = state === 'COMPLETED' ? await handle.result() : undefined;
        if (opts.json) {
          console.log(
            JSON.stringify(
              {
                id,
                status: state,
                type: desc.type,
                start: desc.startTime,
                close: desc.closeTime,
                cause,
                result,
              },
              null,
              2,
            ),
          );
          // The same exit code as without --json: scripts branch on it.
          if (failed) throw new CliExit(1);
          return;
        }
        console.log(
          `${id}: ${state} (type ${desc.type}, started ${desc.startTime.toISOString()}${desc.closeTime ? `, closed ${desc.closeTime.toISOString()}` : ''})`,
        );
        if (cause) console.log(`  why: ${cause}`);
        // A query needs a worker to replay the run; closed runs show their result instead.
        if (desc.type === 'pipelineWorkflow' && state === 'RUNNING') {
          try {
            const st = await handle.query(pipelineStatusQuery);
            console.log(`pipeline ${st.pipeline}:\n${formatStatus(st)}`);
          } catch (err) {
            console.log(`(no step status: ${(err as Error).message.split('\n')[0]})`);
          }
        }
        if (desc.type === 'autogan-search' && state === 'RUNNING') {
          const pr = await handle.query(progressQuery);
          console.log(formatSearchProgress(pr));
        }
        for (const a of desc.raw.pendingActivities ?? []) {
          const details = a.heartbeatDetails?.payloads?.[0]?.data;
          const hb = details ? JSON.parse(Buffer.from(details).toString('utf8')) : undefined;
          console.log(
            `  activity ${a.activityType?.name} (attempt ${a.attempt}${a.lastWorkerIdentity ? ` on ${a.lastWorkerIdentity}` : ''})${hb ? `: step ${hb.step}/${hb.total}${hb.ref ? `, last checkpoint ${String(hb.ref).slice(0, 12)}…` : ''}` : ''}`,
          );
        }
        if (result !== undefined) console.log(formatResult(result));
        const link = workflowLink(target, id);
        if (link) console.log(`web UI: ${link}`);
      } finally {
        await client.connection.close();
      }
      if (failed) throw new CliExit(1);
    },
  );
}

/** The finished run: a few lines (winner, IS/FID, time), or with --json the whole result document. */
function printResult(result: unknown, json: boolean | undefined, started: number): void {
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const s = (Date.now() - started) / 1000;
  console.log(`finished in ${s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`}`);
  console.log(formatResult(result));
}

/** The finished run's HTML report next to its result; a report problem never fails the run. */
function writeReport(runFolder: string): void {
  try {
    const file = path.join(runFolder, 'report.html');
    writeFileAtomic(file, reportHtml(reportFromFolder(runFolder)));
    console.log(`report: ${file} (open it in a browser; \`autogan report <id>\` makes one at any time)`);
  } catch (err) {
    console.error(`autogan: no report written: ${(err as Error).message}`);
  }
}

const FAILED_STATES = ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED'];
