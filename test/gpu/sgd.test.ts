import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { sgdCheck, type SgdCase } from '../../src/checks/sgd.ts';
import { sgd, sgdKernel } from '../../src/kernels/sgd.ts';
import { sgdStepRef } from '../../src/reference/sgd.ts';

// Every branch of torch.optim.SGD at odd sizes around the 256-wide workgroup.
const variants: Array<Omit<SgdCase, 'n'>> = [
  { lr: 0.1 },
  { lr: 0.05, weightDecay: 0.01 },
  { lr: 0.1, momentum: 0.9 },
  { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 5e-4 },
  { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true },
  { lr: 0.02, momentum: 0.5, dampening: 1 },
];
for (const v of variants) {
  for (const n of [1, 257, 4099]) {
    const check = sgdCheck({ ...v, n }, n);
    test(check.name, () => expectPass(check));
  }
}
// An odd workgroup; 70001 one-invocation groups (a 2-D grid); ~1e6 parameters.
for (const c of [
  { n: 1001, lr: 0.1, momentum: 0.9, nesterov: true, wg: 7 },
  { n: 70001, lr: 0.1, momentum: 0.9, wg: 1, steps: 2 },
] satisfies SgdCase[]) {
  const check = sgdCheck(c, 2);
  test(check.name, () => expectPass(check));
}
{
  const check = sgdCheck({ n: 1_000_003, lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: true, steps: 2 }, 3);
  test(`${check.name} (large)`, () => expectPass(check));
}

test('sgd reference follows torch.optim.SGD step by step (hand-computed)', () => {
  const close = (a: ArrayLike<number>, b: number[]) => b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-12, `${a[i]} vs ${v}`));
  // p = 1, g = 0.5 twice, lr 0.1, weight decay 0.1.
  const h = { lr: 0.1, weightDecay: 0.1, momentum: 0.9, dampening: 0.5 };
  let s = sgdStepRef([1], [0.5], null, h);         // d = 0.6; buf = d = 0.6; p = 1 − 0.06
  close(s.p, [0.94]); close(s.buf!, [0.6]);
  s = sgdStepRef(s.p, [0.5], s.buf, h);            // d = 0.594; buf = 0.54 + 0.5·0.594 = 0.837
  close(s.p, [0.94 - 0.0837]); close(s.buf!, [0.837]);
  const nh = { lr: 0.1, weightDecay: 0.1, momentum: 0.9, nesterov: true };
  s = sgdStepRef([1], [0.5], null, nh);            // d = 0.6; buf = 0.6; d = 0.6 + 0.54 = 1.14
  close(s.p, [0.886]); close(s.buf!, [0.6]);
  s = sgdStepRef(s.p, [0.5], s.buf, nh);           // d = 0.5886; buf = 1.1286; d = 0.5886 + 1.01574
  close(s.p, [0.886 - 0.160434]); close(s.buf!, [1.1286]);
  s = sgdStepRef([1], [0.5], null, { lr: 0.1 });   // plain: p − lr·g, no buffer
  close(s.p, [0.95]); assert.is(s.buf, null);
});

test('sgd pipeline compiles', async () => {
  const { sched } = await testGpu();
  await sched.pipelines.compile(sgdKernel());
});

test('sgd rejects bad hyper-parameters and buffers before the GPU', async () => {
  const { sched } = await testGpu();
  const p = sched.alloc(10), g = sched.alloc(10), buf = sched.alloc(10), g9 = sched.alloc(9);
  assert.throws(() => sgd(sched, { p, g: g9 }, { lr: 0.1 }), /binding 'g' holds 9 elements, these params need 10/);
  assert.throws(() => sgd(sched, { p, g, buf: g9 }, { lr: 0.1, momentum: 0.9 }), /binding 'buf' holds 9 elements, these params need 10/);
  assert.throws(() => sgd(sched, { p, g }, { lr: 0.1, momentum: 0.9 }), /momentum 0.9 needs a momentum buffer 'buf'/);
  assert.throws(() => sgd(sched, { p, g }, { lr: 0.1, n: 0 }), /n must be a positive integer, got 0/);
  assert.throws(() => sgd(sched, { p, g }, { lr: -0.1 }), /invalid learning rate -0.1/);
  assert.throws(() => sgd(sched, { p, g }, { lr: NaN }), /lr must be a finite number/);
  assert.throws(() => sgd(sched, { p, g, buf }, { lr: 0.1, momentum: -0.5 }), /invalid momentum -0.5/);
  assert.throws(() => sgd(sched, { p, g }, { lr: 0.1, weightDecay: -1 }), /invalid weight_decay -1/);
  assert.throws(() => sgd(sched, { p, g }, { lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum > 0 and zero dampening/);
  assert.throws(() => sgd(sched, { p, g, buf }, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /Nesterov momentum requires/);
  assert.throws(() => sgd(sched, { p, g: p }, { lr: 0.1 }), /'g' \(read\) and 'p' \(written\) share one GPUBuffer/);
  assert.throws(() => sgd(sched, { p, g }, { lr: 0.1, wg: 300 }), /workgroup size must be an integer in 1..256/);
  for (const v of [p, g, buf, g9]) sched.free(v);
  await sched.finish();
});

test.run();
