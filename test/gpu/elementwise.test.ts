import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { elementwiseCheck, type ElementwiseCase } from '../../src/checks/elementwise.ts';
import { elementwiseKernel, reluForward, reluBackward, axpy, scale, fill } from '../../src/kernels/elementwise.ts';
import { reluRef, reluBackwardRef } from '../../src/reference/elementwise.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { Rng } from '../../src/util/rng.ts';

// Odd sizes around the 256-wide workgroup: one element, less than one group, one past a
// multiple, and a few thousand.
const sizes = [1, 7, 255, 257, 4099];
const ops = ['relu_forward', 'relu_backward', 'axpy', 'scale', 'fill', 'square'] as const;
for (const op of ops) {
  for (const n of sizes) {
    const c: ElementwiseCase = { op, n, a: op === 'axpy' || op === 'scale' || op === 'fill' ? -0.75 : undefined };
    const check = elementwiseCheck(c, n + 17);
    test(check.name, () => expectPass(check));
  }
}
// Small workgroups (odd, not a power of two) and a 2-D grid: 70001 single-invocation groups
// exceed 65535 per dimension, so grid1d folds them into 35001 × 2 (one group past n).
for (const c of [
  { op: 'axpy', n: 1001, a: 2.5, wg: 7 },
  { op: 'relu_forward', n: 70001, wg: 1 },
  { op: 'fill', n: 70001, a: 3, wg: 1 },
] satisfies ElementwiseCase[]) {
  const check = elementwiseCheck(c, 9);
  test(check.name, () => expectPass(check));
}
// Large: ~1e6 with the default workgroup, and 2.1e6 at wg=32 (65664 groups → a 2-D grid).
for (const c of [
  { op: 'relu_backward', n: 1_000_003 },
  { op: 'axpy', n: 65535 * 32 + 4097, a: -1.25, wg: 32 },
] satisfies ElementwiseCase[]) {
  const check = elementwiseCheck(c, 21);
  test(`${check.name} (large)`, () => expectPass(check));
}

test('relu backward reference matches central finite differences of Σ relu(x)·dy', () => {
  const rng = new Rng(3);
  // Keep |x| ≥ 0.05 so x ± h never crosses the kink at 0.
  const x = Array.from(rng.uniformArray(40), (v) => (v >= 0 ? v + 0.05 : v - 0.05));
  x[3] = 0.2; x[4] = -0.2; // both signs for sure
  const dy = Array.from(rng.uniformArray(40), Number);
  const loss = (xs: number[]) => reluRef(xs).reduce((s, v, i) => s + v * dy[i], 0);
  gradcheck(loss, x, reluBackwardRef(reluRef(x), dy), 'relu dx');
});

test('elementwise pipelines compile for every op', async () => {
  const { sched } = await testGpu();
  for (const op of ops) await sched.pipelines.compile(elementwiseKernel(op));
});

test('elementwise ops reject bad inputs before the GPU', async () => {
  const { sched } = await testGpu();
  const a = sched.alloc(10), b = sched.alloc(12), c = sched.alloc(10);
  assert.throws(() => reluForward(sched, { x: a, y: b }), /binding 'x' holds 10 elements, these params need 12/);
  assert.throws(() => reluForward(sched, { x: a, y: c }, { n: 0 }), /n must be a positive integer, got 0/);
  assert.throws(() => reluForward(sched, { x: a, y: c }, { n: 2.5 }), /n must be a positive integer/);
  assert.throws(() => reluForward(sched, { x: a, y: a }), /'x' \(read\) and 'y' \(written\) share one GPUBuffer/);
  assert.throws(() => reluBackward(sched, { y: a, dy: b, dx: c }, { n: 11 }), /binding 'y_fwd' holds 10 elements, these params need 11/);
  assert.throws(() => reluBackward(sched, { y: a, dy: c, dx: c }), /'dy' \(read\) and 'dx' \(written\) share one GPUBuffer/);
  assert.throws(() => axpy(sched, { x: a, y: c }, { a: NaN }), /a must be a finite number, got NaN/);
  assert.throws(() => axpy(sched, { x: a, y: b }, { a: 1 }), /binding 'x' holds 10 elements, these params need 12/);
  assert.throws(() => scale(sched, { x: a }, { a: 2, n: 11 }), /binding 'x_inout' holds 10 elements, these params need 11/);
  assert.throws(() => fill(sched, { x: a }, { value: Infinity }), /value must be a finite number/);
  assert.throws(() => fill(sched, { x: a }, { value: 1, wg: 512 }), /workgroup size must be an integer in 1..256/);
  assert.throws(() => fill(sched, { x: a }, { value: 1, wg: 0 }), /workgroup size must be an integer in 1..256/);
  for (const v of [a, b, c]) sched.free(v);
  await sched.finish(); // nothing invalid reached the queue
});

test.run();
