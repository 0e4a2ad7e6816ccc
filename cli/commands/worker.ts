import type { Command } from 'commander';
import { parseBackendPreference } from '../../core/backend';
import { CliExit } from '../exit';
import { targetFrom, withConnectionOptions } from './connection-options';
import { watchParent } from '../../runtime/parent-watch';
import { workerGpus } from '../../activities/gpu-placement';

/** What `--kind` means when --queue / --concurrency are not given (the pipeline's default queues). */
const WORKER_KINDS: Record<string, { queue: string; concurrency: number | 'tensor' }> = {
  control: { queue: 'autogan-control', concurrency: 8 },
  gpu: { queue: 'autogan-gpu', concurrency: 'tensor' },
};

export function registerWorkerCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('worker')
      .description('run a worker that executes pipeline workflows and step activities from one task queue')
      .option(
        '--kind <control|gpu>',
        'control: workflows and light steps (queue autogan-control, 8 at once); gpu: training and evaluation (queue autogan-gpu; 1 at once per GPU, or 1 per CPU core, each training holding the cores its TensorFlow threads use)',
        'gpu',
      )
      .option('--queue <name>', 'task queue (default: by --kind)')
      .option(
        '--concurrency <n>',
        'activities run at once (default: by --kind; training: 1 per GPU, or 1 per CPU core)',
        (v) => Number(v),
      )
      .option(
        '--backend <name>',
        'auto | tensorflow-gpu | tensorflow | cpu (env AUTOGAN_BACKEND overrides)',
        'auto',
      )
      .option(
        '--gpus <ids>',
        'GPU worker: devices to place trainings on, one per device, e.g. 0,1 (default: the devices CUDA_VISIBLE_DEVICES lists; each training process sees only its own)',
      )
      .option(
        '--metrics <host:port>',
        'serve Prometheus metrics (Temporal worker metrics; autogan_training_steps, autogan_training_steps_per_second, autogan_checkpoints) at http://<host:port>/metrics',
      ),
  ).action(
    async (opts: {
      kind: string;
      queue?: string;
      concurrency?: number;
      backend: string;
      metrics?: string;
      gpus?: string;
      address?: string;
      namespace?: string;
    }) => {
      const kind = WORKER_KINDS[opts.kind];
      if (!kind) throw new CliExit(2, `autogan worker: --kind is "${opts.kind}"; expected control or gpu`);
      if (opts.concurrency !== undefined && !(Number.isInteger(opts.concurrency) && opts.concurrency >= 1))
        throw new CliExit(2, `autogan worker: --concurrency must be a positive integer`);
      if (opts.gpus !== undefined) {
        try {
          workerGpus(opts.gpus);
        } catch (err) {
          throw new CliExit(2, `autogan worker: ${(err as Error).message}`);
        }
      }
      const target = targetFrom(opts);
      // Loaded here, not at the top: client-only commands never load worker code or TensorFlow.
      const { connectWorker, createWorker, installRuntime } = await import('../../runtime/worker');
      if (opts.metrics !== undefined) {
        if (!/^[^\s:]+:\d{1,5}$/.test(opts.metrics))
          throw new CliExit(
            2,
            `autogan worker: --metrics is "${opts.metrics}"; expected <host>:<port>, e.g. 0.0.0.0:9464`,
          );
        installRuntime(opts.metrics);
        console.error(`[autogan] Prometheus metrics at http://${opts.metrics}/metrics`);
      }
      const connection = await connectWorker(target);
      const { worker } = await createWorker({
        connection,
        namespace: target.namespace,
        taskQueue: opts.queue ?? kind.queue,
        maxConcurrentActivities: opts.concurrency ?? kind.concurrency,
        backend: parseBackendPreference(opts.backend),
        ...(opts.gpus !== undefined ? { gpus: opts.gpus } : {}),
      });
      console.error(
        `[autogan] connected to ${target.address}; Ctrl-C or SIGTERM stops running training at its next step (a retry resumes from its last checkpoint)`,
      );
      // Started through a wrapper that was stopped (SIGTERM to `npx`): shut down as on SIGTERM.
      const unwatch = watchParent((pid) => {
        console.error(`[autogan] the process that started this worker (pid ${pid}) is gone: shutting down`);
        worker.shutdown();
      });
      await worker.run();
      unwatch();
      const { stopTensorHosts } = await import('../../activities/tensor-call');
      stopTensorHosts();
      await connection.close();
    },
  );
}
