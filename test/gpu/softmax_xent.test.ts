import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { softmaxXentCheck, type SoftmaxXentCase } from '../../src/checks/softmax_xent.ts';
import { softmaxXent, softmaxXentKernel } from '../../src/kernels/softmax_xent.ts';
import { softmaxXentRef, smoothedTarget } from '../../src/reference/softmax_xent.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { Rng } from '../../src/util/rng.ts';

// Odd batch sizes against the 64/32-row workgroups; K from 1 (a trivial softmax) through the
// defaults' switches to 4 lanes per row (K = 130) and 8 lanes (K = 513), never a multiple.
for (const [B, K] of [[1, 1], [1, 2], [7, 10], [37, 3], [65, 31], [33, 130], [5, 513]]) {
  const check = softmaxXentCheck({ B, K }, B * 13 + K);
  test(check.name, () => expectPass(check));
}
for (const c of [
  { B: 37, K: 10, smoothing: 0.1 },
  { B: 37, K: 10, smoothing: 0.1, weights: true, dscale: 0.5 },
  { B: 19, K: 2, smoothing: 0.3, weights: true },
  { B: 37, K: 100, smoothing: 0.05, weights: true, dscale: 1 },
  // lane/row shapes: odd lanes (a lane may own no column), one row per group, all 256 lanes
  { B: 37, K: 10, lanes: 3, rows: 5, smoothing: 0.1, weights: true },
  { B: 21, K: 300, lanes: 256, rows: 1 },
  { B: 67, K: 7, lanes: 1, rows: 1 },
  // tied maxima (argmax = the first), within one lane and across lanes
  { B: 65, K: 31, ties: true },
  { B: 37, K: 10, lanes: 3, rows: 5, ties: true },
  { B: 33, K: 130, ties: true },
  // labels ≥ K come back as NaN rows, the rest of the batch is unaffected
  { B: 9, K: 5, badRows: [0, 4], weights: true },
  { B: 9, K: 100, badRows: [8], smoothing: 0.1 },
] satisfies SoftmaxXentCase[]) {
  const check = softmaxXentCheck(c, 3);
  test(check.name, () => expectPass(check));
}
// Large: ImageNet-sized K at the paper's batch, and a 10-class evaluation batch of 10007 rows.
for (const c of [
  { B: 128, K: 1000, smoothing: 0.1 },
  { B: 10007, K: 10, weights: true },
] satisfies SoftmaxXentCase[]) {
  const check = softmaxXentCheck(c, 5);
  test(`${check.name} (large)`, () => expectPass(check));
}

test('softmax_xent dlogits reference matches central finite differences of dscale·Σ loss', () => {
  const rng = new Rng(8);
  for (const [K, eps, weighted] of [[5, 0, false], [5, 0.2, true], [2, 0.1, true], [1, 0, false]] as const) {
    const B = 3, dscale = 0.7;
    const z = Array.from(rng.uniformArray(B * K, -3, 3), Number);
    const labels = Array.from({ length: B }, () => rng.int(K));
    const weights = weighted ? Array.from(rng.uniformArray(B, 0.5, 2), Number) : null;
    const args = { B, K, smoothing: eps, dscale, weights };
    const f = (zs: number[]) => dscale * softmaxXentRef(zs, labels, args).loss.reduce((s, v) => s + v, 0);
    gradcheck(f, z, softmaxXentRef(z, labels, args).dlogits, `dlogits K=${K} eps=${eps} weighted=${weighted}`);
  }
});

test('softmax_xent reference loss is −Σ q log softmax computed plainly', () => {
  const z = [1, 2, 3, 0.5, -1, 4];
  const { loss } = softmaxXentRef(z, [2, 0], { B: 2, K: 3, smoothing: 0.2 });
  for (let i = 0; i < 2; i++) {
    const row = z.slice(3 * i, 3 * i + 3);
    const s = row.reduce((a, v) => a + Math.exp(v), 0);
    const q = smoothedTarget([2, 0][i], 3, 0.2);
    const want = -row.reduce((a, v, k) => a + q[k] * Math.log(Math.exp(v) / s), 0);
    assert.ok(Math.abs(loss[i] - want) < 1e-12, `row ${i}: ${loss[i]} vs ${want}`);
  }
  assert.equal(Array.from(smoothedTarget(1, 3, 0.2)), [0.1, 0.8, 0.1]);
});

test('softmax_xent pipelines compile', async () => {
  const { sched } = await testGpu();
  for (const weights of [false, true]) await sched.pipelines.compile(softmaxXentKernel({ weights }));
});

test('softmax_xent rejects bad inputs before the GPU', async () => {
  const { sched } = await testGpu();
  const z = sched.alloc(12), l = sched.alloc(4), w = sched.alloc(3);
  const loss = sched.alloc(4), dz = sched.alloc(12), ok = sched.alloc(4);
  const bufs = { logits: z, labels: l, loss, dlogits: dz, correct: ok };
  assert.throws(() => softmaxXent(sched, bufs, { B: 4, K: 4 }), /binding 'logits' holds 12 elements, these params need 16/);
  assert.throws(() => softmaxXent(sched, { ...bufs, weights: w }, { B: 4, K: 3 }), /binding 'weights' holds 3 elements, these params need 4/);
  assert.throws(() => softmaxXent(sched, { ...bufs, correct: w }, { B: 4, K: 3 }), /binding 'correct' holds 3 elements, these params need 4/);
  assert.throws(() => softmaxXent(sched, bufs, { B: 0, K: 3 }), /B must be a positive integer, got 0/);
  assert.throws(() => softmaxXent(sched, bufs, { B: 4, K: 0 }), /K must be a positive integer, got 0/);
  assert.throws(() => softmaxXent(sched, bufs, { B: 4, K: 3, smoothing: 1 }), /label smoothing must be in \[0, 1\), got 1/);
  assert.throws(() => softmaxXent(sched, bufs, { B: 4, K: 3, smoothing: -0.1 }), /label smoothing must be in \[0, 1\)/);
  assert.throws(() => softmaxXent(sched, bufs, { B: 4, K: 3, smoothing: NaN }), /label smoothing must be in \[0, 1\)/);
  assert.throws(() => softmaxXent(sched, bufs, { B: 4, K: 1, smoothing: 0.1 }), /label smoothing needs K ≥ 2 classes/);
  assert.throws(() => softmaxXent(sched, bufs, { B: 4, K: 3, dscale: Infinity }), /dscale must be a finite number/);
  assert.throws(() => softmaxXent(sched, { ...bufs, dlogits: z }, { B: 4, K: 3 }), /'logits' \(read\) and 'dlogits' \(written\) share one GPUBuffer/);
  assert.throws(() => softmaxXent(sched, bufs, { B: 4, K: 3, lanes: 32, rows: 16 }), /more than 256 invocations/);
  for (const v of [z, l, w, loss, dz, ok]) sched.free(v);
  await sched.finish();
});

test.run();
