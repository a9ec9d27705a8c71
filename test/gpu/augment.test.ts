// augment_crop_flip against its float64 reference (bit-exact: it only moves data) on odd sizes,
// every extreme crop corner with and without a flip, the real CIFAR batch, plus the host-side
// offset draws and the reference's own meaning (identity, pure flip, pure shift).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { augmentCheck, extremeOffsets, type AugmentCase } from '../../src/checks/augment.ts';
import { augment, augmentFill, augmentKernel, drawAugmentOffsets } from '../../src/kernels/augment.ts';
import { augmentRef } from '../../src/reference/augment.ts';
import { Rng } from '../../src/util/rng.ts';

for (const c of [
  { B: 3, C: 3, H: 9, W: 9, pad: 2 },
  { B: 9, C: 3, H: 9, W: 9, pad: 2, offsets: 'extremes' },
  { B: 18, C: 1, H: 7, W: 11, pad: 3, offsets: 'extremes' },
  { B: 5, C: 2, H: 3, W: 4, pad: 5 }, // padding wider than the image: some crops hold only fill
  { B: 9, C: 2, H: 3, W: 4, pad: 5, offsets: 'extremes' },
  { B: 7, C: 3, H: 5, W: 6, pad: 0 }, // no padding: only flips
  { B: 1, C: 1, H: 1, W: 1, pad: 1 },
  { B: 3, C: 3, H: 9, W: 9, pad: 2, wgX: 4, wgY: 3 }, // workgroups smaller than a row
  { B: 3, C: 3, H: 9, W: 9, pad: 2, wgX: 1, wgY: 1 },
  { B: 128, C: 3, H: 32, W: 32, pad: 4 }, // the CIFAR train batch
] satisfies AugmentCase[]) {
  const check = augmentCheck(c, c.B * 7 + c.pad);
  test(check.name, () => expectPass(check));
}

test('more than 65535 examples: the grid-stride loop over b covers those past the last layer', () =>
  expectPass(augmentCheck({ B: 70001, C: 2, H: 1, W: 2, pad: 1, wgX: 2, wgY: 1 }, 3)));

test('reference: centre crop without flip is the identity; pad 0 with flip mirrors each row', () => {
  const a = { B: 2, C: 3, H: 4, W: 5, pad: 2 };
  const x = new Rng(1).uniformArray(2 * 3 * 4 * 5);
  const fill = [-1, -2, -3];
  assert.equal(Array.from(augmentRef(x, [2, 2, 0, 2, 2, 0], fill, a)), Array.from(x, Number));
  const m = augmentRef(x, [0, 0, 1, 0, 0, 1], fill, { ...a, pad: 0 });
  for (let r = 0; r < 2 * 3 * 4; r++) {
    for (let j = 0; j < 5; j++) assert.is(m[r * 5 + j], x[r * 5 + 4 - j]);
  }
});

test('reference: corner (0, 0) shifts the image down-right by pad, the border is fill[c]', () => {
  const a = { B: 1, C: 2, H: 4, W: 5, pad: 1 };
  const x = new Rng(2).uniformArray(2 * 4 * 5);
  const fill = [-7, -8];
  const o = augmentRef(x, [0, 0, 0], fill, a);
  for (let c = 0; c < 2; c++) {
    for (let y = 0; y < 4; y++) {
      for (let j = 0; j < 5; j++) {
        const want = y === 0 || j === 0 ? fill[c] : x[c * 20 + (y - 1) * 5 + j - 1];
        assert.is(o[c * 20 + y * 5 + j], want, `c=${c} y=${y} x=${j}`);
      }
    }
  }
});

test('extremeOffsets covers the 4 corners × flip and the centre', () => {
  const o = extremeOffsets(9, 3);
  const seen = new Set(Array.from({ length: 9 }, (_, b) => `${o[3 * b]},${o[3 * b + 1]},${o[3 * b + 2]}`));
  for (const dy of [0, 6]) for (const dx of [0, 6]) for (const f of [0, 1]) assert.ok(seen.has(`${dy},${dx},${f}`), `${dy},${dx},${f}`);
  assert.ok(seen.has('3,3,1'));
});

test('drawAugmentOffsets: dy, dx uniform on [0, 2·pad], flips at rate 1/2, reproducible', () => {
  const B = 9000, pad = 4;
  const o = drawAugmentOffsets(new Rng(5), B, pad);
  assert.equal(Array.from(drawAugmentOffsets(new Rng(5), B, pad)), Array.from(o));
  const counts = [new Array(9).fill(0), new Array(9).fill(0)];
  let flips = 0;
  for (let b = 0; b < B; b++) {
    counts[0][o[3 * b]]++;
    counts[1][o[3 * b + 1]]++;
    flips += o[3 * b + 2];
    assert.ok(o[3 * b + 2] <= 1);
  }
  // Each of the 9 values has count ~ Binomial(9000, 1/9): mean 1000, sd ≈ 31; 5 sd bounds.
  for (const cs of counts) for (const k of cs) assert.ok(Math.abs(k - 1000) < 160, `value counts ${cs}`);
  assert.ok(Math.abs(flips - B / 2) < 5 * Math.sqrt(B / 4), `flips ${flips}`);
  const none = drawAugmentOffsets(new Rng(5), 50, 0, 0);
  assert.ok(none.every((v) => v === 0), 'pad 0 and flipProb 0 draw nothing but zeros');
});

test('augment rejects bad shapes and buffers before the GPU', async () => {
  const { sched } = await testGpu();
  const x = sched.alloc(2 * 3 * 4 * 5), o = sched.alloc(6), f = sched.alloc(3), out = sched.alloc(2 * 3 * 4 * 5);
  const a = { B: 2, C: 3, H: 4, W: 5, pad: 2 };
  assert.throws(() => augment(sched, { x, offsets: o, fill: f, out }, { ...a, B: 3 }), /binding 'x' holds 120 elements, these params need 180/);
  assert.throws(() => augment(sched, { x, offsets: f, fill: f, out }, a), /binding 'offsets' holds 3 elements, these params need 6/);
  assert.throws(() => augment(sched, { x, offsets: o, fill: f, out }, { ...a, C: 4, H: 3 }), /binding 'fill' holds 3 elements, these params need 4/);
  assert.throws(() => augment(sched, { x, offsets: o, fill: f, out }, { ...a, pad: -1 }), /pad must be a non-negative integer/);
  assert.throws(() => augment(sched, { x, offsets: o, fill: f, out }, { ...a, W: 0 }), /W must be a positive integer/);
  assert.throws(() => augment(sched, { x, offsets: o, fill: f, out: x }, a), /'x' \(read\) and 'out' \(written\) share one GPUBuffer/);
  assert.throws(() => augmentKernel({ wgX: 32, wgY: 16 }), /more than 256 invocations/);
  assert.throws(() => augmentKernel({ wgX: 0 }), /wgX must be a positive integer/);
  assert.throws(() => drawAugmentOffsets(new Rng(1), 0, 4), /B must be a positive integer/);
  assert.throws(() => augmentFill(undefined, 3), /no padValue/);
  assert.throws(() => augmentFill([0, 0], 3), /padValue has 2 channels, the batch has 3/);
  for (const v of [x, o, f, out]) sched.free(v);
  await sched.finish();
});

test.run();
