// `gradvar run mnist`: train the MLP and measure the four estimators along the trajectory.
import { Command, Option } from 'commander';
import { gvarRunConfig } from '../run/gvar_config.ts';
import { runMnistVariance } from '../run/gvar_run.ts';
import { NODE_BACKENDS } from '../gpu/device.ts';

export function runCommand(): Command {
  const run = new Command('run').description('run a gradient-variance experiment (see `gradvar run mnist --help`)');
  run
    .command('mnist')
    .description('train the MNIST MLP with SGD and measure the variance of SG-B, SG-2B, SVRG and GC along the trajectory')
    .option('--preset <name>', "'default' (256-256 MLP, 2000 iterations; a few minutes on 2 CPU cores) or 'paper' (SPEC 4.2)", 'default')
    .option('--hidden <widths>', 'hidden widths, comma-separated')
    .option('--iters <n>', 'training iterations')
    .option('--batch <n>', 'SG-B batch size B (SG-2B uses 2B)')
    .option('--lr <x>', 'learning rate')
    .option('--log-every <n>', 'measure the variances every n iterations')
    .option('--estim-draws <n>', 'n: each estimator is drawn 2n times per measurement (SPEC 2.5)')
    .option('--snap-every <n>', 'SVRG and GC snapshot interval')
    .option('--gvar-start <n>', 'iteration of the first snapshot')
    .option('--gc-iters <n>', 'A/U rounds per GC snapshot')
    .option('--gc-clusters <n>', 'number of clusters C')
    .option('--gc-multiplier <rule>', "N_k in the A-step: 'running' (the original code; default) or 'fixed' (the paper's text; collapses, see README)")
    .option('--gc-quant <eps>', 'absolute quantisation of distances (the original code: 1e-7); 0 = off')
    .option('--exact-subset <n>', 'training examples for the exact statistics (0 = all)')
    .option('--no-exact', 'skip the exact statistics (Monte Carlo only, as the original code)')
    .option('--train-subset <n>', 'train, cluster and sample on the first n training examples only')
    .option('--eval-every <n>', 'test-set evaluation interval')
    .option('--seed <n>', 'seed')
    .option('--out <dir>', 'run directory (default: runs/mnist, or runs/mnist-paper)')
    .option('--no-progress', 'no progress bar or progress lines')
    .addOption(new Option('--backend <name>', 'WebGPU backend').choices(NODE_BACKENDS.filter((b) => b !== 'null')))
    .action(async (opts: Record<string, unknown>) => {
      if (opts.backend) process.env.GRADVAR_BACKEND = String(opts.backend);
      const { preset, progress, exact, backend: _b, ...raw } = opts;
      await runMnistVariance(gvarRunConfig(String(preset), raw, { progress: progress !== false, exact: exact !== false }));
    });
  return run;
}
