// The `autogan` command. Each subcommand lives in cli/commands/; this file only wires them up.
import { Command, CommanderError } from 'commander';
import { registerArchCommands } from './commands/arch';
import { registerConvertCommands } from './commands/convert';
import { registerGcCommand } from './commands/gc';
import { registerMetricsCommands } from './commands/metrics';
import { registerModelCommands } from './commands/model';
import { registerPipelineCommands } from './commands/pipeline';
import { registerReportCommand } from './commands/report';
import { registerResumeCommand } from './commands/resume';
import { registerScheduleCommands } from './commands/schedule';
import { registerServerCommands } from './commands/server';
import { registerStudyCommands } from './commands/study';
import { registerWorkerCommands } from './commands/worker';
import { CliExit } from './exit';

export function buildProgram(): Command {
  const program = new Command('autogan')
    .description('AutoGAN neural architecture search for GAN generators, as durable Temporal pipelines')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false })
    // Usage errors (unknown option, missing argument) throw instead of exiting 1, so main() can
    // exit 2 as for every other invalid input. Set before the subcommands, which inherit it.
    .exitOverride();
  registerPipelineCommands(program);
  registerResumeCommand(program);
  registerStudyCommands(program);
  registerReportCommand(program);
  registerGcCommand(program);
  registerScheduleCommands(program);
  registerWorkerCommands(program);
  registerServerCommands(program);
  registerArchCommands(program);
  registerMetricsCommands(program);
  registerConvertCommands(program);
  registerModelCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    // Commander has printed its message (and the help) already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliExit) {
      if (err.message) console.error(err.message);
      return err.code;
    }
    const cause = (err as Error & { cause?: Error }).cause;
    console.error(`autogan: ${(err as Error).message}${cause?.message ? `: ${cause.message}` : ''}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv).then((code) => process.exit(code));
}
