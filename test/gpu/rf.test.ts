// shaders/rf.wgsl against its float64 reference (feature widths 4·odd, odd row, entry and job
// counts, several models per dispatch, chunks longer than a workgroup), and the RF model
// reference against central finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { rfCheck, randomRfTables, type RfCase } from '../../src/checks/rf.ts';
import { rfKernel, rfSgdStep, rfGrad, RF_OPS, rfParamStride, rfRowStride } from '../../src/kernels/rf.ts';
import { rfLossGradRef, rfGradRef, coefRef } from '../../src/reference/rf.ts';
import { gradPlan, stepPlan } from '../../src/models/rf_plans.ts';
import { Rng } from '../../src/util/rng.ts';

const cases: RfCase[] = [
  { op: 'rf_sgd_step', H: 36, M: 3, B: 5, K: 3 },
  { op: 'rf_sgd_step', H: 132, M: 5, B: 10, K: 2, eps: 0.1 },
  { op: 'rf_sgd_step', H: 4, M: 1, B: 1, K: 1 },
  { op: 'rf_grad', H: 36, M: 3, J: 7, count: 3 },
  { op: 'rf_grad', H: 68, M: 2, J: 3, count: 70, eps: 0.2 },
  { op: 'rf_coef', H: 36, M: 3, J: 9, E: 41 },
  { op: 'rf_coef', H: 132, M: 4, J: 30, E: 101, eps: 0.1 },
  { op: 'rf_scatter', H: 36, M: 2, J: 4, count: 70, C: 3 },
  { op: 'rf_scatter', H: 4, M: 1, J: 1, count: 1, C: 1 },
  { op: 'rf_gvar', H: 36, M: 1, J: 3, n: 4 },
  { op: 'rf_gvar', H: 132, M: 1, J: 2, n: 10 },
];
cases.forEach((c, i) => {
  const check = rfCheck(c, 11 + i);
  test(check.name, () => expectPass(check));
});

test('RF model reference: loss gradient (both W2 rows, both biases) matches central finite differences, with smoothing and weights', () => {
  const rng = new Rng(3);
  const H = 6;
  const { phi } = randomRfTables(rng, H, 5, 1, 1);
  const params = Array.from(rng.uniformArray(2 * H + 2, -1, 1), Number);
  const rows = [0, 3, 4, 1], labels = [0, 1, 1, 0], weights = [1, 0.5, 2, 1.5];
  for (const eps of [0, 0.1]) {
    const { grad } = rfLossGradRef(params, phi, H, rows, labels, { eps, weights });
    gradcheck((p) => rfLossGradRef(p, phi, H, rows, labels, { eps, weights }).loss, params, grad, `eps=${eps}`);
  }
});

test('the reduced gradient (u, σ) of rf_grad is the full gradient (u, −u, σ, −σ) of the reference', () => {
  const rng = new Rng(5);
  const H = 8, M = 2, E = 12;
  const { data, theta, tables } = randomRfTables(rng, H, 7, E, M, 0.1);
  const entries = [3, 5, 0, 11, 7], weights = [1, 2, 0.5, 1, 3];
  const { plan, wts } = gradPlan([{ m: 1, entries, weights }], M, E);
  const red = rfGradRef(tables, theta, new Float32Array(M * (rfParamStride(H) + rfRowStride(H))), plan, wts, { M, J: 1 });
  const p1 = theta.subarray(rfParamStride(H), rfParamStride(H) + 2 * H + 2);
  const full = rfLossGradRef(p1, tables.phi, H, entries.map((e) => data[3 * e]), entries.map((e) => data[3 * e + 1]), { eps: 0.1, weights }).grad;
  const u = red.subarray(0, H);
  const want = [...u, ...u.map((v) => -v), red[H], -red[H]];
  want.forEach((v, i) => assert.ok(Math.abs(v - full[i]) < 1e-12, `[${i}] ${v} vs ${full[i]}`));
  assert.ok(Number.isNaN(coefRef({ ...tables, data: Uint32Array.of(0, 2, 0) }, theta, 0, 0).s), 'a label ≥ 2 has no target: NaN');
});

test('rf pipelines compile', async () => {
  const { sched } = await testGpu();
  for (const op of RF_OPS) await sched.pipelines.compile(rfKernel(op));
});

test('rf rejects bad params, plans and buffers before the GPU', async () => {
  const { sched } = await testGpu();
  const H = 4, M = 2, E = 4, PS = rfParamStride(H);
  const v = (n: number) => sched.alloc(n);
  const [phi, data, plan, theta, lrs, stats, snap, wts, out] = [v(3 * H), v(3 * E), v(64), v(M * PS), v(M), v(2 * M), v(64), v(64), v(64)];
  const t = { phi, data, plan, theta, lrs, stats };
  assert.throws(() => rfSgdStep(sched, t, { H, M, E, B: 65, K: 1, item0: 0, wd: 0 }), /batch B=65 is more than 64 rows per step/);
  assert.throws(() => rfSgdStep(sched, t, { H, M, E, B: 2, K: 1, item0: 0, wd: 0, eps: 2 }), /label smoothing eps must be in \[0, 1\]/);
  assert.throws(() => rfSgdStep(sched, t, { H: 5, M, E, B: 2, K: 1, item0: 0, wd: 0 }), /H=5 must be a multiple of 4/);
  assert.throws(() => rfSgdStep(sched, t, { H, M: 3, E, B: 2, K: 1, item0: 0, wd: 0 }), /binding 'theta_rw4' holds 24 elements, these params need 36/);
  assert.throws(() => rfGrad(sched, { phi, data, plan, theta, snap, wts, out }, { H: 0, M, E, J: 1 }), /H must be a positive integer/);
  assert.throws(() => gradPlan([{ m: 0, entries: [4] }], M, E), /entry 4 \(item 0\) is not in \[0, 4\)/);
  assert.throws(() => gradPlan([{ m: 2, entries: [1] }], M, E), /model 2 is not in \[0, 2\)/);
  assert.throws(() => stepPlan([[[0, 1], [1]]], 2, E), /step 0, model 1: 1 entries for batch 2/);
  assert.throws(() => rfKernel('rf_grad', 48), /wg must be a power of two/);
  for (const x of [phi, data, plan, theta, lrs, stats, snap, wts, out]) sched.free(x);
  await sched.finish();
});

test.run();
