// shaders/rf_gc.wgsl (GC A-pass and U-pass of many RF students) against its float64
// reference, and its argument checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { rfGcCheck, type RfGcCase } from '../../src/checks/rf_gc.ts';
import { rfGcKernel, rfGcAssign, RF_GC_OPS } from '../../src/kernels/rf_gc.ts';
import { gcUpdatePlan } from '../../src/models/rf_plans.ts';

const cases: RfGcCase[] = [
  { op: 'rf_gc_assign', H: 36, M: 3, per: 13, C: 3, B: 4 },
  { op: 'rf_gc_assign', H: 20, M: 2, per: 47, C: 10, B: 10, quant: 0.05 },
  { op: 'rf_gc_assign', H: 4, M: 1, per: 1, C: 1, B: 1 },
  { op: 'rf_gc_update', H: 36, M: 3, per: 13, C: 3 },
  { op: 'rf_gc_update', H: 68, M: 2, per: 81, C: 7, empty: 2 },
];
cases.forEach((c, i) => {
  const check = rfGcCheck(c, 21 + i);
  test(check.name, () => expectPass(check));
});

test('rf_gc pipelines compile', async () => {
  const { sched } = await testGpu();
  for (const op of RF_GC_OPS) await sched.pipelines.compile(rfGcKernel(op));
});

test('rf_gc rejects bad params and plans before the GPU', async () => {
  const { sched } = await testGpu();
  const v = (n: number) => sched.alloc(n);
  const [phi, data, plan, coefs, centres, assign, gcout] = [v(64), v(64), v(64), v(64), v(1024), v(64), v(64)];
  const b = { phi, data, plan, coefs, centres, assign, gcout };
  assert.throws(() => rfGcAssign(sched, b, { H: 4, M: 1, E: 4, J: 1, B: 20, C: 60 }), /needs B ≤ 64 and B·C ≤ 1024/);
  assert.throws(() => rfGcAssign(sched, b, { H: 4, M: 1, E: 4, J: 1, B: 2, C: 65 }), /C=65 clusters: at most 64/);
  assert.throws(() => rfGcAssign(sched, b, { H: 6, M: 1, E: 4, J: 1, B: 2, C: 2 }), /H=6 must be a multiple of 4/);
  assert.throws(() => rfGcAssign(sched, b, { H: 4, M: 1, E: 4, J: 1, B: 2, C: 2, quant: -1 }), /quant must be ≥ 0/);
  assert.throws(() => rfGcAssign(sched, { ...b, gcout: v(1) }, { H: 4, M: 1, E: 4, J: 1, B: 2, C: 2 }), /binding 'gcout' holds 1 elements, these params need 4/);
  assert.throws(() => gcUpdatePlan([{ m: 0, entries: [1], clusters: [3], scales: [1], sizes: [0, 1, 0] }], 1, 3, 4), /cluster 3 is not in \[0, 3\)/);
  for (const x of Object.values(b)) sched.free(x);
  await sched.finish();
});

test.run();
