// `gradvar sweep rf`: the overparametrization sweep of SPEC 4.4 (paper Figs. 4, 5, 8, 9).
// The grid's runs (one student trajectory each; the four estimators are measured on it) are
// grouped by feature group (seed, input dim), groups are packed into banks that fit the
// adapter's storage binding, and each bank runs all its students together (runRfBank).
// Writes runs/<name>/runs.jsonl (one row per run, appended as each bank finishes, with the
// max_70/mean_70 reductions and the logged series), config.json, then aggregated.json, the
// SVG figures and report.html (src/report/rf_sweep_render.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { requestGpu, describeGpu, type Gpu } from '../gpu/device.ts';
import { Scheduler } from '../sched/scheduler.ts';
import { writeFileAtomicSync, JsonlWriter } from '../io/atomic_file.ts';
import { buildFeatures, studentTheta, type FeatureGroupSpec, type FeatureStore } from '../models/rf_features.ts';
import { RfBank, type RfBankModel } from '../models/random_features.ts';
import { thresholdLabels, duplicateSources } from '../data/rf.ts';
import { runRfBank } from './rf_bank_run.ts';
import { UsageError } from './train_config.ts';
import { trainSize, type RfSweepConfig } from './rf_sweep_config.ts';
import { runRow, type RfRun } from '../report/rf_sweep_report.ts';
import { writeSweepReport } from '../report/rf_sweep_render.ts';

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/** Every run of the grid, in a fixed order. Its key names everything that defines it. */
export function expandRuns(c: RfSweepConfig): RfRun[] {
  const runs: RfRun[] = [];
  const dup = c.duplicates ? `${c.duplicates.num},${c.duplicates.ratio}` : null;
  for (const seed of c.seeds) for (const dim of c.dims) for (const teacher of c.teachers) for (const tau of c.taus) for (const lr of c.lrs) {
    const N = trainSize(c.hidden, tau);
    const key = `rf|seed=${seed}|dim=${dim}|teacher=${teacher}|H=${c.hidden}|N=${N}|lr=${lr}|dup=${dup}|init=${c.init}|B=${c.batch}`;
    runs.push({ key, seed, dim, teacher, hidden: c.hidden, tau, N, lr, duplicates: dup });
  }
  return runs;
}

