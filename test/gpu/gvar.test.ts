// shaders/gvar.wgsl against its float64 references, and VarianceStats (SPEC 2.5's variance
// measurement on the GPU) against SPEC 2.5 written literally, on the same draws.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { gvarCheck, varianceStatsCheck, type GvarCase } from '../../src/checks/gvar.ts';
import { gvarKernel, gvarMoments, gvarPartials, absDiffPartials, partialGroups } from '../../src/kernels/gvar.ts';
import { VarianceStats } from '../../src/estimators/variance_stats.ts';

const ops = ['gvar_moments', 'gvar_partials', 'abs_diff_partials'] as const;

// Odd sizes: one element, fewer than a workgroup, a ~1M-parameter vector (the partial-sum
// kernels then run the grid-stride loop: 1024 groups × 256 lanes, ~4 terms each).
for (const op of ops) {
  for (const P of [1, 37, 1000003]) {
    const check = gvarCheck({ op, P }, P % 97);
    test(`${check.name}${P > 1e6 ? ' (large)' : ''}`, () => expectPass(check));
  }
}
// Workgroup shapes and group caps: one lane, odd lane counts are refused (below), one group
// for everything, a cap that leaves a ragged last stride, > 65535 groups for moments (2-D grid).
for (const c of [
  { op: 'gvar_partials', P: 1001, wg: 1 },
  { op: 'gvar_partials', P: 1001, wg: 32, maxGroups: 1 },
  { op: 'gvar_partials', P: 100003, wg: 64, maxGroups: 7 },
  { op: 'abs_diff_partials', P: 1001, wg: 2, maxGroups: 3 },
  { op: 'abs_diff_partials', P: 100003, maxGroups: 65535 },
  { op: 'gvar_moments', P: 70001, wg: 1 },
] satisfies GvarCase[]) {
  const check = gvarCheck(c, 11);
  test(check.name, () => expectPass(check));
}

// finish() against varianceStatsRef on the same draws, grad_bias included.
for (const c of [{ P: 1, n: 2 }, { P: 37, n: 5 }, { P: 1000003, n: 3 }, { P: 4099, n: 4, maxGroups: 5 }]) {
  const check = varianceStatsCheck(c, c.P % 89);
  test(`${check.name}${c.P > 1e6 ? ' (large)' : ''}`, () => expectPass(check));
}

test('gvar pipelines compile', async () => {
  const { sched } = await testGpu();
  for (const op of ops) await sched.pipelines.compile(gvarKernel(op));
});

test('partialGroups: min(ceil(P / wg), maxGroups)', () => {
  assert.is(partialGroups(1), 1);
  assert.is(partialGroups(256), 1);
  assert.is(partialGroups(257), 2);
  assert.is(partialGroups(2_000_000), 1024);
  assert.is(partialGroups(1000, { wg: 8, maxGroups: 100 }), 100);
});

test('VarianceStats: repeated measurements re-use its buffers and keep E for comparisons', async () => {
  const { sched } = await testGpu();
  const P = 5;
  const vs = new VarianceStats(sched, P);
  const g = sched.alloc(P);
  for (let rep = 0; rep < 2; rep++) {
    // Constant draws c·1: E = c·1, V = 0 (var = nvar = 0), S = n·c², snr = log(S + 1e-10) − log(1e-10).
    const c = rep + 1, n = 3;
    sched.upload(g, new Float32Array(P).fill(c));
    vs.beginMean(n);
    for (let r = 0; r < n; r++) vs.addMeanDraw(g);
    vs.beginSpread();
    for (let r = 0; r < n; r++) vs.addSpreadDraw(g);
    const s = await vs.finish();
    assert.ok(Math.abs(s.var) < 1e-12 && Math.abs(s.nvar) < 1e-6, `var ${s.var}, nvar ${s.nvar}`);
    assert.ok(Math.abs(s.gnorm - c * c) < 1e-5, `gnorm ${s.gnorm}`);
    assert.ok(Math.abs(s.snr - (Math.log(n * c * c) - Math.log(1e-10))) < 1e-3, `snr ${s.snr}`);
    sched.submit();
  }
  vs.dispose();
  sched.free(g);
  await sched.finish();
});

test('VarianceStats refuses calls out of order and draw counts that do not match n', async () => {
  const { sched } = await testGpu();
  const vs = new VarianceStats(sched, 4);
  const g = sched.alloc(4);
  assert.throws(() => vs.addMeanDraw(g), /called in the 'idle' phase, expects 'mean'/);
  assert.throws(() => vs.beginMean(0), /n must be a positive integer/);
  vs.beginMean(2);
  vs.addMeanDraw(g);
  assert.throws(() => vs.beginSpread(), /1 of 2 mean draws were added/);
  vs.addMeanDraw(g);
  assert.throws(() => vs.addMeanDraw(g), /all 2 mean draws were already added/);
  vs.beginSpread();
  vs.addSpreadDraw(g);
  let err: unknown = null;
  await vs.finish().catch((e) => (err = e));
  assert.match(String(err), /1 of 2 spread draws were added/);
  vs.dispose();
  sched.free(g);
  await sched.finish();
});

test('gvar rejects bad sizes, configurations and buffers before the GPU', async () => {
  const { sched } = await testGpu();
  const x = sched.alloc(10), y = sched.alloc(10), S = sched.alloc(10), V = sched.alloc(9), p = sched.alloc(4);
  assert.throws(() => gvarMoments(sched, { g: x, E: y, S, V }), /binding 'V' holds 9 elements, these params need 10/);
  assert.throws(() => gvarPartials(sched, { S: x, V: y, partials: p }, { P: 10, wg: 4 }), /binding 'partials' holds 4 elements, these params need 12/);
  assert.throws(() => gvarPartials(sched, { S: x, V: y, partials: p }, { P: 0 }), /P must be a positive integer, got 0/);
  assert.throws(() => gvarPartials(sched, { S: x, V: y, partials: p }, { nvarEps: 0 }), /nvarEps must be a positive finite number/);
  assert.throws(() => absDiffPartials(sched, { a: x, b: y, partials: x }), /'a' \(read\) and 'partials' \(written\) share one GPUBuffer/);
  assert.throws(() => gvarKernel('gvar_partials', { wg: 48 }), /power of two in 1\.\.256, got 48/);
  assert.throws(() => gvarKernel('gvar_partials', { maxGroups: 70000 }), /maxGroups must be an integer in 1\.\.65535/);
  for (const v of [x, y, S, V, p]) sched.free(v);
  await sched.finish();
});

test.run();
