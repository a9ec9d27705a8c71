// `gradvar sweep rf` configuration, grid expansion and banking, and the report's reductions
// (max_70/mean_70 over the last 70 %, SPEC 4.4) and aggregation (mean ± population std).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rfSweepConfig, trainSize, RF_GRIDS } from '../../src/run/rf_sweep_config.ts';
import { expandRuns, planBanks } from '../../src/run/rf_sweep.ts';
import { reduce70, aggregate, type RfRunRow } from '../../src/report/rf_sweep_report.ts';

test('the paper grid is SPEC 4.4: 9 ψ × 3 seeds × 2 dims × 2 teachers × 3 lr = 324 runs, N = int(1000/ψ)', () => {
  const c = rfSweepConfig('paper', {});
  assert.is(expandRuns(c).length, 9 * 3 * 2 * 2 * 3);
  assert.equal(c.taus.map((t) => trainSize(c.hidden, t)), [10000, 2000, 1000, 666, 500, 400, 333, 200, 100]);
  assert.equal([c.iters, c.batch, c.weightDecay, c.logEvery, c.estimDraws, c.snapEvery, c.gvarStart, c.gcClusters, c.gcIters, c.numTest], [5000, 10, 1e-4, 100, 10, 1000, 10, 10, 3, 10000]);
  const d = rfSweepConfig('paper', { duplicates: '5,0.9' });
  assert.equal(d.lrs, [0.01]);
  assert.equal(d.duplicates, { num: 5, ratio: 0.9 });
  assert.is(d.out, 'runs/rf-paper-dup5x0.9');
});

test('the small grid keeps the recipe and drops dim and teacher (one value each)', () => {
  const s = rfSweepConfig('small', {});
  const p = RF_GRIDS.paper;
  for (const k of ['lrs', 'seeds', 'hidden', 'iters', 'batch', 'logEvery', 'estimDraws', 'snapEvery', 'gcIters'] as const) assert.equal(s[k], p[k], k);
  assert.equal([s.dims, s.teachers], [[100], [100]]);
  assert.ok(s.taus.every((t) => p.taus.includes(t)));
});

test('bad flags give one line naming the flag', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['huge', {}, /^--grid must be 'paper' or 'small' \(got 'huge'\)$/],
    ['small', { lrs: '0.1,x' }, /^--lr must be comma-separated positive numbers, e\.g\. 0\.1,0\.01 \(got '0\.1,x'\)$/],
    ['small', { taus: '-1' }, /^--psi must be comma-separated positive numbers/],
    ['small', { iters: '0' }, /^--iters must be ≥ 1 \(got '0'\)$/],
    ['small', { init: 'xavier' }, /^--init must be 'gaussian' or 'uniform' \(got 'xavier'\)$/],
    ['small', { duplicates: '5' }, /^--duplicates: '5' must be "num,ratio"/],
    ['small', { taus: '200' }, /^--psi 200 gives 5 training examples, fewer than the batch 10$/],
    ['small', { iters: '5', gvarStart: '10' }, /^--gvar-start 10 must be below --iters 5$/],
  ];
  for (const [grid, raw, re] of cases) {
    let msg = '';
    try { rfSweepConfig(grid, raw); } catch (e) { msg = (e as Error).message; assert.is((e as Error).name, 'UsageError'); }
    assert.match(msg, re);
    assert.not.match(msg, /\n/);
  }
});

test('banks hold whole feature groups (seed, dim) within the byte budget', () => {
  const c = rfSweepConfig('paper', {});
  const runs = expandRuns(c);
  const rowBytes = 1000 * 4;
  const banks = planBanks(runs, c, (10000 + 10000) * rowBytes); // one group per bank
  assert.is(banks.length, 6);
  assert.is(banks.reduce((s, b) => s + b.length, 0), runs.length);
  for (const b of banks) assert.is(new Set(b.map((r) => `${r.seed}|${r.dim}`)).size, 1);
  assert.is(planBanks(runs, c, 2 ** 40).length, 1);
  assert.is(new Set(runs.map((r) => r.key)).size, runs.length, 'keys are unique');
});

test('reduce70: max and mean of the last 70 % (from ceil(0.3·n))', () => {
  const xs = Array.from({ length: 10 }, (_, i) => i + 1);
  const tail = xs.slice(Math.ceil(0.3 * xs.length));
  assert.equal(reduce70(xs), { max_70: Math.max(...tail), mean_70: tail.reduce((s, v) => s + v, 0) / tail.length });
  assert.equal(reduce70([5, 1]), { max_70: 1, mean_70: 1 });
  assert.ok(Number.isNaN(reduce70([]).max_70));
});

test('aggregate: mean and population std over seeds × dims × teachers, per lr, ψ and estimator', () => {
  const red = (v: number) => ({ var: { max_70: v, mean_70: v / 2 }, nvar: { max_70: 1, mean_70: 1 } });
  const row = (seed: number, lr: number, v: number) => ({
    seed, lr, psi: 2, duplicates: null, reductions: { 'SG-B': red(v), 'SG-2B': red(v / 2), SVRG: red(v / 4), GC: red(v / 3) },
  }) as unknown as RfRunRow;
  const pts = aggregate([row(1, 0.1, 2), row(2, 0.1, 4), row(1, 0.01, 8)]);
  const p = pts.find((x) => x.lr === 0.1 && x.estimator === 'SG-B' && x.stat === 'var' && x.reduction === 'max_70')!;
  assert.equal([p.mean, p.std, p.n], [3, 1, 2]);
  const q = pts.find((x) => x.lr === 0.01 && x.estimator === 'GC' && x.stat === 'var' && x.reduction === 'mean_70')!;
  assert.equal([q.mean, q.std, q.n], [8 / 3 / 2, 0, 1]);
});

test.run();
