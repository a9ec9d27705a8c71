// Many random-features students per dispatch vs one at a time: SGD model-iterations per
// second on the small grid's students (H = 1000, batch 10, ψ from 0.5 to 10), three ways:
//   batched      every student in one bank, 50 SGD steps per dispatch (what the sweep runs)
//   batched-1    every student in one bank, one step per dispatch
//   one-by-one   one bank per student, one dispatch per student and step (as one process per
//                run would dispatch)
// Each repetition records 50 steps of every student, submits, and waits once; the three are
// interleaved (common.ts timeInterleaved) and the medians compared.
// Then the same students end to end with every measurement (see below).
//   npx tsx scripts/bench/rf_sweep.ts [--backend opengl|vulkan] [--reps 5] [--grid small] [--lr 0.01]
//       [--e2e-iters 300] [--e2e-reps 3]
import { requestGpu, describeGpu, type Backend } from '../../src/gpu/device.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import { rfSweepConfig } from '../../src/run/rf_sweep_config.ts';
import { expandRuns, buildBank } from '../../src/run/rf_sweep.ts';
import { RfEstimators } from '../../src/estimators/rf_estimators.ts';
import type { RfBank } from '../../src/models/random_features.ts';
import { runRfBank } from '../../src/run/rf_bank_run.ts';
import { flags, median, loadLine, timeInterleaved, table, type Runner } from './common.ts';

const f = flags();
const reps = Number(f.reps ?? 5);
const STEPS = 50;
const gpu = await requestGpu({ backend: (f.backend as Backend) || undefined });
const sched = new Scheduler(gpu);
const cfg = rfSweepConfig(f.grid ?? 'small', f.lr ? { lrs: f.lr } : {}, { progress: false });
const runs = expandRuns(cfg);
console.log(`rf_sweep bench: ${runs.length} students (${cfg.grid} grid, H ${cfg.hidden}, batch ${cfg.batch}) on ${describeGpu(gpu)}`);
console.log(loadLine());

const together = await buildBank(sched, runs, cfg);
const alone = [];
for (const r of runs) alone.push(await buildBank(sched, [r], cfg));

/** A runner doing n × (STEPS steps of every student of `banks`), `perDispatch` steps per dispatch. */
function runner(banks: RfBank[], perDispatch: number): Runner {
  const est = banks.map((b) => new RfEstimators(b, b.models.map((_, m) => `bench|${m}`), cfg.batch, cfg.hidden));
  return async (n) => {
    for (let i = 0; i < n; i++) {
      banks.forEach((b, j) => b.trainSteps(est[j].trainBatches(STEPS), perDispatch));
    }
    await sched.finish();
  };
}

const names = ['batched', 'batched-1', 'one-by-one'];
const times = await timeInterleaved([
  runner([together.bank], STEPS),
  runner([together.bank], 1),
  runner(alone.map((a) => a.bank), 1),
], reps, 1500);
const perOp = runs.length * STEPS; // model-iterations per repetition
const rate = times.map((t) => perOp / (median(t) / 1000));
console.log(table(['mode', 'dispatches/rep', 'ms/rep (median)', 'model-it/s'], names.map((n, i) => [
  n, String([1, STEPS, STEPS * runs.length][i]), median(times[i]).toFixed(1), rate[i].toFixed(0),
])));
console.log(`batched / one-by-one: ${(rate[0] / rate[2]).toFixed(1)}×   batched-1 / one-by-one: ${(rate[1] / rate[2]).toFixed(1)}×`);

// End to end: what a sweep really does per student (SGD plus every measurement: 2n draws of the
// four estimators, SVRG and GC snapshots, the closed forms), one bank of all students against
// one bank per student run one after another. --e2e-iters iterations (0 skips), measurements
// every 100, snapshots every 100 from 10; --e2e-reps repetitions interleaved, medians.
const e2eIters = Number(f['e2e-iters'] ?? 300), e2eReps = Number(f['e2e-reps'] ?? 3);
if (e2eIters > 0) {
  const settings = { ...cfg, iters: e2eIters, logEvery: 100, snapEvery: 100, gvarStart: 10, trueH: cfg.hidden };
  const keys = runs.map((r) => r.key);
  const e2e: number[][] = [[], []];
  for (let r = 0; r < e2eReps; r++) {
    let t0 = performance.now();
    await runRfBank(together.bank, keys, settings);
    e2e[0].push(performance.now() - t0);
    t0 = performance.now();
    for (const [i, a] of alone.entries()) await runRfBank(a.bank, [keys[i]], settings);
    e2e[1].push(performance.now() - t0);
  }
  const [tb, t1] = e2e.map(median);
  console.log(`\nend to end, ${runs.length} students × ${e2eIters} iterations with all measurements (median of ${e2eReps}):`);
  console.log(table(['mode', 's (median)', 'model-it/s'], [
    ['one bank', (tb / 1000).toFixed(1), (runs.length * e2eIters / (tb / 1000)).toFixed(0)],
    ['one bank per student', (t1 / 1000).toFixed(1), (runs.length * e2eIters / (t1 / 1000)).toFixed(0)],
  ]));
  console.log(`one bank / one per student: ${(t1 / tb).toFixed(1)}×`);
  console.log(loadLine());
}
for (const b of [together, ...alone]) { b.bank.destroy(); b.store.destroy(); }
gpu.destroy();
