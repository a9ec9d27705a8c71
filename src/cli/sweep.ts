// `gradvar sweep rf`: the random-features overparametrization sweep (SPEC 4.4; paper Figs. 4,
// 5, 8, 9), many students per GPU dispatch.
import { Command, Option } from 'commander';
import { rfSweepConfig, SMALL_GRID_HELP } from '../run/rf_sweep_config.ts';
import { runRfSweep } from '../run/rf_sweep.ts';
import { NODE_BACKENDS } from '../gpu/device.ts';

export function sweepCommand(): Command {
  const sweep = new Command('sweep').description('run a grid of experiments (see `gradvar sweep rf --help`)');
  sweep
    .command('rf')
    .description('random-features students vs overparametrization ψ: variance of SG-B, SG-2B, SVRG and GC (paper Figs. 4, 5, 8, 9)')
    .option('--grid <name>', `'paper' (SPEC 4.4: 324 runs, 9 ψ × 3 seeds × 2 dims × 2 teachers × 3 lr; a job for a real GPU) or '${SMALL_GRID_HELP}'`, 'small')
    .option('--duplicates <num,ratio>', 'num points make up ratio of each training set (SPEC 5.3), e.g. 5,0.9; runs lr 0.01 only, as the paper (Fig. 8)')
    .option('--lr <list>', 'learning rates, comma-separated')
    .option('--seeds <list>', 'seeds, comma-separated')
    .option('--dims <list>', 'input dims, comma-separated')
    .option('--teachers <list>', 'teacher hidden widths, comma-separated')
    .option('--psi <list>', 'ψ values (training size N = int(hidden/ψ)), comma-separated')
    .option('--hidden <n>', 'student hidden width H')
    .option('--iters <n>', 'training iterations')
    .option('--log-every <n>', 'measure the variances every n iterations')
    .option('--estim-draws <n>', 'n: each estimator is drawn 2n times per measurement (SPEC 2.5)')
    .option('--snap-every <n>', 'SVRG and GC snapshot interval')
    .option('--gvar-start <n>', 'iteration of the first snapshot')
    .option('--gc-iters <n>', 'A/U rounds per GC snapshot')
    .option('--gc-quant <eps>', 'absolute quantisation of GC distances (the original code: 1e-7); 0 = off')
    .option('--num-test <n>', 'test examples per run')
    .option('--init <mode>', "first-layer init: 'gaussian' (unit-norm Gaussian rows, the paper) or 'uniform' (the code at HEAD)")
    .option('--no-exact', 'skip the closed-form variances logged beside the Monte Carlo ones')
    .option('--out <dir>', 'run directory (default runs/rf-<grid>[-dup<num>x<ratio>])')
    .option('--no-progress', 'no progress lines')
    .addOption(new Option('--backend <name>', 'WebGPU backend').choices(NODE_BACKENDS.filter((b) => b !== 'null')))
    .action(async (opts: Record<string, unknown>) => {
      if (opts.backend) process.env.GRADVAR_BACKEND = String(opts.backend);
      const { grid, progress, exact, backend: _b, lr, psi, ...raw } = opts;
      const cfg = rfSweepConfig(String(grid), { ...raw, lrs: lr, taus: psi }, { progress: progress !== false, exact: exact !== false });
      await runRfSweep(cfg);
    });
  return sweep;
}
