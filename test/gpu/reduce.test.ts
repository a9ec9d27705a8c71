import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { reduceCheck, type ReduceCase } from '../../src/checks/reduce.ts';
import { colsum, rowsumsq, rowdot, reduceKernel } from '../../src/kernels/reduce.ts';
import { colsumRef, addBiasRef } from '../../src/reference/reduce.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { Rng } from '../../src/util/rng.ts';

// Odd shapes (every op): single element, neither axis a multiple of any workgroup dimension, one long
// thin axis each way.
const shapes: Array<[number, number]> = [[1, 1], [37, 29], [5, 130], [130, 3], [67, 257]];
for (const op of ['colsum', 'rowsumsq', 'rowdot'] as const) {
  for (const [R, Cc] of shapes) {
    const check = reduceCheck({ op, R, Cc }, R * 31 + Cc);
    test(check.name, () => expectPass(check));
  }
  for (const c of [
    { R: 37, Cc: 29, beta: 1 },
    { R: 37, Cc: 29, alpha: 0.5, beta: -0.5 },
    // workgroup shapes: degenerate, odd, all lanes on one axis
    { R: 37, Cc: 29, wgX: 1, wgY: 1 },
    { R: 37, Cc: 29, wgX: 7, wgY: 3 },
    { R: 67, Cc: 257, wgX: 256, wgY: 1 },
    { R: 67, Cc: 257, wgX: 1, wgY: 256 },
  ]) {
    const check = reduceCheck({ op, ...c }, 7);
    test(check.name, () => expectPass(check));
  }
}
// More than 65535 workgroups along the kept axis: grid1d folds them into a 2-D grid.
for (const c of [
  { op: 'colsum', R: 3, Cc: 70001, wgX: 1, wgY: 2 },
  { op: 'rowsumsq', R: 70001, Cc: 3, wgX: 2, wgY: 1 },
  { op: 'rowdot', R: 70001, Cc: 3, wgX: 2, wgY: 1 },
] satisfies ReduceCase[]) {
  const check = reduceCheck(c, 5);
  test(check.name, () => expectPass(check));
}
// Large: a ~1e6-element matrix each way, and the paper MLP's bias gradient (B=128, 1024 units).
for (const c of [
  { op: 'colsum', R: 1000, Cc: 1003 },
  { op: 'rowsumsq', R: 1003, Cc: 1000 },
  { op: 'rowdot', R: 1003, Cc: 1000 },
  { op: 'colsum', R: 128, Cc: 1024, beta: 1 },
] satisfies ReduceCase[]) {
  const check = reduceCheck(c, 13);
  test(`${check.name} (large)`, () => expectPass(check));
}

test('colsum is the bias gradient: central finite differences of Σ (x + b)·dy over b', () => {
  const rng = new Rng(4);
  const R = 6, Cc = 5;
  const x = Array.from(rng.uniformArray(R * Cc), Number);
  const b = Array.from(rng.uniformArray(Cc), Number);
  const dy = Array.from(rng.uniformArray(R * Cc), Number);
  const loss = (bs: number[]) => addBiasRef(x, bs, R, Cc).reduce((s, v, i) => s + v * dy[i], 0);
  gradcheck(loss, b, colsumRef(dy, { R, Cc }), 'db');
});

test('reduce pipelines compile', async () => {
  const { sched } = await testGpu();
  for (const op of ['colsum', 'rowsumsq', 'rowdot'] as const) await sched.pipelines.compile(reduceKernel(op));
});

test('reduce rejects bad shapes and buffers before the GPU', async () => {
  const { sched } = await testGpu();
  const X = sched.alloc(12), o = sched.alloc(4), o3 = sched.alloc(3);
  assert.throws(() => colsum(sched, { X, out: o }, { R: 3, Cc: 5 }), /binding 'X' holds 12 elements, these params need 15/);
  assert.throws(() => colsum(sched, { X, out: o3 }, { R: 3, Cc: 4 }), /binding 'out' holds 3 elements, these params need 4/);
  assert.throws(() => rowsumsq(sched, { X, out: o3 }, { R: 4, Cc: 3 }), /binding 'out' holds 3 elements, these params need 4/);
  assert.throws(() => colsum(sched, { X, out: o }, { R: 0, Cc: 4 }), /sizes must be positive integers, got R=0 Cc=4/);
  assert.throws(() => rowsumsq(sched, { X, out: o }, { R: 4, Cc: 1.5 }), /sizes must be positive integers/);
  assert.throws(() => colsum(sched, { X, out: X }, { R: 3, Cc: 4 }), /'X' \(read\) and 'out' \(written\) share one GPUBuffer/);
  assert.throws(() => colsum(sched, { X, out: o }, { R: 3, Cc: 4, beta: NaN }), /beta must be a finite number/);
  assert.throws(() => colsum(sched, { X, out: o }, { R: 3, Cc: 4, wgX: 32, wgY: 16 }), /more than 256 invocations/);
  assert.throws(() => rowsumsq(sched, { X, out: o }, { R: 4, Cc: 3, wgX: 0 }), /wgX must be a positive integer/);
  assert.throws(() => rowdot(sched, { X, Y: o3, out: o }, { R: 4, Cc: 3 }), /binding 'Y' holds 3 elements, these params need 12/);
  assert.throws(() => rowdot(sched, { X, Y: X, out: o3 }, { R: 4, Cc: 3 }), /binding 'out_dot' holds 3 elements, these params need 4/);
  assert.throws(() => rowdot(sched, { X, Y: X, out: X }, { R: 4, Cc: 3 }), /'X' \(read\) and 'out_dot' \(written\) share one GPUBuffer/);
  for (const v of [X, o, o3]) sched.free(v);
  await sched.finish();
});

test('rowdot of a matrix with itself is rowsumsq (one buffer bound twice, read-only)', async () => {
  const { sched } = await testGpu();
  const R = 37, Cc = 29;
  const X = sched.alloc(R * Cc), a = sched.alloc(R), b = sched.alloc(R);
  sched.upload(X, new Rng(9).uniformArray(R * Cc));
  rowdot(sched, { X, Y: X, out: a }, { R, Cc });
  rowsumsq(sched, { X, out: b }, { R, Cc });
  assert.equal(Array.from(await sched.read(a)), Array.from(await sched.read(b)));
  for (const v of [X, a, b]) sched.free(v);
});

test.run();
