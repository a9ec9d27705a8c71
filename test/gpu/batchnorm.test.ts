import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { batchnormCheck, type BatchnormCase } from '../../src/checks/batchnorm.ts';
import { bnTrainForward, bnEvalForward, bnTrainBackward, bnEvalBackward, batchnormKernel, allBatchnormKernels } from '../../src/kernels/batchnorm.ts';
import { bnTrainForwardRef, bnEvalForwardRef, bnTrainBackwardRef, bnEvalBackwardRef } from '../../src/reference/batchnorm.ts';
import { Rng } from '../../src/util/rng.ts';

const cases: BatchnormCase[] = [
  // odd sizes: channels, maps (7×9, a 1×1 map), batches; ReLU on and off, both modes
  { mode: 'train', B: 3, Cch: 5, H: 7, W: 9 },
  { mode: 'train', B: 3, Cch: 5, H: 7, W: 9, relu: true },
  { mode: 'eval', B: 3, Cch: 5, H: 7, W: 9 },
  { mode: 'eval', B: 3, Cch: 5, H: 7, W: 9, relu: true },
  { mode: 'train', B: 2, Cch: 3, H: 1, W: 1, relu: true },
  { mode: 'train', B: 1, Cch: 7, H: 3, W: 5, momentum: 0 },
  { mode: 'train', B: 5, Cch: 3, H: 11, W: 13, momentum: 0.3 },
  // a channel mean 100× its spread: the two-pass variance must hold
  { mode: 'train', B: 4, Cch: 3, H: 9, W: 9, offset: 100 },
  // workgroup shapes: a single lane per channel, an odd tile, chunks of one position
  { mode: 'train', B: 3, Cch: 5, H: 7, W: 9, relu: true, wgC: 1, wgX: 1, wgY: 1, per: 1 },
  { mode: 'train', B: 3, Cch: 5, H: 7, W: 9, relu: true, wgC: 256, wgX: 3, wgY: 5, per: 2 },
];
for (const [i, c] of cases.entries()) {
  const check = batchnormCheck(c, 300 + i);
  test(check.name, () => expectPass(check));
}
// Large: ResNet32's first stage at B = 32 (n = 32768 per channel), ResNet18's last at 7×7.
for (const c of [
  { mode: 'train', B: 32, Cch: 16, H: 32, W: 32, relu: true },
  { mode: 'train', B: 8, Cch: 128, H: 7, W: 7 },
] satisfies BatchnormCase[]) {
  const check = batchnormCheck(c, 19);
  test(`${check.name} (large)`, () => expectPass(check));
}

/** Σ y·dy as a function of one of x, γ, β, the others held at their values. */
function lossOf(f: (x: number[], g: number[], b: number[]) => Float64Array, x: number[], g: number[], b: number[], dy: number[]) {
  const dot = (y: Float64Array) => y.reduce((s, v, i) => s + v * dy[i], 0);
  return {
    x: (xs: number[]) => dot(f(xs, g, b)),
    gamma: (gs: number[]) => dot(f(x, gs, b)),
    beta: (bs: number[]) => dot(f(x, g, bs)),
  };
}

test('batchnorm backward references match central finite differences (train and eval, ReLU)', () => {
  const rng = new Rng(6);
  const sh = { B: 3, Cch: 2, H: 2, W: 3 };
  const n = sh.B * sh.Cch * sh.H * sh.W;
  for (const relu of [false, true]) {
    const x = Array.from(rng.uniformArray(n, -2, 2), Number), dy = Array.from(rng.uniformArray(n), Number);
    const g = Array.from(rng.uniformArray(2, 0.5, 1.5), Number), b = Array.from(rng.uniformArray(2, -0.3, 0.3), Number);
    const running = [0.2, -0.1, 0.8, 1.3];
    const train = bnTrainForwardRef(x, g, b, running, sh, { relu });
    const gt = bnTrainBackwardRef(x, dy, g, b, train.mean, train.invstd, sh, { relu });
    const lt = lossOf((xs, gs, bs) => bnTrainForwardRef(xs, gs, bs, running, sh, { relu }).y, x, g, b, dy);
    gradcheck(lt.x, x, gt.dx, `train dx relu=${relu}`);
    gradcheck(lt.gamma, g, gt.dgamma, `train dgamma relu=${relu}`);
    gradcheck(lt.beta, b, gt.dbeta, `train dbeta relu=${relu}`);
    const ge = bnEvalBackwardRef(x, dy, g, b, running, sh, { relu });
    const le = lossOf((xs, gs, bs) => bnEvalForwardRef(xs, gs, bs, running, sh, { relu }), x, g, b, dy);
    gradcheck(le.x, x, ge.dx, `eval dx relu=${relu}`);
    gradcheck(le.gamma, g, ge.dgamma, `eval dgamma relu=${relu}`);
    gradcheck(le.beta, b, ge.dbeta, `eval dbeta relu=${relu}`);
  }
});

