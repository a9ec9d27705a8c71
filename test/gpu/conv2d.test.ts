import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { conv2dCheck, type Conv2dCase } from '../../src/checks/conv2d.ts';
import {
  conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dBiasGrad, conv2dKernel, conv2dShape, conv2dTile,
  type Conv2dGeometry,
} from '../../src/kernels/conv2d.ts';
import { conv2dRef, conv2dDxRef, conv2dDwRef, conv2dDbRef } from '../../src/reference/conv2d.ts';
import { Rng } from '../../src/util/rng.ts';

const OPS = ['forward', 'backward_input', 'backward_weight', 'bias_grad'] as const;
const ODD = { B: 3, Cin: 5, H: 11, W: 11, Cout: 7 };

// Every kernel size × stride × padding (none and "same"-style) at odd sizes: 11 is no multiple
// of a tile, and the output rows are never 8 pixels long, so every gather is a full one.
let seed = 100;
for (const k of [1, 3, 5, 7]) {
  for (const stride of [1, 2]) {
    for (const pad of [0, k >> 1]) {
      for (const op of OPS) {
        const check = conv2dCheck({ ...ODD, kh: k, kw: k, stride, pad, op }, seed++);
        test(check.name, () => expectPass(check));
      }
    }
  }
}

// Rows of 8 or 16 pixels take the sliding window (forward at strides 1 and 2, every
// backward-input phase class); rectangular kernels, pad larger than the kernel's half, a
// stride-3 layer (no window), odd channel counts on both sides of a tile.
const cases: Conv2dCase[] = [];
for (const op of OPS) {
  cases.push(
    { op, B: 2, Cin: 5, H: 16, W: 16, Cout: 9, kh: 3, kw: 3, stride: 1, pad: 1 },
    { op, B: 2, Cin: 5, H: 16, W: 16, Cout: 9, kh: 3, kw: 3, stride: 2, pad: 1 },
    { op, B: 2, Cin: 3, H: 13, W: 16, Cout: 6, kh: 7, kw: 7, stride: 2, pad: 3 },
    { op, B: 2, Cin: 4, H: 9, W: 16, Cout: 5, kh: 2, kw: 5, stride: 1, pad: 2 },
    { op, B: 2, Cin: 3, H: 8, W: 19, Cout: 17, kh: 3, kw: 1, stride: 2, pad: 4 },
    { op, B: 2, Cin: 19, H: 10, W: 9, Cout: 3, kh: 4, kw: 3, stride: 3, pad: 1 },
  );
}
// Epilogues: alpha, beta (accumulate), bias and ReLU; explicit workgroup shapes.
cases.push(
  { op: 'forward', ...ODD, kh: 3, kw: 3, stride: 1, pad: 1, bias: true, relu: true },
  { op: 'forward', ...ODD, kh: 3, kw: 3, stride: 2, pad: 1, bias: true, alpha: 0.5, beta: 1 },
  { op: 'forward', ...ODD, kh: 3, kw: 3, stride: 1, pad: 1, relu: true, config: { wgX: 1, wgY: 1 } },
  { op: 'backward_input', ...ODD, kh: 3, kw: 3, stride: 2, pad: 1, alpha: -2, beta: 1 },
  { op: 'backward_input', ...ODD, kh: 3, kw: 3, stride: 1, pad: 1, config: { wgX: 3, wgY: 5 } },
  { op: 'backward_weight', ...ODD, kh: 3, kw: 3, stride: 1, pad: 1, beta: -0.5, splits: 1 },
  { op: 'backward_weight', ...ODD, kh: 3, kw: 3, stride: 2, pad: 1, alpha: 0.25, beta: 1, splits: 2 },
  { op: 'backward_weight', ...ODD, kh: 3, kw: 3, stride: 1, pad: 1, splits: 3, config: { wgX: 2, wgY: 7 } },
  { op: 'bias_grad', ...ODD, kh: 3, kw: 3, stride: 1, pad: 1, beta: 1, config: { lanes: 7 } },
  { op: 'bias_grad', ...ODD, kh: 3, kw: 3, stride: 1, pad: 1, alpha: 3, config: { lanes: 256 } },
);
for (const c of cases) {
  const check = conv2dCheck(c, seed++);
  test(check.name, () => expectPass(check));
}

// ResNet8's layer2 conv1 (16→32, stride 2, 32×32) at B = 4, and its 64→64 8×8 layer.
for (const op of OPS) {
  for (const g of [{ Cin: 16, H: 32, W: 32, Cout: 32, stride: 2 }, { Cin: 64, H: 8, W: 8, Cout: 64, stride: 1 }]) {
    const check = conv2dCheck({ op, B: 4, kh: 3, kw: 3, pad: 1, ...g }, seed++);
    test(`${check.name} (ResNet8 layer)`, () => expectPass(check));
  }
}

