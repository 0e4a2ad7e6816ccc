// @integration: `autogan worker --metrics <host:port>` serves Prometheus text with Temporal's worker
// metrics and ours (training steps, steps per second, checkpoints) after it ran a search.
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort } from '../../server/dev-server';
import { tinySearch } from '../helpers/search-params';
import { startTestServer, startWorkers, uniqueQueue } from '../helpers/temporal-env';
import { CLI } from '../helpers/worker-process';
import { spawn } from 'node:child_process';

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** The value of a Prometheus sample whose line starts with `prefix` (summed over its label sets). */
function sample(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('worker metrics @integration', function () {
  this.timeout(300_000);
  let env: TestWorkflowEnvironment;
  let stop: () => Promise<void>;
  let worker: ChildProcess | undefined;
  const control = uniqueQueue('metrics-control');
  const gpu = uniqueQueue('metrics-gpu');
  before(async () => {
    env = await startTestServer();
    stop = await startWorkers(env, [control]);
  });
  after(async () => {
    worker?.kill('SIGKILL');
    await stop?.();
    await env?.teardown();
  });

  it('serves Temporal worker metrics and autogan training metrics over HTTP', async () => {
    const port = await freePort();
    worker = spawn(
      process.execPath,
      [
        CLI,
        'worker',
        '--kind',
        'gpu',
        '--queue',
        gpu,
        '--metrics',
        `127.0.0.1:${port}`,
        '--address',
        env.connection.options.address,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    worker.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const handle = await env.client.workflow.start('autogan-search', {
      args: [tinySearch({ control, gpu }, { maxIterations: 2, growSteps: [1], sharedSteps: 100 })],
      taskQueue: control,
      workflowId: `metrics-${Date.now()}`,
    });
    await handle.result();
    const text = await get(`http://127.0.0.1:${port}/metrics`);
    assert.match(stderr, new RegExp(`Prometheus metrics at http://127.0.0.1:${port}/metrics`));
    assert.match(text, /# TYPE \S*activity_execution_latency\S* histogram/, 'Temporal worker metrics');
    // 2 iterations × 100 shared steps.
    assert.ok(
      sample(text, 'autogan_training_steps') >= 200,
      text
        .split('\n')
        .filter((l) => l.includes('autogan'))
        .join('\n'),
    );
    assert.match(text, /autogan_training_steps\{[^}]*activityType="searchTrainShared"[^}]*\} 200\n/);
    assert.ok(sample(text, 'autogan_checkpoints') >= 1);
    assert.match(text, /# TYPE autogan_training_steps_per_second gauge/);
  });
});
