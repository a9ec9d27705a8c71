// `gradvar run <dataset>`: trains a model (the MLP, or a ResNet) with plain SGD-B (SPEC 0)
// and, along that one trajectory, measures the variance of SG-B, SG-2B, SVRG and GC: snapshots (SVRG's control
// variate, Gradient Clustering) every snapEvery iterations from gvarStart, Monte Carlo and
// exact statistics (SG-B, SG-2B, SVRG, GC closed forms over --exact-subset, logged as
// exact.var) every logEvery iterations once a snapshot exists. The estimators draw
// from their own streams and only overwrite scratch (gradients, activations), so the
// training trajectory is the same with and without measurement.
// Writes runs/<name>/log.jsonl (training records every 10 iterations and one variance record
// per log point), config.json, variance.svg, normalized_variance.svg, exact_vs_mc.svg and
// report.html; prints a table of the last logged variances.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestGpu, describeGpu, type Gpu } from '../gpu/device.ts';
import { Scheduler } from '../sched/scheduler.ts';
import { EpochIterator, gather } from '../data/batches.ts';
import type { Dataset } from '../data/dataset.ts';
import { writeFileAtomicSync, JsonlWriter } from '../io/atomic_file.ts';
import type { LossAcc } from './trainer.ts';
import { loadRunData, buildRunModel } from './run_setup.ts';
import { encodeRunState, decodeRunState, type RunState } from './run_state.ts';
import { Estimators } from '../estimators/estimators.ts';
import { VarianceMeter } from '../estimators/measure.ts';
import { GradientClustering } from '../cluster/gradient_clustering.ts';
import { UsageError } from './train_config.ts';
import { TrainingDiverged } from './train_mnist.ts';
import { Progress } from './progress.ts';
import { Rng } from '../util/rng.ts';
import { writeReport, readVarianceLog } from '../report/render_node.ts';
import { printVarianceTable } from '../report/print_table.ts';
import type { GvarRunConfig } from './gvar_config.ts';

/** Wall seconds per phase. Training steps are asynchronous until a record's readback, so
 *  `train` is what is left of the total (steps, logging, evaluation); the others are timed
 *  around work that ends in a readback. */
export interface GvarPhases { total: number; train: number; snapshot: number; monteCarlo: number; exact: number }

export interface GvarRunResult {
  phases: GvarPhases;
  dir: string;
  log: string;
  report: string | null;
  params: Float32Array;
  test: LossAcc;
}

/** A fixed, uniformly drawn subset for the exact statistics: the estimators sample the
 *  whole training set, and the first n examples are not a fair sample of it (measured on
 *  MNIST: the first 5000 gave tr(S) 10–25% below the Monte Carlo SG-B variance). */
function randomSubset(ds: Dataset, n: number, seed: number): { set: Dataset; index: Uint32Array } {
  const index = new Rng(seed).shuffle(Uint32Array.from({ length: ds.n }, (_, i) => i)).slice(0, n).sort();
  const { x, y } = gather(ds, index);
  return { set: { ...ds, x, y, n }, index };
}

/** The saved state of the run in `dir`, after checking that this config continues it. */
function loadForResume(cfg: GvarRunConfig, dir: string, statePath: string): RunState {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(statePath) || !existsSync(cfgPath)) throw new UsageError(`--resume: no run state in ${dir} (it is written at the first measurement)`);
  const before = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  const now = cfg as unknown as Record<string, unknown>;
  const free = new Set(['progress', 'resume', 'iters']);
  const differ = Object.keys({ ...before, ...now }).filter((k) => !free.has(k) && JSON.stringify(before[k]) !== JSON.stringify(now[k]));
  if (differ.length) throw new UsageError(`--resume: the run in ${dir} was made with other settings (${differ.map((k) => `${k}: ${JSON.stringify(before[k])} → ${JSON.stringify(now[k])}`).join(', ')})`);
  const st = decodeRunState(readFileSync(statePath), statePath);
  if (st.iteration >= cfg.iters) throw new UsageError(`--resume: the run is at iteration ${st.iteration}; --iters ${cfg.iters} asks for no more`);
  return st;
}