test('batchnorm train forward: running stats use the unbiased variance, the output the biased one', () => {
  const sh = { B: 2, Cch: 1, H: 1, W: 2 };
  const x = [1, 2, 4, 9]; // mean 4, Σ(x − mean)² = 38
  const r = bnTrainForwardRef(x, [1], [0], [0, 1], sh, { momentum: 1, eps: 0 });
  assert.ok(Math.abs(r.running[1] - 38 / 3) < 1e-12, `running_var ${r.running[1]}`);
  assert.ok(Math.abs(r.invstd[0] - 1 / Math.sqrt(38 / 4)) < 1e-12, `invstd ${r.invstd[0]}`);
  assert.ok(Math.abs(r.running[0] - 4) < 1e-12);
});

test('batchnorm rejects bad shapes, options and buffers before the GPU', async () => {
  const { sched } = await testGpu();
  const sh = { B: 2, Cch: 3, H: 4, W: 5 };
  const n = 2 * 3 * 20;
  const x = sched.alloc(n), y = sched.alloc(n), c3 = sched.alloc(3), c6 = sched.alloc(6), small = sched.alloc(5);
  const fwd = { x, gamma: c3, beta: c3, y, saved: c6, running: sched.alloc(6) };
  assert.throws(() => bnTrainForward(sched, { ...fwd, saved: small }, sh), /binding 'saved' holds 5 elements, these params need 6/);
  assert.throws(() => bnTrainForward(sched, { ...fwd, gamma: small }, { ...sh, Cch: 6 }), /binding 'x' holds 120 elements, these params need 240/);
  assert.throws(() => bnEvalForward(sched, { ...fwd, running: c3 }, sh), /binding 'stats' holds 3 elements, these params need 6/);
  assert.throws(() => bnTrainForward(sched, fwd, { ...sh, H: 0 }), /H must be a positive integer, got 0/);
  assert.throws(() => bnTrainForward(sched, fwd, sh, { eps: 0 }), /eps must be a positive finite number/);
  assert.throws(() => bnTrainForward(sched, fwd, sh, { momentum: 1.5 }), /momentum must be in \[0, 1\]/);
  assert.throws(() => bnTrainForward(sched, fwd, { B: 1, Cch: 3, H: 1, W: 1 }), /more than 1 value per channel/);
  assert.throws(() => bnTrainForward(sched, { ...fwd, y: x }, sh), /'x' \(read\) and 'y' \(written\) share one GPUBuffer/);
  const bwd = { x, dy: y, gamma: c3, beta: c3, dx: sched.alloc(n), dgamma: sched.alloc(3), dbeta: sched.alloc(3) };
  assert.throws(() => bnTrainBackward(sched, { ...bwd, saved: small }, sh), /binding 'stats' holds 5 elements/);
  assert.throws(() => bnTrainBackward(sched, { ...bwd, saved: c6, dbeta: small }, { ...sh, Cch: 6 }), /binding 'x' holds 120/);
  assert.throws(() => bnEvalBackward(sched, { ...bwd, running: c6, dx: small }, sh), /binding 'dx_eval' holds 5 elements, these params need 120/);
  assert.throws(() => batchnormKernel('bn_stats', { wgC: 48 }), /wgC must be a power of two in 1\.\.256, got 48/);
  assert.throws(() => batchnormKernel('bn_apply', { wgX: 32, wgY: 16 }), /more than 256 invocations/);
  assert.throws(() => batchnormKernel('bn_apply', { per: 0 }), /per must be an integer in 1\.\.256/);
  for (const v of [x, y, c3, c6, small, fwd.running, bwd.dx, bwd.dgamma, bwd.dbeta]) sched.free(v);
  await sched.finish();
});

test('batchnorm pipelines compile', async () => {
  const { sched } = await testGpu();
  for (const k of allBatchnormKernels()) await sched.pipelines.compile(k);
});

test.run();
