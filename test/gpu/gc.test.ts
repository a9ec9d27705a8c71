import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { gcCheck, gcLayerCheck, type GcCase } from '../../src/checks/gc.ts';
import {
  gcKernel, gcDistAccum, gcAssign, gcCount, gcScatter, peSqnormAccum, gcLayerTerms, gcScratch, GC_OPS,
} from '../../src/kernels/gc.ts';
import { gcAssignRef, gcCountRef, gcScatterRef, roundHalfEven, perExampleWeightGradsRef, linearFakeLossRef } from '../../src/reference/gc.ts';
import type { Scheduler } from '../../src/sched/scheduler.ts';
import { Rng } from '../../src/util/rng.ts';

// Odd sizes: B = 37 examples, C = 13 clusters, D = 29 (a din) and 11 (a dout), none a multiple
// of any workgroup; plus single-element edges.
const odd: GcCase[] = [
  { op: 'gc_dist_accum', B: 37, C: 13 }, { op: 'gc_dist_accum', B: 37, C: 13, beta: 1 },
  { op: 'gc_dist_accum', B: 1, C: 1, beta: -0.5 }, { op: 'gc_dist_accum', B: 37, C: 13, wg: 7 },
  { op: 'gc_assign', B: 37, C: 13 }, { op: 'gc_assign', B: 1, C: 1 }, { op: 'gc_assign', B: 37, C: 1 },
  { op: 'gc_assign', B: 37, C: 13, quant: 0.25 }, { op: 'gc_assign', B: 37, C: 13, special: true },
  { op: 'gc_assign', B: 37, C: 13, quant: 0.25, special: true },
  // lanes sharing a row: more lanes than clusters (idle lanes), odd shapes, wide rows
  { op: 'gc_assign', B: 37, C: 13, wgX: 32, wgY: 8, special: true }, { op: 'gc_assign', B: 37, C: 13, wgX: 7, wgY: 3, quant: 0.25 },
  { op: 'gc_assign', B: 37, C: 13, wgX: 4, wgY: 1 },
  { op: 'gc_count', B: 37, C: 13 }, { op: 'gc_count', B: 37, C: 13, beta: 1, special: true }, { op: 'gc_count', B: 1, C: 1 },
  { op: 'gc_count', B: 37, C: 13, wg: 3, beta: 0.5 },
  { op: 'gc_scatter', B: 37, C: 13, D: 29 }, { op: 'gc_scatter', B: 37, C: 13, D: 11, beta: 1, scale: 0.01, special: true },
  { op: 'gc_scatter', B: 37, C: 13, D: 1, scale: 100 }, { op: 'gc_scatter', B: 1, C: 1, D: 1, beta: -2 },
  { op: 'gc_scatter', B: 37, C: 13, D: 29, wg: 5, beta: 1 },
  { op: 'pe_sqnorm_accum', B: 37 }, { op: 'pe_sqnorm_accum', B: 37, beta: 1, bias: true }, { op: 'pe_sqnorm_accum', B: 1, bias: true },
];
for (const c of odd) {
  const check = gcCheck(c, c.B * 7 + (c.C ?? 0));
  test(check.name, () => expectPass(check));
}
// More than 65535 workgroups: grid1d folds them into a 2-D grid.
for (const c of [
  { op: 'gc_dist_accum', B: 70001, C: 1, wg: 1 },
  { op: 'gc_assign', B: 70001, C: 2, wgX: 1, wgY: 1 },
  { op: 'gc_scatter', B: 2, C: 3, D: 70001, wg: 1 },
] satisfies GcCase[]) {
  const check = gcCheck(c, 11);
  test(check.name, () => expectPass(check));
}
// Large: the paper MLP's batch and a C = 128 clustering; the U-step scatter of a 1024-wide layer.
for (const c of [
  { op: 'gc_dist_accum', B: 128, C: 128, beta: 1 }, { op: 'gc_assign', B: 128, C: 128 },
  { op: 'gc_assign', B: 128, C: 128, quant: 0.25 }, { op: 'gc_count', B: 128, C: 128, beta: 1 },
  { op: 'gc_scatter', B: 128, C: 128, D: 1024, beta: 1, scale: 0.01 }, { op: 'pe_sqnorm_accum', B: 128, beta: 1, bias: true },
] satisfies GcCase[]) {
  const check = gcCheck(c, 13);
  test(`${check.name} (large)`, () => expectPass(check));
}