/** Runs grouped by feature group (seed, dim), groups packed into banks of ≤ `budget` bytes of features. */
export function planBanks(runs: readonly RfRun[], c: RfSweepConfig, budget: number): RfRun[][] {
  const groups = new Map<string, RfRun[]>();
  for (const r of runs) {
    const k = `${r.seed}|${r.dim}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const bytes = (g: RfRun[]) => (Math.max(...g.map((r) => r.N)) + c.numTest) * pad4(c.hidden) * 4;
  const banks: RfRun[][] = [];
  let cur: RfRun[] = [], used = 0;
  for (const g of groups.values()) {
    if (cur.length && used + bytes(g) > budget) { banks.push(cur); cur = []; used = 0; }
    cur.push(...g);
    used += bytes(g);
  }
  if (cur.length) banks.push(cur);
  return banks;
}

/** The data entries and bank models of `runs` on a built feature store (labels from yraw). */
function bankModels(runs: readonly RfRun[], groups: FeatureStore, c: RfSweepConfig) {
  const entries: number[] = [];
  const bits = new Uint32Array(groups.sq.buffer, groups.sq.byteOffset, groups.sq.length);
  const push = (row: number, label: number) => entries.push(row, label, bits[row]);
  const models: RfBankModel[] = runs.map((r) => {
    const g = groups.groups.find((x) => x.spec.seed === r.seed && x.spec.dim === r.dim)!;
    const y = g.yraw.get(r.teacher)!;
    const { ymean, labels } = thresholdLabels(y.subarray(0, r.N), r.N);
    const trainStart = entries.length / 3;
    for (const s of duplicateSources(r.N, c.duplicates)) push(g.base + s, labels[s]);
    const testStart = entries.length / 3;
    for (let t = 0; t < c.numTest; t++) push(g.base + g.spec.nTrain + t, y[g.spec.nTrain + t] - ymean > 0 ? 1 : 0);
    return { trainStart, N: r.N, testStart, nTest: c.numTest, lr: r.lr, theta0: studentTheta(r.seed, r.dim, r.hidden, c.init) };
  });
  return { entries: Uint32Array.from(entries), models };
}

/** Features, data entries and the bank of `runs` (one shared feature store). */
export async function buildBank(sched: Scheduler, runs: readonly RfRun[], c: RfSweepConfig): Promise<{ store: FeatureStore; bank: RfBank }> {
  const specs: FeatureGroupSpec[] = [];
  for (const r of runs) {
    let g = specs.find((s) => s.seed === r.seed && s.dim === r.dim);
    if (!g) specs.push((g = { seed: r.seed, dim: r.dim, nTrain: 0, nTest: c.numTest, teachers: [] }));
    g.nTrain = Math.max(g.nTrain, r.N);
    if (!g.teachers.includes(r.teacher)) (g.teachers as number[]).push(r.teacher);
  }
  const store = await buildFeatures(sched, specs, c.hidden, c.init);
  const { entries, models } = bankModels(runs, store, c);
  return { store, bank: new RfBank(sched, store, entries, models, { batch: c.batch, weightDecay: c.weightDecay }) };
}

export interface RfSweepResult { dir: string; runs: string; report: string; seconds: number }

export async function runRfSweep(c: RfSweepConfig, say: (s: string) => void = console.log, gpuIn?: Gpu): Promise<RfSweepResult> {
  const dir = c.out;
  const runsPath = join(dir, 'runs.jsonl');
  if (existsSync(runsPath)) throw new UsageError(`${runsPath} exists: choose another --out (runs are never overwritten)`);
  const gpu = gpuIn ?? (await requestGpu());
  const sched = new Scheduler(gpu);
  const runs = expandRuns(c);
  const budget = Math.min(gpu.device.limits.maxStorageBufferBindingSize, 1 << 30);
  const banks = planBanks(runs, c, budget);
  const total = banks.reduce((s, b) => s + b.length, 0) * c.iters;
  say(`gradvar sweep rf --grid ${c.grid}${c.duplicates ? ` --duplicates ${c.duplicates.num},${c.duplicates.ratio}` : ''}: ${runs.length} runs ` +
    `(${c.lrs.length} lr × ${c.seeds.length} seeds × ${c.dims.length} dims × ${c.teachers.length} teachers × ${c.taus.length} ψ), ` +
    `${c.iters} iterations each, estimators SG-B SG-2B SVRG GC measured every ${c.logEvery}; ${banks.length} bank(s) of ${banks.map((b) => b.length).join(', ')} students; on ${describeGpu(gpu)}`);
  mkdirSync(dir, { recursive: true });
  writeFileAtomicSync(join(dir, 'config.json'), JSON.stringify(c, null, 2) + '\n');
  const log = JsonlWriter.open(runsPath, { fresh: true });
  const t0 = performance.now();
  let doneWork = 0;
  try {
    for (const [bi, bank] of banks.entries()) {
      const tb = performance.now();
      const { store, bank: rf } = await buildBank(sched, bank, c);
      say(`bank ${bi + 1}/${banks.length}: ${bank.length} students, ${store.rows} feature rows (${((performance.now() - tb) / 1000).toFixed(1)} s to build)`);
      let next = 0.1;
      try {
        const results = await runRfBank(rf, bank.map((r) => r.key), { ...c, trueH: c.hidden }, (done) => {
          const frac = (doneWork + done * bank.length) / total;
          if (c.progress && (frac >= next || done === c.iters)) {
            const el = (performance.now() - t0) / 1000;
            say(`  ${(100 * frac).toFixed(0)}%  ${el.toFixed(0)} s elapsed, ETA ${(el / frac - el).toFixed(0)} s`);
            next = Math.floor(frac * 10 + 1) / 10;
          }
        });
        const seconds = (performance.now() - tb) / 1000;
        bank.forEach((r, m) => log.append(runRow(r, results[m], seconds / bank.length)));
      } finally {
        rf.destroy();
        store.destroy();
      }
      doneWork += bank.length * c.iters;
    }
    log.close();
    const rep = await writeSweepReport(dir);
    const seconds = (performance.now() - t0) / 1000;
    say(`figures: ${rep.svgs.join(', ')}`);
    say(`report: ${rep.html} (${seconds.toFixed(0)} s)`);
    return { dir, runs: runsPath, report: rep.html, seconds };
  } finally {
    log.close();
    if (!gpuIn) gpu.destroy();
  }
}
