// `autogan schedule create|list|delete`: periodic retraining or evaluation (Temporal Schedules).
import type { Command } from 'commander';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { parseArchText } from '../../core/arch/encoding';
import { archProblem, DURATION_PATTERN } from '../../pipeline/direct-input';
import { loadPipeline } from '../../pipeline/load';
import type { Plan, PlanStep } from '../../pipeline/plan';
import { CliExit } from '../exit';
import { connectClient } from '../../runtime/connection';
import { targetFrom, withConnectionOptions } from './connection-options';

const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

/** A scheduled `autogan-retrain` of one architecture with the pipeline's dataset, store and queues. */
function retrainAction(plan: Plan, id: string, arch: number[], iterations: number) {
  return {
    workflowType: 'autogan-retrain',
    args: [
      {
        pipeline: plan.name,
        stepId: id,
        with: { arch, iterations, label: id },
        spec: plan.spec,
        runId: id,
      },
    ],
  };
}

/** A scheduled evaluation: a one-step pipeline run of the pipeline's own evaluate step. */
function evaluateAction(plan: Plan, id: string, checkpoint: string, images?: number) {
  return {
    workflowType: 'pipelineWorkflow',
    args: [{ ...plan, name: `${plan.name}-evaluate`, steps: [evaluationStep(plan, id, checkpoint, images)] }],
  };
}

export function registerScheduleCommands(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('Temporal Schedules: periodic retraining or FID evaluation');
  withConnectionOptions(
    schedule
      .command('create')
      .description('retrain an architecture, or evaluate a checkpoint, on a cron expression or an interval')
      .argument('<schedule-id>')
      .requiredOption(
        '--pipeline <file>',
        'pipeline whose dataset, artifact store, backend and queues to use',
      )
      .option('--retrain <vector>', 'architecture to retrain, e.g. "0 1 0 1 1 1 1 1 1"')
      .option('--evaluate <checkpoint>', 'artifact reference (<sha256>.ckpt) of a generator to evaluate')
      .option('--iterations <n>', 'generator iterations for --retrain', (v) => Number(v), 50000)
      .option('--images <n>', "images for --evaluate (default: the pipeline's evaluate step's)", (v) =>
        Number(v),
      )
      .option('--cron <expr>', 'cron expression, e.g. "0 3 * * *"')
      .option('--every <duration>', 'interval, e.g. 12h')
      .option(
        '--overlap <policy>',
        'skip | buffer-one | buffer-all | cancel-other | terminate-other | allow-all',
        'skip',
      ),
  ).action(
    async (
      id: string,
      o: {
        pipeline: string;
        retrain?: string;
        evaluate?: string;
        iterations: number;
        images: number;
        cron?: string;
        every?: string;
        overlap: string;
        address?: string;
        namespace?: string;
      },
    ) => {
      if (!!o.retrain === !!o.evaluate)
        throw new CliExit(2, 'give exactly one of --retrain <vector> or --evaluate <checkpoint>');
      if (!o.cron === !o.every) throw new CliExit(2, 'give exactly one of --cron or --every');
      if (o.every && !DURATION_PATTERN.test(o.every))
        throw new CliExit(2, `--every "${o.every}": expected a duration in ms, s, m or h, such as 12h`);
      // Checked here, not by the first scheduled run (which would fail its first activity, hours later).
      const arch = o.retrain ? archOrExit(o.retrain) : undefined;
      if (o.retrain && !(Number.isInteger(o.iterations) && o.iterations > 0))
        throw new CliExit(2, `--iterations must be a positive integer, got ${o.iterations}`);
      const overlap = OVERLAP[o.overlap];
      if (overlap === undefined)
        throw new CliExit(
          2,
          `unknown overlap policy "${o.overlap}": expected ${Object.keys(OVERLAP).join(', ')}`,
        );
      const plan = loadPipeline(o.pipeline);
      const action = o.retrain
        ? retrainAction(plan, id, arch!, o.iterations)
        : evaluateAction(plan, id, o.evaluate!, o.images);
      const client = await connectClient(targetFrom(o));
      try {
        await client.schedule.create({
          scheduleId: id,
          spec: o.cron ? { cronExpressions: [o.cron] } : { intervals: [{ every: o.every as '1h' }] },
          action: { type: 'startWorkflow', taskQueue: plan.spec.taskQueues.control, ...action },
          policies: { overlap },
          memo: { pipeline: plan.name, kind: o.retrain ? 'retrain' : 'evaluate' },
        });
        console.log(
          `schedule ${id} created: ${o.retrain ? `retrain [${o.retrain}]` : `evaluate ${o.evaluate}`} ${o.cron ? `cron "${o.cron}"` : `every ${o.every}`}, overlap ${o.overlap}`,
        );
      } finally {
        await client.connection.close();
      }
    },
  );

  withConnectionOptions(schedule.command('list').description('list schedules')).action(
    async (o: { address?: string; namespace?: string }) => {
      const client = await connectClient(targetFrom(o));
      try {
        for await (const s of client.schedule.list()) {
          const next = s.info.nextActionTimes?.[0];
          console.log(
            `${s.scheduleId}\t${s.action?.type === 'startWorkflow' ? s.action.workflowType : ''}\tnext: ${next ? next.toISOString() : '-'}`,
          );
        }
      } finally {
        await client.connection.close();
      }
    },
  );

  withConnectionOptions(
    schedule.command('delete').description('delete a schedule').argument('<schedule-id>'),
  ).action(async (id: string, o: { address?: string; namespace?: string }) => {
    const client = await connectClient(targetFrom(o));
    try {
      try {
        await client.schedule.getHandle(id).delete();
      } catch (err) {
        // The server answers a missing schedule with "workflow execution already completed".
        if (
          (err as Error).name === 'ScheduleNotFoundError' ||
          /not found|already completed/i.test((err as Error).message)
        )
          throw new CliExit(
            1,
            `autogan schedule delete: no schedule "${id}" (autogan schedule list shows them)`,
          );
        throw err;
      }
      console.log(`schedule ${id} deleted`);
    } finally {
      await client.connection.close();
    }
  });
}

/**
 * The scheduled evaluation of a checkpoint: the pipeline's own `autogan.evaluate` step (its network,
 * statistics, batch size, retry and timeouts) applied to that checkpoint.
 */
function evaluationStep(plan: Plan, id: string, checkpoint: string, images?: number): PlanStep {
  const step = plan.steps.find((s) => s.uses === 'autogan.evaluate');
  if (!step)
    throw new CliExit(
      2,
      `autogan schedule: ${plan.name} has no autogan.evaluate step to take the feature network and settings from; add one`,
    );
  return {
    ...step,
    id: 'evaluate',
    needs: [],
    with: {
      ...step.with,
      models: [{ arch: [], label: id, checkpoint }],
      ...(images ? { images } : {}),
    },
  };
}

/** The architecture of `--retrain`, or exit 2 saying what is wrong with it. */
function archOrExit(text: string): number[] {
  let arch: number[];
  try {
    arch = parseArchText(text);
  } catch (err) {
    throw new CliExit(2, `--retrain: ${(err as Error).message}`);
  }
  const problem = archProblem(arch);
  if (problem) throw new CliExit(2, `--retrain "${text}": ${problem}`);
  return arch;
}