// SPEC 10.1 against explicitly materialised per-example gradients, two layers summed.
for (const c of [
  { B: 37, C: 13, layers: [[29, 11], [11, 7]] as Array<[number, number]> },
  { B: 37, C: 13, layers: [[29, 11], [11, 7]] as Array<[number, number]>, bias: true },
  { B: 1, C: 1, layers: [[1, 1], [1, 1]] as Array<[number, number]>, bias: true },
  { B: 128, C: 128, layers: [[256, 10], [31, 64]] as Array<[number, number]>, bias: true },
]) {
  const check = gcLayerCheck(c, 17);
  test(check.name, () => expectPass(check));
}

test('g_i = δ_i a_iᵀ and δ_i are the gradients of l_i = δ_iᵀ(W a_i + b): central finite differences', () => {
  const rng = new Rng(5);
  const din = 4, dout = 3, B = 2;
  const l = { din, dout, A: rng.uniformArray(B * din), G: rng.uniformArray(B * dout) };
  const W = Array.from(rng.uniformArray(dout * din), Number), b = Array.from(rng.uniformArray(dout), Number);
  const g = perExampleWeightGradsRef({ ...l, Ci: [], Co: [] }, B);
  for (let i = 0; i < B; i++) {
    gradcheck((w) => linearFakeLossRef(w, b, l, i), W, g[i], `dW of example ${i}`);
    gradcheck((bb) => linearFakeLossRef(W, bb, l, i), b, l.G.subarray(i * dout, (i + 1) * dout), `db of example ${i}`);
  }
});

// --- gc_assign semantics on designed inputs -------------------------------------------------

async function runAssign(sched: Scheduler, dist: Float32Array, counts: Float32Array, B: number, C: number, cfg: { quant?: number; wgX?: number; wgY?: number } = {}) {
  const vd = sched.alloc(B * C), vc = sched.alloc(C), assign = sched.alloc(B), best = sched.alloc(B);
  sched.upload(vd, dist);
  sched.upload(vc, counts);
  gcAssign(sched, { dist: vd, counts: vc, assign, best }, { B, C, ...cfg });
  const out = { assign: Array.from(await sched.readU32(assign)), best: Array.from(await sched.read(best)) };
  for (const v of [vd, vc, assign, best]) sched.free(v);
  return out;
}

