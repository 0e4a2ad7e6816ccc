// resume and schedule: operating long searches and periodic retraining/evaluation.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { parseArchText } from '../../core/arch/encoding';
import { loadPipeline } from '../../pipeline/load';
import type { Plan, PlanStep } from '../../pipeline/plan';
import { CliExit } from '../exit';
import { connectClient } from '../../runtime/connection';
import type { SearchState } from '../../workflows/search';
import { targetFrom, withConnectionOptions } from './connection-options';

const RESUMABLE = ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED'];

export function registerSearchCommands(program: Command): void {
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
      const old = client.workflow.getHandle(id);
      const desc = await old.describe();
      if (!RESUMABLE.includes(desc.status.name))
        throw new Error(
          `${id} is ${desc.status.name}; only ${RESUMABLE.join(', ').toLowerCase()} runs can be resumed`,
        );
      if (desc.type !== 'autogan-search')
        throw new Error(`${id} is a ${desc.type} run; resume continues autogan-search runs`);
      const memo = (desc.memo ?? {}) as { artifacts?: string };
      const stateFile = memo.artifacts ? path.join(memo.artifacts, id, 'search-state.json') : undefined;
      if (!stateFile || !fs.existsSync(stateFile)) {
        throw new Error(
          `no saved state for ${id} (looked for ${stateFile ?? 'a stateFile in the memo'}): the run ended before its first iteration finished; start it again instead`,
        );
      }
      const saved = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as {
        params: Record<string, unknown>;
        state: SearchState;
      };
      let n = 1;
      while (true) {
        const candidate = opts.id ?? `${id}-r${n}`;
        try {
          await client.workflow.getHandle(candidate).describe();
          if (opts.id) throw new Error(`a workflow ${candidate} already exists`);
          n++;
        } catch (err) {
          if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
          break;
        }
      }
      const newId = opts.id ?? `${id}-r${n}`;
      const handle = await client.workflow.start('autogan-search', {
        args: [{ ...saved.params, state: { ...saved.state, paused: false } }],
        taskQueue: desc.taskQueue,
        workflowId: newId,
        memo: { ...memo, resumedFrom: id },
      });
      console.log(
        `resumed ${id} at iteration ${saved.state.iteration} (stage ${saved.state.stage}) as ${handle.workflowId}`,
      );
    } finally {
      await client.connection.close();
    }
  });

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
        throw new Error('give exactly one of --retrain <vector> or --evaluate <checkpoint>');
      if (!o.cron === !o.every) throw new Error('give exactly one of --cron or --every');
      const overlap = {
        skip: ScheduleOverlapPolicy.SKIP,
        'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
        'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
        'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
        'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
        'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
      }[o.overlap];
      if (overlap === undefined) throw new Error(`unknown overlap policy "${o.overlap}"`);
      const plan = loadPipeline(o.pipeline);
      const stepInput = (uses: string, w: Record<string, unknown>) => ({
        pipeline: plan.name,
        stepId: id,
        with: w,
        spec: plan.spec,
        runId: id,
      });
      const action = o.retrain
        ? {
            workflowType: 'autogan-retrain',
            args: [
              stepInput('autogan.retrain', {
                arch: parseArchText(o.retrain),
                iterations: o.iterations,
                label: id,
              }),
            ],
          }
        : {
            workflowType: 'pipelineWorkflow',
            args: [
              {
                ...plan,
                name: `${plan.name}-evaluate`,
                steps: [evaluationStep(plan, id, o.evaluate!, o.images)],
              },
            ],
          };
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
      await client.schedule.getHandle(id).delete();
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
