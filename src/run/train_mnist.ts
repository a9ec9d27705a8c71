// `gradvar train mnist-mlp`: the paper's MNIST MLP trained with SGD on the GPU, logged to
// runs/<name>/log.jsonl (one record per logged iteration, written through as it goes) and
// checkpointed atomically to runs/<name>/checkpoint.safetensors. --resume continues the
// same trajectory: parameters, momenta and the data order are restored exactly, and the
// log is cut back to the checkpoint so no iteration is missing or written twice.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestGpu, describeGpu, type Gpu } from '../gpu/device.ts';
import { Scheduler } from '../sched/scheduler.ts';
import { loadMnist } from '../data/mnist_node.ts';
import { subset, type Dataset } from '../data/dataset.ts';
import { EpochIterator, type EpochState } from '../data/batches.ts';
import { writeFileAtomicSync, removeStaleTemps, JsonlWriter } from '../io/atomic_file.ts';
import { initMlpParams, type MlpConfig } from '../models/mlp.ts';
import { MlpTrainer, type LossAcc } from './mlp_trainer.ts';
import { encodeCheckpoint, decodeCheckpoint } from './checkpoint.ts';
import { UsageError, type TrainConfig } from './train_config.ts';
import { Progress } from './progress.ts';
import { Rng } from '../util/rng.ts';

export class TrainingDiverged extends Error {
  override name = 'TrainingDiverged';
}

export interface TrainResult {
  dir: string;
  log: string;
  checkpoint: string;
  iterations: number;
  test: LossAcc;
  adapter: string;
}

/** The parts of the config that must match to resume a run. */
function identity(cfg: TrainConfig) {
  return { model: 'mnist-mlp', hidden: cfg.hidden, batch: cfg.batch, seed: cfg.seed, trainSubset: cfg.trainSubset ?? null };
}

function loadData(cfg: TrainConfig): { train: Dataset; test: Dataset } {
  const train = loadMnist('train', cfg.data);
  const test = loadMnist('test', cfg.data);
  return {
    train: cfg.trainSubset ? subset(train, Math.min(cfg.trainSubset, train.n)) : train,
    test: cfg.testSubset ? subset(test, Math.min(cfg.testSubset, test.n)) : test,
  };
}

export async function trainMnistMlp(cfg: TrainConfig, say: (line: string) => void = console.log, gpuIn?: Gpu): Promise<TrainResult> {
  const dir = cfg.out;
  const ckptPath = join(dir, 'checkpoint.safetensors');
  const logPath = join(dir, 'log.jsonl');
  if (!cfg.resume && existsSync(ckptPath)) {
    throw new UsageError(`${ckptPath} exists: pass --resume to continue that run, or --out to start a new one`);
  }
  if (cfg.resume && !existsSync(ckptPath)) throw new UsageError(`--resume: no checkpoint at ${ckptPath}`);
  // Data first: a corrupt file must fail before anything is written.
  const { train, test } = loadData(cfg);
  mkdirSync(dir, { recursive: true });
  removeStaleTemps(ckptPath); // a SIGKILL during a checkpoint write leaves one behind
  const model: MlpConfig = { inputDim: train.dim, hidden: cfg.hidden, classes: train.classes };
  const gpu = gpuIn ?? (await requestGpu());
  const sched = new Scheduler(gpu);
  const trainer = new MlpTrainer(sched, model, {
    lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay,
    milestones: cfg.milestones, lrDecay: cfg.lrDecay, labelSmoothing: cfg.labelSmoothing,
  });
  try {
    let start = 0;
    let batches: EpochIterator;
    if (cfg.resume) {
      const ck = decodeCheckpoint(readFileSync(ckptPath), ckptPath, trainer.model.layout);
      const want = JSON.stringify(identity(cfg));
      const had = JSON.stringify(ck.extra.identity);
      if (want !== had) throw new UsageError(`--resume: ${ckptPath} was made with ${had}, these flags give ${want}`);
      trainer.loadParams(ck.params);
      if (ck.momenta) trainer.loadMomenta(ck.momenta);
      batches = EpochIterator.restore(train, ck.extra.data as EpochState);
      start = ck.iteration;
      say(`resuming ${dir} at iteration ${start}`);
    } else {
      const rng = new Rng(cfg.seed);
      trainer.loadParams(initMlpParams(model, rng));
      batches = new EpochIterator(train, { batchSize: cfg.batch, seed: cfg.seed + 1 });
      writeFileAtomicSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
    }
    if (start >= cfg.iters) throw new UsageError(`--resume: the checkpoint is at iteration ${start}, --iters ${cfg.iters} asks for no more`);
    const adapter = describeGpu(gpu);
    say(`gradvar train mnist-mlp: ${[train.dim, ...cfg.hidden, train.classes].join('-')} MLP (${trainer.model.layout.count} parameters), ` +
      `${train.n} train / ${test.n} test examples, batch ${cfg.batch}, on ${adapter}`);

    const log = JsonlWriter.open(logPath, { resumeAfter: start, fresh: !cfg.resume });
    let lastGood = start;
    const checkpoint = async (iteration: number) => {
      const params = await trainer.readParams();
      if (!params.every(Number.isFinite)) throw new TrainingDiverged(`parameters became non-finite by iteration ${iteration}`);
      const bytes = encodeCheckpoint(trainer.model.layout, {
        iteration, params, momenta: trainer.momentumStarted ? await trainer.readMomenta() : null,
        extra: { identity: identity(cfg), data: batches.state(), config: cfg },
      });
      log.sync(); // the log is durable up to the checkpoint it will be cut back to
      writeFileAtomicSync(ckptPath, bytes);
      lastGood = iteration;
    };

    const progress = new Progress(cfg.iters, start, cfg.progress);
    const t0 = performance.now();
    let test_: LossAcc = { loss: NaN, acc: NaN };
    try {
      for (let it = start; it < cfg.iters; it++) {
        const b = batches.next();
        trainer.step(b.x, b.y, it);
        const done = it + 1;
        const last = done === cfg.iters;
        if (done % cfg.logEvery !== 0 && done % cfg.evalEvery !== 0 && done % cfg.ckptEvery !== 0 && !last) continue;
        const batch = await trainer.lastBatch();
        if (!Number.isFinite(batch.loss)) {
          throw new TrainingDiverged(`loss is ${batch.loss} at iteration ${done} (lr ${trainer.lrAt(it)}); ` +
            `the last good checkpoint (iteration ${lastGood}) is kept at ${ckptPath}`);
        }
        const rec: Record<string, number> = { iter: done, epoch: b.epoch, lr: trainer.lrAt(it), loss: batch.loss, train_acc: batch.acc, time_s: (performance.now() - t0) / 1000 };
        if (done % cfg.evalEvery === 0 || last) {
          test_ = await trainer.evaluate(test);
          Object.assign(rec, { test_loss: test_.loss, test_acc: test_.acc });
        }
        log.append(rec);
        progress.update(done, batch.loss, rec.test_acc);
        if (done % cfg.ckptEvery === 0 || last) await checkpoint(done);
      }
    } finally {
      progress.stop();
      log.close();
    }
    say(`done: ${cfg.iters} iterations, test loss ${test_.loss.toFixed(4)}, test accuracy ${(100 * test_.acc).toFixed(2)}%`);
    say(`log: ${logPath}`);
    say(`checkpoint: ${ckptPath}`);
    return { dir, log: logPath, checkpoint: ckptPath, iterations: cfg.iters, test: test_, adapter };
  } finally {
    trainer.destroy();
    if (!gpuIn) gpu.destroy();
  }
}