export async function runVariance(cfg: GvarRunConfig, say: (s: string) => void = console.log, gpuIn?: Gpu): Promise<GvarRunResult> {
  const dir = cfg.out;
  const logPath = join(dir, 'log.jsonl');
  const statePath = join(dir, 'state.safetensors');
  if (!cfg.resume && existsSync(logPath)) throw new UsageError(`${logPath} exists: pass --resume to continue that run, or --out to start a new one`);
  const saved = cfg.resume ? loadForResume(cfg, dir, statePath) : null;
  const { train, test, describe: dataDesc } = loadRunData(cfg);
  // index: each exact-set example's index in train (GC's exact variance needs its cluster).
  const exactOn: { set: Dataset; index?: Uint32Array } = cfg.exactSubset > 0 && cfg.exactSubset < train.n ? randomSubset(train, cfg.exactSubset, cfg.seed * 13 + 3) : { set: train };
  mkdirSync(dir, { recursive: true });
  writeFileAtomicSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');

  const gpu = gpuIn ?? (await requestGpu());
  const sched = new Scheduler(gpu);
  const { trainer, describe: modelDesc } = buildRunModel(sched, cfg, train);
  let batches = new EpochIterator(train, { batchSize: cfg.batch, seed: cfg.seed + 1 });
  const est = new Estimators(sched, trainer.grad, train, cfg.batch, cfg.seed, cfg.labelSmoothing);
  const meter = new VarianceMeter(sched, trainer.grad, est);
  const gc = new GradientClustering(sched, trainer.grad, train, {
    clusters: cfg.gcClusters, iters: cfg.gcIters, multiplier: cfg.gcMultiplier, quant: cfg.gcQuant, batch: cfg.batch, seed: cfg.seed * 7 + 5, labelSmoothing: cfg.labelSmoothing,
  });
  say(`gradvar run ${cfg.dataset}: ${modelDesc} (${trainer.grad.model.layout.count} parameters) on ${dataDesc}, ` +
    `SG-B training, estimators SG-B SG-2B SVRG GC measured every ${cfg.logEvery} iterations from ${2 * cfg.estimDraws} draws, on ${describeGpu(gpu)}`);
  let start = 0;
  // td: total distortion of the last A-pass; M: non-empty clusters (exact.var.GC is logged
  // only when M equals the batch size, see VarianceMeter.exact).
  let gcInfo: { td: number; splits: number; M: number } | null = null;
  if (saved) {
    trainer.loadParams(saved.params);
    trainer.loadMomenta(saved.momenta);
    trainer.momentumStarted = saved.momentumStarted;
    batches = EpochIterator.restore(train, saved.batches);
    est.restore(saved.estimators);
    gc.restore(saved.gc);
    trainer.grad.loadState?.(saved.engine);
    gcInfo = saved.gcInfo;
    start = saved.iteration;
    say(`resuming at iteration ${start} (${statePath})`);
  }
  /** Everything --resume needs, written atomically after the log record of `done`. */
  const saveState = async (done: number) => {
    const st: RunState = {
      iteration: done, params: await trainer.readParams(), momenta: await trainer.readMomenta(), momentumStarted: trainer.momentumStarted,
      batches: batches.state(), estimators: await est.state(), gc: await gc.state(), gcInfo,
      engine: (await trainer.grad.saveState?.()) ?? { meta: null, tensors: {} },
    };
    writeFileAtomicSync(statePath, encodeRunState(st));
  };
  const log = JsonlWriter.open(logPath, saved ? { resumeAfter: start } : { fresh: true });
  const progress = new Progress(cfg.iters, start, cfg.progress);
  const t0 = performance.now();
  let testStats: LossAcc = { loss: NaN, acc: NaN };
  const phases: GvarPhases = { total: 0, train: 0, snapshot: 0, monteCarlo: 0, exact: 0 };
  const timed = async <T>(phase: 'snapshot' | 'monteCarlo' | 'exact', f: () => Promise<T>): Promise<T> => {
    await sched.finish();
    const t = performance.now();
    const r = await f();
    phases[phase] += (performance.now() - t) / 1000;
    return r;
  };
  try {
    for (let it = start; it < cfg.iters; it++) {
      const b = batches.next();
      trainer.step(b.x, b.y, it);
      const done = it + 1;
      if (cfg.measure && it >= cfg.gvarStart && (it - cfg.gvarStart) % cfg.snapEvery === 0) {
        await timed('snapshot', async () => {
          await est.snapshotSvrg(1024);
          const snap = await gc.snapshot();
          est.setPartition(snap.assign, cfg.seed * 7 + done);
          gcInfo = { td: snap.totalDist, splits: snap.splits, M: est.gcSampler!.M };
        });
      }
      const logNow = done % 10 === 0 || done === cfg.iters;
      const measureNow = cfg.measure && gcInfo !== null && (done % cfg.logEvery === 0 || done === cfg.iters);
      if (!logNow && !measureNow) continue;
      const batch = await trainer.lastBatch();
      if (!Number.isFinite(batch.loss)) throw new TrainingDiverged(`loss is ${batch.loss} at iteration ${done}`);
      const rec: Record<string, unknown> = { iter: done, epoch: b.epoch, loss: batch.loss, train_acc: batch.acc };
      if (done % cfg.evalEvery === 0 || done === cfg.iters) {
        testStats = await trainer.evaluate(test);
        Object.assign(rec, { test_loss: testStats.loss, test_acc: testStats.acc });
      }
      if (measureNow) {
        const mc = await timed('monteCarlo', () => meter.monteCarlo(cfg.estimDraws));
        const exact = cfg.exact ? await timed('exact', () => meter.exact(exactOn.set, cfg.batch, { trainIndex: exactOn.index })) : undefined;
        Object.assign(rec, { gvar: { ...mc.gvar, bias: mc.bias }, exact, gc: gcInfo });
      }
      rec.time_s = (performance.now() - t0) / 1000;
      log.append(rec);
      if (done % cfg.logEvery === 0 || done === cfg.iters) await saveState(done);
      progress.update(done, batch.loss, rec.test_acc as number | undefined);
    }
    const params = await trainer.readParams();
    phases.total = (performance.now() - t0) / 1000;
    phases.train = phases.total - phases.snapshot - phases.monteCarlo - phases.exact;
    progress.stop();
    log.close();
    let report: string | null = null;
    if (cfg.measure) {
      const r = await writeReport(dir);
      report = r.html;
      say('');
      printVarianceTable(readVarianceLog(logPath).records, say);
      say('');
      say(`variance plots: ${r.svgs.join(', ')}`);
    }
    const f = (v: number) => v.toFixed(0);
    say(`test accuracy ${(100 * testStats.acc).toFixed(2)}%, ${f(phases.total)} s (training ${f(phases.train)}, snapshots ${f(phases.snapshot)}, Monte Carlo ${f(phases.monteCarlo)}, exact ${f(phases.exact)})`);
    say(`log: ${logPath}`);
    if (report) say(`report: ${report}`);
    return { phases, dir, log: logPath, report, params, test: testStats };
  } finally {
    progress.stop();
    log.close();
    gc.destroy();
    meter.destroy();
    est.destroy();
    trainer.destroy();
    if (!gpuIn) gpu.destroy();
  }
}
