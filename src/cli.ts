// `gradvar` command line: subcommands live in src/cli/, one module each.
import { Command, CommanderError } from 'commander';
import { doctorCommand } from './cli/doctor.ts';
import { trainCommand } from './cli/train.ts';
import { runCommand } from './cli/run.ts';
import { statsCommand } from './cli/stats.ts';
import { sweepCommand } from './cli/sweep.ts';
import { GpuError } from './gpu/errors.ts';

const program = new Command('gradvar')
  .description('WebGPU engine for measuring and exploiting the variance of mini-batch gradients')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
program.addCommand(doctorCommand());
program.addCommand(trainCommand());
program.addCommand(runCommand());
program.addCommand(statsCommand());
program.addCommand(sweepCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  // One clear line for the errors we raise on purpose; a stack only for real bugs.
  if (e instanceof GpuError || (e as Error)?.name === 'DataError' || (e as Error)?.name === 'UsageError' || (e as Error)?.name === 'TrainingDiverged') {
    console.error(`gradvar: ${(e as Error).message}`);
    process.exit(1);
  }
  throw e;
}