// The backward references against central finite differences of the fake loss Σ out·dout.
test('conv2d references: dx, dW, db are the gradients of Σ conv(x, w, b)·dout', () => {
  const g: Conv2dGeometry = { B: 2, Cin: 2, H: 5, W: 4, Cout: 3, kh: 3, kw: 2, stride: 2, pad: 1 };
  const s = conv2dShape(g);
  const rng = new Rng(8);
  const arr = (n: number) => Array.from(rng.uniformArray(n), Number);
  const x = arr(s.xLen), w = arr(s.wLen), b = arr(g.Cout), dout = arr(s.outLen);
  const loss = (xs: number[], ws: number[], bs: number[]) => conv2dRef(xs, ws, bs, g).reduce((acc, v, i) => acc + v * dout[i], 0);
  gradcheck((xs) => loss(xs, w, b), x, conv2dDxRef(dout, w, g), 'dx');
  gradcheck((ws) => loss(x, ws, b), w, conv2dDwRef(x, dout, g), 'dW');
  gradcheck((bs) => loss(x, w, bs), b, conv2dDbRef(dout, g), 'db');
});

test('conv2d reference: alpha, beta, bias and ReLU in the kernels\' epilogue order', () => {
  const g: Conv2dGeometry = { B: 1, Cin: 1, H: 1, W: 1, Cout: 2, kh: 1, kw: 1, stride: 1, pad: 0 };
  // out = relu(alpha·w·x + beta·prev + bias) per channel
  const got = conv2dRef([2], [3, -3], [1, 1], g, { alpha: 0.5, beta: 2, prev: [1, 1], relu: true });
  assert.equal(Array.from(got), [Math.max(0.5 * 6 + 2 + 1, 0), Math.max(0.5 * -6 + 2 + 1, 0)]);
});

test('conv2d pipelines compile at every tile shape the helpers pick', async () => {
  const { sched } = await testGpu();
  for (const M of [3, 16, 32, 64]) {
    const t = conv2dTile(M, 'llvmpipe');
    for (const op of ['forward', 'backward_input', 'backward_weight'] as const) await sched.pipelines.compile(conv2dKernel(op, t));
  }
  await sched.pipelines.compile(conv2dKernel('bias_grad'));
});

test('conv2d rejects bad geometries, buffers and options before the GPU', async () => {
  const { sched } = await testGpu();
  const g: Conv2dGeometry = { B: 2, Cin: 3, H: 5, W: 5, Cout: 4, kh: 3, kw: 3, stride: 1, pad: 1 };
  const s = conv2dShape(g);
  const x = sched.alloc(s.xLen), w = sched.alloc(s.wLen), out = sched.alloc(s.outLen), small = sched.alloc(5);
  assert.throws(() => conv2dForward(sched, { x, w: small, out }, g), /'w' holds 5 elements, the geometry needs 108/);
  assert.throws(() => conv2dForward(sched, { x, w, out: small }, g), /'out' holds 5 elements, the geometry needs 200/);
  assert.throws(() => conv2dForward(sched, { x, w, out, bias: sched.alloc(3) }, g), /'bias' holds 3 elements, the geometry needs 4/);
  assert.throws(() => conv2dBackwardInput(sched, { dy: out, w, dx: small }, g), /'dx' holds 5 elements/);
  assert.throws(() => conv2dBiasGrad(sched, { dy: small, db: w }, g), /'dy' holds 5 elements/);
  assert.throws(() => conv2dForward(sched, { x, w, out }, { ...g, kh: 8 }), /a 8×3 kernel does not fit a 5×5 input padded by 1/);
  assert.throws(() => conv2dForward(sched, { x, w, out }, { ...g, stride: 0 }), /stride must be a positive integer, got 0/);
  assert.throws(() => conv2dForward(sched, { x, w, out }, { ...g, pad: -1 }), /pad must be a non-negative integer/);
  assert.throws(() => conv2dForward(sched, { x, w, out }, { ...g, Cin: 2.5 }), /Cin must be a positive integer/);
  assert.throws(() => conv2dForward(sched, { x, w, out }, g, { beta: NaN }), /beta must be a finite number/);
  assert.throws(() => conv2dBackwardInput(sched, { dy: out, w, dx: out }, g), /'img' \(read\) and 'dst' \(written\) share one GPUBuffer/);
  assert.throws(() => conv2dBackwardWeight(sched, { x, dy: out, dW: w }, g, { splits: 2 }), /'partial' was not given/);
  assert.throws(() => conv2dBackwardWeight(sched, { x, dy: out, dW: w, partial: small }, g, { splits: 2 }), /'partial' holds 5 elements, the geometry needs 216/);
  assert.throws(() => conv2dBackwardWeight(sched, { x, dy: out, dW: w }, g, { splits: 0 }), /splits must be a positive integer/);
  assert.throws(() => conv2dKernel('backward_input', { relu: true }), /bias and relu are forward-only/);
  assert.throws(() => conv2dKernel('forward', { wgX: 32, wgY: 16 }), /at most 256 invocations/);
  assert.throws(() => conv2dKernel('bias_grad', { lanes: 0 }), /lanes must be an integer in \[1, 256\]/);
  for (const v of [x, w, out, small]) sched.free(v);
  await sched.finish();
});

test.run();
