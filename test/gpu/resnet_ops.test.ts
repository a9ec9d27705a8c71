import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { resnetOpsCheck, type ResnetOpsCase } from '../../src/checks/resnet_ops.ts';
import { addRelu, addReluBackward, shortcutA, shortcutABackward, resnetOpsKernel, allResnetOpsKernels } from '../../src/kernels/resnet_ops.ts';
import { addReluRef, addReluBackwardRef, shortcutARef, shortcutABackwardRef } from '../../src/reference/resnet_ops.ts';
import { Rng } from '../../src/util/rng.ts';

const cases: ResnetOpsCase[] = [
  { op: 'add_relu', n: 1 },
  { op: 'add_relu', n: 1001 },
  { op: 'add_relu', n: 1001, twoGrads: true },
  { op: 'add_relu', n: 1001, wg: 37 },
  // ResNet8's 16→32 (pad 8) and 32→64 (pad 16) at odd channel counts and odd sides (⌈H/2⌉)
  { op: 'shortcut_a', B: 3, Cin: 5, H: 9, W: 7, pad: 2 },
  { op: 'shortcut_a', B: 2, Cin: 3, H: 8, W: 11, pad: 1, beta: 1 },
  { op: 'shortcut_a', B: 2, Cin: 3, H: 7, W: 7, pad: 3, beta: -0.5 },
  { op: 'shortcut_a', B: 1, Cin: 1, H: 1, W: 1, pad: 0 },
  { op: 'shortcut_a', B: 2, Cin: 3, H: 5, W: 6, pad: 0, beta: 1, wg: 37 },
];
for (const [i, c] of cases.entries()) {
  const check = resnetOpsCheck(c, 200 + i);
  test(check.name, () => expectPass(check));
}
// More than 65535 workgroups (grid1d folds them into 2-D), and ResNet8's layer2 shortcut at B = 64.
for (const c of [
  { op: 'add_relu', n: 70001, twoGrads: true, wg: 1 },
  { op: 'shortcut_a', B: 64, Cin: 16, H: 32, W: 32, pad: 8, beta: 1 },
] satisfies ResnetOpsCase[]) {
  const check = resnetOpsCheck(c, 17);
  test(`${check.name} (large)`, () => expectPass(check));
}

test('resnet_ops backward references match central finite differences of Σ out·dout', () => {
  const rng = new Rng(5);
  const n = 40;
  const a = Array.from(rng.uniformArray(n), Number), b = Array.from(rng.uniformArray(n), Number);
  const dout = Array.from(rng.uniformArray(n), Number), dout2 = Array.from(rng.uniformArray(n), Number);
  const d = addReluBackwardRef(addReluRef(a, b), dout, dout2);
  // The incoming gradient is dout + dout2 (two consumers of out); both branches get d.
  const lossA = (as: number[]) => addReluRef(as, b).reduce((s, v, i) => s + v * (dout[i] + dout2[i]), 0);
  const lossB = (bs: number[]) => addReluRef(a, bs).reduce((s, v, i) => s + v * (dout[i] + dout2[i]), 0);
  gradcheck(lossA, a, d, 'd(a)');
  gradcheck(lossB, b, d, 'd(b)');
  for (const sh of [{ B: 2, Cin: 3, H: 5, W: 4, pad: 2 }, { B: 1, Cin: 2, H: 3, W: 3, pad: 0 }]) {
    const x = Array.from(rng.uniformArray(sh.B * sh.Cin * sh.H * sh.W), Number);
    const dy = Array.from(rng.uniformArray(shortcutARef(x, sh).length), Number);
    const loss = (xs: number[]) => shortcutARef(xs, sh).reduce((s, v, i) => s + v * dy[i], 0);
    gradcheck(loss, x, shortcutABackwardRef(dy, sh), `shortcut dx pad=${sh.pad}`);
  }
});

test('option-A shortcut of 16 channels with planes = 32 gives 32 channels, the input in 8..23', () => {
  const sh = { B: 2, Cin: 16, H: 4, W: 4, pad: 32 / 4 };
  const x = Array.from({ length: 2 * 16 * 16 }, (_, i) => i + 1);
  const y = shortcutARef(x, sh);
  assert.is(y.length, 2 * 32 * 2 * 2);
  for (let b = 0; b < 2; b++) {
    for (let c = 0; c < 32; c++) {
      const plane = Array.from(y.subarray((b * 32 + c) * 4, (b * 32 + c + 1) * 4));
      const src = c - 8;
      const want = src >= 0 && src < 16 ? [0, 2, 8, 10].map((o) => x[(b * 16 + src) * 16 + o]) : [0, 0, 0, 0];
      assert.equal(plane, want, `b=${b} c=${c}`);
    }
  }
});

test('resnet_ops rejects bad shapes and buffers before the GPU', async () => {
  const { sched } = await testGpu();
  const x = sched.alloc(2 * 3 * 5 * 5), y = sched.alloc(2 * 7 * 9), small = sched.alloc(10);
  const sh = { B: 2, Cin: 3, H: 5, W: 5, pad: 2 };
  assert.throws(() => shortcutA(sched, { x, y: small }, sh), /binding 'y' holds 10 elements, these params need 126/);
  assert.throws(() => shortcutA(sched, { x: small, y }, sh), /binding 'x' holds 10 elements, these params need 150/);
  assert.throws(() => shortcutABackward(sched, { dy: y, dx: small }, sh), /binding 'dx' holds 10 elements/);
  assert.throws(() => shortcutA(sched, { x, y }, { ...sh, pad: -1 }), /pad must be a non-negative integer, got -1/);
  assert.throws(() => shortcutA(sched, { x, y }, { ...sh, H: 0 }), /H must be a positive integer, got 0/);
  assert.throws(() => shortcutABackward(sched, { dy: y, dx: x }, { ...sh, beta: NaN }), /beta must be a finite number/);
  assert.throws(() => shortcutA(sched, { x, y: x }, sh), /'x' \(read\) and 'y' \(written\) share one GPUBuffer/);
  const k = resnetOpsKernel('shortcut_a_forward');
  assert.throws(() => sched.record(k, { x, y }, { n: 126, B: 2, Cin: 3, H: 5, W: 5, Cout: 6, OH: 3, OW: 3, pad: 2, beta: 0 }), /inconsistent shortcut params/);
  assert.throws(() => addRelu(sched, { a: x, b: small, out: y }, { n: 50 }), /binding 'b' holds 10 elements, these params need 50/);
  assert.throws(() => addRelu(sched, { a: x, b: x, out: y }, { n: 0 }), /n must be a positive integer, got 0/);
  assert.throws(() => addReluBackward(sched, { out: x, dout: x, dout2: small, dsum: y }, { n: 50 }), /binding 'dout2' holds 10 elements, these params need 50/);
  assert.throws(() => resnetOpsKernel('add_relu_forward', { wg: 300 }), /workgroup size must be an integer in 1\.\.256/);
  for (const v of [x, y, small]) sched.free(v);
  await sched.finish();
});

test('resnet_ops pipelines compile', async () => {
  const { sched } = await testGpu();
  for (const k of allResnetOpsKernels()) await sched.pipelines.compile(k);
});

test.run();
