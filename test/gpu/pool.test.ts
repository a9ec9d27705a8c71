import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { poolCheck, type PoolCase } from '../../src/checks/pool.ts';
import { globalAvgPool, globalAvgPoolBackward, maxPool, maxPoolBackward, poolKernel, poolOutSize, allPoolKernels } from '../../src/kernels/pool.ts';
import { globalAvgPoolRef, globalAvgPoolBackwardRef, maxPoolRef, maxPoolBackwardRef } from '../../src/reference/pool.ts';
import { Rng } from '../../src/util/rng.ts';

const cases: PoolCase[] = [
  // global average: ResNet8/32's 8×8 head, ResNet18's 7×7, a single element, odd non-square
  { op: 'avg', B: 3, Cch: 5, H: 8, W: 8 },
  { op: 'avg', B: 2, Cch: 7, H: 7, W: 7 },
  { op: 'avg', B: 1, Cch: 1, H: 1, W: 1 },
  { op: 'avg', B: 5, Cch: 13, H: 5, W: 9 },
  { op: 'avg', B: 3, Cch: 5, H: 7, W: 7, wgX: 1, wgY: 1 },
  { op: 'avg', B: 3, Cch: 5, H: 7, W: 7, wgX: 3, wgY: 7 },
  { op: 'avg', B: 3, Cch: 5, H: 9, W: 11, wgX: 64, wgY: 4 },
  { op: 'avg', B: 3, Cch: 5, H: 7, W: 7, wg: 33 },
  // max: ResNet18's stem 3×3/2/1 and the MNIST CNN's 2×2/2/0 at odd sizes (the last odd row
  // and column dropped), heavy overlap, the largest allowed padding, a 1×1 identity
  { op: 'max', B: 2, Cch: 3, H: 11, W: 13, k: 3, s: 2, p: 1 },
  { op: 'max', B: 3, Cch: 5, H: 9, W: 7, k: 2, s: 2, p: 0 },
  { op: 'max', B: 2, Cch: 3, H: 10, W: 7, k: 3, s: 1, p: 1 },
  { op: 'max', B: 1, Cch: 4, H: 9, W: 12, k: 4, s: 3, p: 2 },
  { op: 'max', B: 2, Cch: 3, H: 11, W: 9, k: 5, s: 3, p: 2 },
  { op: 'max', B: 2, Cch: 3, H: 5, W: 6, k: 1, s: 1, p: 0 },
  { op: 'max', B: 1, Cch: 1, H: 3, W: 3, k: 3, s: 2, p: 0 },
  { op: 'max', B: 2, Cch: 3, H: 11, W: 13, k: 3, s: 2, p: 1, wg: 37 },
  // ties: every window holds repeated values; the first in row-major order must win
  { op: 'max', B: 2, Cch: 3, H: 11, W: 13, k: 3, s: 2, p: 1, ties: true },
  { op: 'max', B: 3, Cch: 5, H: 9, W: 7, k: 2, s: 2, p: 0, ties: true },
];
for (const [i, c] of cases.entries()) {
  const check = poolCheck(c, 100 + i);
  test(check.name, () => expectPass(check));
}
// More than 65535 workgroups: grid1d folds them into a 2-D grid.
for (const c of [
  { op: 'avg', B: 7, Cch: 10001, H: 1, W: 2, wgX: 2, wgY: 1 },
  { op: 'max', B: 1, Cch: 1, H: 300, W: 250, k: 1, s: 1, p: 0, wg: 1 },
] satisfies PoolCase[]) {
  const check = poolCheck(c, 9);
  test(check.name, () => expectPass(check));
}
// Large: the ResNet18 stem's pool on a 57×57 map, and a CIFAR head at B = 128.
for (const c of [
  { op: 'max', B: 4, Cch: 8, H: 57, W: 57, k: 3, s: 2, p: 1 },
  { op: 'avg', B: 128, Cch: 64, H: 8, W: 8 },
] satisfies PoolCase[]) {
  const check = poolCheck(c, 11);
  test(`${check.name} (large)`, () => expectPass(check));
}

test('max pool on a constant input picks each window\'s first real position', async () => {
  const { sched } = await testGpu();
  const sh = { B: 1, Cch: 2, H: 7, W: 6, k: 3, s: 2, p: 1 };
  const OH = poolOutSize(sh.H, sh.k, sh.s, sh.p), OW = poolOutSize(sh.W, sh.k, sh.s, sh.p);
  const x = sched.alloc(2 * 7 * 6), out = sched.alloc(2 * OH * OW), idx = sched.alloc(2 * OH * OW);
  sched.upload(x, new Float32Array(2 * 7 * 6).fill(0.5));
  maxPool(sched, { x, out, idx }, sh);
  const got = Array.from(await sched.readU32(idx));
  const want: number[] = [];
  for (let q = 0; q < 2; q++) {
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) want.push(Math.max(oh * 2 - 1, 0) * sh.W + Math.max(ow * 2 - 1, 0));
  }
  assert.equal(got, want);
  for (const v of [x, out, idx]) sched.free(v);
});