test('gc_assign: running count vs fixed multiplier over a 3-batch pass give the reference argmin', async () => {
  const { sched } = await testGpu();
  const rng = new Rng(21);
  const C = 13, sizes = [37, 37, 20];
  // Distances on a 1/64 grid in [1, 2): every (count + 1)·dist is exact in f32 and f64 alike,
  // so exact ties occur and must resolve identically (lowest k).
  const batches = sizes.map((B) => new Float32Array(B * C).map(() => 1 + rng.int(64) / 64));
  const fixed = new Float32Array(C).map(() => rng.int(9));
  const N = sizes.reduce((s, b) => s + b, 0);
  const counts = sched.alloc(C), dist = sched.alloc(37 * C), assign = sched.alloc(37), best = sched.alloc(37), total = sched.alloc(C);
  const results: Record<string, number[]> = {};
  for (const mode of ['running', 'fixed'] as const) {
    sched.upload(counts, mode === 'running' ? new Float32Array(C) : fixed);
    let refCounts: Float64Array = Float64Array.from(mode === 'running' ? new Float32Array(C) : fixed);
    let refTotal: Float64Array = new Float64Array(C);
    const got: number[] = [], want: number[] = [];
    for (const [n, B] of sizes.entries()) {
      sched.upload(dist, batches[n]);
      gcAssign(sched, { dist, counts, assign, best }, { B, C });
      // the per-cluster distortion, summed over the pass (D = 1, X = best)
      gcScatter(sched, { assign, X: best, S: total }, { B, C, D: 1, beta: n === 0 ? 0 : 1 });
      if (mode === 'running') gcCount(sched, { assign, counts }, { B, C, beta: 1 });
      got.push(...(await sched.readU32(assign)).subarray(0, B));
      const ref = gcAssignRef(batches[n], refCounts, { B, C });
      want.push(...ref.assign);
      refTotal = gcScatterRef(ref.assign, ref.best, { B, C, D: 1, beta: 1, S0: refTotal });
      if (mode === 'running') refCounts = gcCountRef(ref.assign, { B, C, beta: 1, counts0: refCounts });
    }
    assert.equal(got, want, `${mode}: assignments`);
    assert.equal(Array.from(await sched.read(total)), Array.from(refTotal, Math.fround), `${mode}: per-cluster distortion`);
    if (mode === 'running') {
      assert.equal(Array.from(await sched.read(counts)), Array.from(gcCountRef(got, { B: N, C })), 'running count = final sizes');
    }
    results[mode] = got;
  }
  // the two rules are not the same rule on these inputs
  assert.ok(results.running.some((k, i) => k !== results.fixed[i]), 'running and fixed multipliers never disagree');
  for (const v of [counts, dist, assign, best, total]) sched.free(v);
});

