import type { Command } from 'commander';
import { parseBackendPreference } from '../../core/backend';
import { connectWorker } from '../../runtime/connection';
import { createWorker } from '../../runtime/worker';
import { targetFrom, withConnectionOptions } from './connection-options';

export function registerWorkerCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('worker')
      .description('run a worker that executes pipeline workflows and step activities from one task queue')
      .option(
        '--kind <control|gpu>',
        'control: workflows and light steps (queue autogan-control, 8 at once); gpu: training and evaluation (queue autogan-gpu, 1 at once)',
        'gpu',
      )
      .option('--queue <name>', 'task queue (default: by --kind)')
      .option(
        '--concurrency <n>',
        'activities run at once (default: by --kind; 1 per GPU for training)',
        (v) => Number(v),
      )
      .option(
        '--backend <name>',
        'auto | tensorflow-gpu | tensorflow | cpu (env AUTOGAN_BACKEND overrides)',
        'auto',
      ),
  ).action(
    async (opts: {
      queue: string;
      concurrency: number;
      backend: string;
      address?: string;
      namespace?: string;
    }) => {
      const target = targetFrom(opts);
      const connection = await connectWorker(target);
      const { worker } = await createWorker({
        connection,
        namespace: target.namespace,
        taskQueue: opts.queue,
        maxConcurrentActivities: opts.concurrency,
        backend: parseBackendPreference(opts.backend),
      });
      console.error(`[autogan] connected to ${target.address}; Ctrl-C stops after running activities finish`);
      await worker.run();
      await connection.close();
    },
  );
}