test('pool backward references match central finite differences of Σ out·dout', () => {
  const rng = new Rng(3);
  const avg = { B: 2, Cch: 3, H: 3, W: 5 };
  const xa = Array.from(rng.uniformArray(2 * 3 * 15), Number);
  const da = Array.from(rng.uniformArray(6), Number);
  const lossA = (xs: number[]) => globalAvgPoolRef(xs, avg).reduce((s, v, i) => s + v * da[i], 0);
  gradcheck(lossA, xa, globalAvgPoolBackwardRef(da, avg), 'avgpool dx');
  for (const sh of [{ B: 2, Cch: 2, H: 7, W: 6, k: 3, s: 2, p: 1 }, { B: 1, Cch: 3, H: 5, W: 7, k: 2, s: 2, p: 0 }]) {
    // Distinct values (a shuffled ramp): the max is locally linear, so differences are exact.
    const n = sh.B * sh.Cch * sh.H * sh.W;
    const xm = rng.shuffle(Array.from({ length: n }, (_, i) => i / n));
    const ref = maxPoolRef(xm, sh);
    const dm = Array.from(rng.uniformArray(ref.out.length), Number);
    const lossM = (xs: number[]) => maxPoolRef(xs, sh).out.reduce((s, v, i) => s + v * dm[i], 0);
    gradcheck(lossM, xm, maxPoolBackwardRef(dm, ref.idx, sh), `maxpool dx k=${sh.k} s=${sh.s} p=${sh.p}`);
  }
});

test('pool rejects bad shapes and buffers before the GPU', async () => {
  const { sched } = await testGpu();
  const x = sched.alloc(2 * 3 * 7 * 7), o = sched.alloc(6), small = sched.alloc(5), idx = sched.alloc(2 * 3 * 16);
  const sh = { B: 2, Cch: 3, H: 7, W: 7 };
  assert.throws(() => globalAvgPool(sched, { x, out: small }, sh), /binding 'out' holds 5 elements, these params need 6/);
  assert.throws(() => globalAvgPool(sched, { x, out: o }, { ...sh, H: 8 }), /binding 'x' holds 294 elements, these params need 336/);
  assert.throws(() => globalAvgPoolBackward(sched, { dout: small, dx: x }, sh), /binding 'dout' holds 5 elements/);
  assert.throws(() => globalAvgPool(sched, { x, out: o }, { ...sh, Cch: 0 }), /Cch must be a positive integer, got 0/);
  assert.throws(() => globalAvgPool(sched, { x, out: o }, { ...sh, W: 2.5 }), /W must be a positive integer/);
  const out = sched.alloc(2 * 3 * 16);
  const mp = { ...sh, k: 3, s: 2, p: 1 };
  assert.throws(() => maxPool(sched, { x, out, idx }, { ...mp, p: 2 }), /padding p must be an integer in 0\.\.1/);
  assert.throws(() => maxPool(sched, { x, out, idx }, { ...mp, s: 0 }), /stride s must be a positive integer/);
  assert.throws(() => maxPool(sched, { x, out, idx }, { ...mp, k: 9, p: 0 }), /window does not fit/);
  assert.throws(() => maxPool(sched, { x, out, idx: small }, mp), /binding 'idx_out' holds 5 elements, these params need 96/);
  assert.throws(() => maxPoolBackward(sched, { dout: out, idx, dx: small }, mp), /binding 'dx' holds 5 elements, these params need 294/);
  assert.throws(() => maxPool(sched, { x, out: x, idx }, mp), /'x' \(read\) and 'out' \(written\) share one GPUBuffer/);
  assert.throws(() => poolKernel('avgpool_forward', { wgX: 32, wgY: 16 }), /more than 256 invocations/);
  assert.throws(() => poolKernel('maxpool_forward', { wg: 0 }), /wg must be an integer in 1\.\.256/);
  for (const v of [x, o, small, idx, out]) sched.free(v);
  await sched.finish();
});

test('pool pipelines compile', async () => {
  const { sched } = await testGpu();
  for (const k of allPoolKernels()) await sched.pipelines.compile(k);
});

test.run();