test('gc_assign: ties go to the lowest k, quantisation rounds half to even, for every lane count', async () => {
  const { sched } = await testGpu();
  const C = 4;
  // m_k = 1 (counts 0) except cluster 3 (m = 2). Rows, quant = 1:
  //   [2.5, 1.6, 2.2, 1.2]  → quantised [2, 2, 2, 2]: four-way tie → k = 0 (unquantised: k = 1)
  //   [4.6, 4.5, 9, 9]      → [5, 4, 9, 18]: 4.5 rounds to even 4 → k = 1 (half-up would tie at 5 → 0)
  //   [7, 3.5, 3.4, 1.65]   → [7, 4, 3, 3]: 3.4 → 3 and 2·1.65 = 3.3 → 3 tie → k = 2 (unquantised: 3.3 → k = 3)
  //   [3, 3, 3, 3]          → exact tie without quantisation → k = 0
  const dist = Float32Array.from([2.5, 1.6, 2.2, 1.2, 4.6, 4.5, 9, 9, 7, 3.5, 3.4, 1.65, 3, 3, 3, 3]);
  const counts = Float32Array.from([0, 0, 0, 1]);
  for (const [wgX, wgY] of [[1, 64], [2, 2], [4, 1], [32, 8]]) {
    const q = await runAssign(sched, dist, counts, 4, C, { quant: 1, wgX, wgY });
    assert.equal(q.assign, [0, 1, 2, 0], `quant=1 lanes ${wgX}: assign`);
    assert.equal(q.best, [2, 4, 3, 3], `quant=1 lanes ${wgX}: best`);
    const raw = await runAssign(sched, dist, counts, 4, C, { wgX, wgY });
    assert.equal(raw.assign, [1, 1, 3, 0], `no quant lanes ${wgX}: assign`);
    assert.equal(raw.best, [dist[1], 4.5, Math.fround(2 * dist[11]), 3], `no quant lanes ${wgX}: best`);
  }
  assert.equal(gcAssignRef(dist, counts, { B: 4, C, quant: 1 }).assign, Uint32Array.from([0, 1, 2, 0]), 'the reference agrees');
  assert.equal([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
});

test('gc_assign: NaN sorts after every number (+inf included); an all-NaN row gets k = 0, best NaN', async () => {
  const { sched } = await testGpu();
  const C = 5, I = Infinity;
  const dist = Float32Array.from([
    NaN, 3, 2, NaN, 2.5, //  NaN never wins                    → k = 2, best 2
    NaN, NaN, NaN, NaN, NaN, // all NaN                         → k = 0, best NaN
    I, I, NaN, I, I, //          +inf ties, NaN after +inf      → k = 0, best inf
    NaN, NaN, NaN, NaN, I, //    +inf beats NaN                 → k = 4
    1, 0.5, 9, 9, -I, //         −inf wins                      → k = 4, best −inf
    1, 0.5, 9, 9, 9, //          cluster 1 has a NaN count: never wins while a number exists → k = 0
  ]);
  const counts = Float32Array.from([0, 0, 0, 0, 0]);
  const counts1 = Float32Array.from([0, NaN, 0, 0, 0]);
  const want = { assign: [2, 0, 0, 4, 4], best: [2, NaN, I, I, -I] };
  for (const [wgX, wgY] of [[1, 64], [4, 2], [8, 1]]) {
    const r = await runAssign(sched, dist.subarray(0, 25), counts, 5, C, { wgX, wgY });
    assert.equal(r.assign, want.assign, `lanes ${wgX}: assign`);
    assert.equal(r.best, want.best, `lanes ${wgX}: best`);
    const n = await runAssign(sched, dist.subarray(25), counts1, 1, C, { wgX, wgY });
    assert.equal(n.assign, [0], `lanes ${wgX}: NaN count`);
  }
  const ref = gcAssignRef(dist.subarray(0, 25), counts, { B: 5, C });
  assert.equal(Array.from(ref.assign), want.assign, 'the reference agrees');
});

test('gc_assign gives bit-identical results for every lane count', async () => {
  const { sched } = await testGpu();
  const rng = new Rng(8);
  const B = 37, C = 53;
  const dist = new Float32Array(B * C).map(() => rng.int(40) / 8); // many exact ties
  const counts = new Float32Array(C).map(() => rng.int(3));
  const base = await runAssign(sched, dist, counts, B, C);
  for (const [wgX, wgY] of [[2, 5], [16, 16], [64, 4], [256, 1]]) {
    const r = await runAssign(sched, dist, counts, B, C, { wgX, wgY });
    assert.equal(r.assign, base.assign, `lanes ${wgX}`);
    assert.equal(r.best, base.best, `lanes ${wgX}`);
  }
});

// --- pipelines and bad inputs ----------------------------------------------------------------

test('gc pipelines compile', async () => {
  const { sched } = await testGpu();
  for (const op of GC_OPS) await sched.pipelines.compile(gcKernel(op));
});

test('gc calls reject bad sizes, scalars and buffers before the GPU', async () => {
  const { sched } = await testGpu();
  const v = (n: number) => sched.alloc(n);
  const [b37, b13, bc, bc2, u37] = [v(37), v(13), v(37 * 13), v(37 * 13), v(37)];
  const dist = v(37 * 13);
  const acc = { aa: b37, gg: b37, P: bc, Q: bc2, ci2: b13, co2: b13, dist };
  assert.throws(() => gcDistAccum(sched, acc, { B: 37, C: 14 }), /binding 'P' holds 481 elements, these params need 518/);
  assert.throws(() => gcDistAccum(sched, acc, { B: 0, C: 13 }), /gc_dist_accum.*sizes must be positive integers, got B=0 C=13/);
  assert.throws(() => gcDistAccum(sched, acc, { B: 37, C: 13, beta: NaN }), /beta must be a finite number/);
  assert.throws(() => gcDistAccum(sched, { ...acc, dist: bc }, { B: 37, C: 13 }), /'P' \(read\) and 'dist' \(written\) share one GPUBuffer/);
  const asg = { dist, counts: b13, assign: u37, best: b37 };
  assert.throws(() => gcAssign(sched, asg, { B: 37, C: 13, quant: -1e-7 }), /quant must be ≥ 0/);
  assert.throws(() => gcAssign(sched, asg, { B: 37, C: 13, quant: Infinity }), /quant must be a finite number/);
  assert.throws(() => gcAssign(sched, asg, { B: 38, C: 13 }), /binding 'dist_in' holds 481 elements, these params need 494/);
  assert.throws(() => gcAssign(sched, asg, { B: 37, C: 2.5 }), /sizes must be positive integers/);
  assert.throws(() => gcAssign(sched, asg, { B: 37, C: 13, wgX: 32, wgY: 16 }), /512 invocations is more than 256/);
  assert.throws(() => gcCount(sched, { assign: u37, counts: b13 }, { B: 37, C: 14 }), /binding 'counts' holds 13 elements, these params need 14/);
  assert.throws(() => gcCount(sched, { assign: u37, counts: b13 }, { B: 37, C: 0 }), /sizes must be positive integers, got B=37 C=0/);
  assert.throws(() => gcScatter(sched, { assign: u37, X: bc, S: b13 }, { B: 37, C: 13, D: 13 }), /binding 'S' holds 13 elements, these params need 169/);
  assert.throws(() => gcScatter(sched, { assign: u37, X: bc, S: bc2 }, { B: 37, C: 13, D: 0 }), /sizes must be positive integers, got B=37 C=13 D=0/);
  assert.throws(() => gcScatter(sched, { assign: u37, X: bc, S: bc2 }, { B: 37, C: 13, D: 13, scale: NaN }), /scale must be a finite number/);
  assert.throws(() => peSqnormAccum(sched, { aa: b37, gg: b13, out: u37 }, { B: 37 }), /binding 'gg' holds 13 elements, these params need 37/);
  assert.throws(() => sched.record(gcKernel('pe_sqnorm_accum'), { aa: b37, gg: b37, out: u37 }, { B: 37, C: 0, D: 0, bias: 2, beta: 0, scale: 1, quant: 0 }), /bias must be 0 or 1, got 2/);
  assert.throws(() => gcKernel('gc_count', { wg: 0 }), /wg must be a positive integer, got 0/);

  // gcLayerTerms checks every operand before it records anything.
  await sched.finish();
  const before = sched.dispatched;
  const s = gcScratch(sched, 37, 13);
  const A = v(37 * 29), G = v(37 * 11), Ci = v(13 * 29), Co = v(13 * 11);
  const layer = { A, G, Ci, Co, dist, scratch: s };
  const dims = { B: 37, din: 29, dout: 11, C: 13 };
  assert.throws(() => gcLayerTerms(sched, layer, { ...dims, din: 30 }), /gcLayerTerms.*'A' holds 1073 elements, B=37 din=30 dout=11 C=13 need 1110/);
  const Co12 = v(12 * 11);
  assert.throws(() => gcLayerTerms(sched, { ...layer, Co: Co12 }, dims), /'Co' holds 132 elements, B=37 din=29 dout=11 C=13 need 143/);
  assert.throws(() => gcLayerTerms(sched, layer, { ...dims, C: 12 }), /scratch was made for B=37 C=13, called with B=37 C=12/);
  assert.throws(() => gcLayerTerms(sched, layer, { ...dims, dout: 0 }), /dout must be a positive integer, got 0/);
  assert.throws(() => gcLayerTerms(sched, { ...layer, dist: s.P }, dims), /'dist' lies in the scratch buffer/);
  assert.throws(() => gcScratch(sched, 0, 13), /sizes must be positive integers, got B=0 C=13/);
  await sched.finish();
  assert.is(sched.dispatched, before, 'a rejected call records nothing');
  for (const x of [b37, b13, bc, bc2, u37, dist, A, G, Ci, Co, Co12, s.all]) sched.free(x);
});

test.run();
