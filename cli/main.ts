// The `autogan` command. Each subcommand lives in cli/commands/; this file only wires them up.
import { Command } from 'commander';
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
    .configureHelp({ sortSubcommands: false });
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
