import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { convChunkCheck, convLayerCheck, convSqnormCheck, convUstepCheck, type ConvLayerShape } from '../../src/checks/conv_stats.ts';
import { convCostChoice, convShape, convStatsKernel, convParams, convStatsOp, CONV_STATS_OPS } from '../../src/kernels/conv_stats.ts';
import { convScratch, freeConvScratch, convLayerTerms, convSqnorm, convUstepRows, type ConvForce } from '../../src/kernels/conv_stats_layer.ts';
import {
  convPerExampleGradsRef, convFakeLossRef, convBiasSqRef, convGGType1Ref, convGGType2Ref, convCGType1Ref, convCGType2Ref,
  convDistAccumRef, convDistMaterialisedRef, convDims,
} from '../../src/reference/conv_stats.ts';
import { closeReport } from '../../src/util/close.ts';
import { Rng } from '../../src/util/rng.ts';

// Odd sizes: B = 3 examples, 3 → 5 channels on a 9×9 input, C = 7 clusters; four kernels.
const base = { Cin: 3, H: 9, W: 9, Cout: 5 };
const kernels: ConvLayerShape[] = [
  { ...base, kh: 3, kw: 3, stride: 1, pad: 1 },
  { ...base, kh: 3, kw: 3, stride: 2, pad: 1 },
  { ...base, kh: 1, kw: 1, stride: 2, pad: 0 },
  { ...base, kh: 5, kw: 5, stride: 1, pad: 0 },
];
const types = ['type1', 'type2'] as const;

for (const [n, layer] of kernels.entries()) {
  const chunk = convChunkCheck({ layer, B: 3, n0: 1, nb: 2, wg: n === 0 ? 7 : undefined }, 3 + n);
  test(chunk.name, () => expectPass(chunk));
  for (const cg of types) {
    for (const gg of types) {
      const check = convLayerCheck({ layers: [layer], B: 3, C: 7, force: { cg, gg }, bias: cg === gg }, 5 + n);
      test(check.name, () => expectPass(check));
    }
  }
  const u = convUstepCheck({ layer, B: 3, stable: n === 1 ? 1 : 100 }, 7 + n);
  test(u.name, () => expectPass(u));
}

// Four layers summed into one dist and one norm buffer, the cost formulas choosing, in chunks
// of 1–2 examples (the last one short); then a larger layer of ResNet8's shape (16→32, stride 2)
// at C = 13 in one chunk.
for (const c of [
  { layers: kernels, B: 3, C: 7, chunkFloats: 3000, bias: true },
  { layers: kernels, B: 3, C: 7, chunkFloats: 3000, force: { shared: true } },
  { layers: [{ Cin: 16, H: 16, W: 16, Cout: 32, kh: 3, kw: 3, stride: 2, pad: 1 }], B: 5, C: 13 },
]) {
  const check = convLayerCheck(c, 11);
  test(check.name, () => expectPass(check));
}
// Edges: one example, one cluster, a 1×1 map (T = 1), a 3×3 kernel entirely on padding but
// its centre, a kernel as large as the padded input.
for (const layer of [
  { Cin: 1, H: 1, W: 1, Cout: 1, kh: 1, kw: 1, stride: 1, pad: 0 },
  { Cin: 2, H: 1, W: 1, Cout: 3, kh: 3, kw: 3, stride: 1, pad: 1 },
  { Cin: 2, H: 4, W: 3, Cout: 3, kh: 6, kw: 5, stride: 3, pad: 1 },
]) {
  for (const t of types) {
    const check = convLayerCheck({ layers: [layer], B: 1, C: 1, force: { cg: t, gg: t }, bias: true }, 19);
    test(check.name, () => expectPass(check));
  }
}
// C and Cout multiples of 4: the centre products take matmul's vec4 paths (odd sizes above
// take its scalar fallback).
for (const cg of types) {
  const check = convLayerCheck({ layers: [{ Cin: 4, H: 11, W: 11, Cout: 8, kh: 3, kw: 3, stride: 2, pad: 1 }], B: 5, C: 8, force: { cg } }, 17);
  test(check.name, () => expectPass(check));
}
for (const gg of types) {
  const check = convSqnormCheck({ layers: kernels.slice(0, 2), B: 3, gg, bias: gg === 'type1' }, 13);
  test(check.name, () => expectPass(check));
}

test('both contractions agree on the GPU: CG, GG and dist by type 1 and by type 2', async () => {
  const { sched } = await testGpu();
  const g = { ...kernels[0], B: 3 }, C = 7;
  const { T, din } = convShape(g);
  const rng = new Rng(19);
  const up = (a: Float32Array) => { const v = sched.alloc(a.length); sched.upload(v, a); return v; };
  const x = up(rng.uniformArray(g.B * g.Cin * g.H * g.W)), dy = up(rng.uniformArray(g.B * g.Cout * T, -0.1, 0.1));
  const Ci = up(rng.uniformArray(C * din)), Co = up(rng.uniformArray(C * g.Cout));
  const out: Record<string, Float32Array[]> = {};
  for (const t of types) {
    const force: ConvForce = { cg: t, gg: t };
    const s = convScratch(sched, [g], C, { force }), dist = sched.alloc(g.B * C);
    const used = convLayerTerms(sched, { x, dy, Ci, Co, dist, scratch: s }, g, C, 0, { force });
    assert.equal([used.cg, used.gg], [t, t]);
    out[t] = [await sched.read(s.CG), await sched.read(s.GG), await sched.read(dist)];
    freeConvScratch(sched, s);
    sched.free(dist);
  }
  ['CG', 'GG', 'dist'].forEach((what, n) => {
    const scale = Math.max(...out.type2[n].map(Math.abs));
    const r = closeReport(out.type1[n], out.type2[n], { atol: 2e-6 * scale, rtol: 0 });
    assert.is(r, null, `${what}: type 1 vs type 2: ${r}`);
  });
  for (const v of [x, dy, Ci, Co]) sched.free(v);
});

test('SPEC 10.2 hook algebra in float64: CC − 2CG + GG = ||g_i − C_k||², type 1 = type 2', () => {
  const rng = new Rng(23);
  for (const l of kernels) {
    const g = { ...l, B: 2 }, C = 3;
    const { T, din } = convDims(g);
    const x = rng.uniformArray(g.B * g.Cin * g.H * g.W), dy = rng.uniformArray(g.B * g.Cout * T);
    const Ci = rng.uniformArray(C * din), Co = rng.uniformArray(C * g.Cout);
    const rowsq = (X: Float32Array, n: number) => Float64Array.from({ length: C }, (_, k) => X.subarray(k * n, (k + 1) * n).reduce((s, v) => s + v * v, 0));
    const GG = convGGType1Ref(x, dy, g), CG = convCGType1Ref(x, dy, Ci, Co, g, C);
    const tol = (a: ArrayLike<number>) => ({ atol: 1e-10 * Math.max(...Array.from(a, Math.abs)), rtol: 0 });
    const pairs: Array<[string, ArrayLike<number>, ArrayLike<number>]> = [
      ['GG type 1 vs 2', GG, convGGType2Ref(x, dy, g)],
      ['CG type 1 vs 2', CG, convCGType2Ref(x, dy, Ci, Co, g, C)],
      ['dist', convDistAccumRef({ GG, CG, ci2: rowsq(Ci, din), co2: rowsq(Co, g.Cout) }, { B: g.B, C }), convDistMaterialisedRef([{ g, x, dy, Ci, Co }], C)],
    ];
    for (const [what, got, want] of pairs) assert.is(closeReport(got, want, tol(want)), null, `${what} k${l.kh} s${l.stride}`);
  }
});

test('g_i and Σ_t δ_i are the gradients of l_i = Σ δ_i·(conv(x_i; W) + b): central finite differences', () => {
  const rng = new Rng(29);
  for (const l of [kernels[1], kernels[3], { Cin: 2, H: 6, W: 5, Cout: 3, kh: 2, kw: 3, stride: 2, pad: 1 }]) {
    const g = { ...l, B: 2 };
    const { T, din } = convDims(g);
    const x = rng.uniformArray(g.B * g.Cin * g.H * g.W), dy = rng.uniformArray(g.B * g.Cout * T);
    const W = Array.from(rng.uniformArray(g.Cout * din), Number), b = Array.from(rng.uniformArray(g.Cout), Number);
    const grads = convPerExampleGradsRef(x, dy, g);
    for (let i = 0; i < g.B; i++) {
      gradcheck((w) => convFakeLossRef(w, b, x, dy, g, i), W, grads[i], `dW of example ${i} k${l.kh}×${l.kw} s${l.stride}`);
      const db = Array.from({ length: g.Cout }, (_, o) => dy.subarray((i * g.Cout + o) * T, (i * g.Cout + o + 1) * T).reduce((s, v) => s + v, 0));
      gradcheck((bb) => convFakeLossRef(W, bb, x, dy, g, i), b, db, `db of example ${i}`);
      assert.ok(Math.abs(db.reduce((s, v) => s + v * v, 0) - convBiasSqRef(dy, g)[i]) < 1e-12, 'bias norm is ||db||²');
    }
  }
});

// ResNet8 (SPEC 3.2) at B = C = 128. By hand from the SPEC 1.4 formulas, with C·B = 16384:
//   layer         din  Cout  T     CG cost1 = CB·T·(din+Cout+1)   cost2 = B·din·Cout·(T+C)
//   conv1 3→16    27   16    1024  738.2M                         63.7M   → type 2
//   16→16         144  16    1024  2701.1M                        339.7M  → type 2
//   16→32 s2      144  32    256   742.4M                         226.5M  → type 2
//   32→32         288  32    256   1346.4M                        453.0M  → type 2
//   32→64 s2      288  64    64    370.1M                         453.0M  → type 1
//   64→64         576  64    64    672.1M                         906.0M  → type 1
//   GG: cost1 = B·T²·(din+Cout+1) > cost2 = B·din·Cout·(T+1) for all six (e.g. 64→64:
//   128·4096·641 = 336.1M vs 128·576·64·65 = 306.7M) → type 2 everywhere.
//   With `shared` (g_i formed once for both), CG cost2 = C·B·din·Cout: 32→64 s2 302.0M < 370.1M,
//   64→64 604.0M < 672.1M → type 2 for all six.
const resnet8: Array<[string, ConvLayerShape]> = [
  ['conv1', { Cin: 3, Cout: 16, H: 32, W: 32, kh: 3, kw: 3, stride: 1, pad: 1 }],
  ['layer1', { Cin: 16, Cout: 16, H: 32, W: 32, kh: 3, kw: 3, stride: 1, pad: 1 }],
  ['layer2.conv1', { Cin: 16, Cout: 32, H: 32, W: 32, kh: 3, kw: 3, stride: 2, pad: 1 }],
  ['layer2.conv2', { Cin: 32, Cout: 32, H: 16, W: 16, kh: 3, kw: 3, stride: 1, pad: 1 }],
  ['layer3.conv1', { Cin: 32, Cout: 64, H: 16, W: 16, kh: 3, kw: 3, stride: 2, pad: 1 }],
  ['layer3.conv2', { Cin: 64, Cout: 64, H: 8, W: 8, kh: 3, kw: 3, stride: 1, pad: 1 }],
];

test('convCostChoice on ResNet8 at B = C = 128 picks what the SPEC 1.4 formulas give by hand', () => {
  const got = resnet8.map(([name, l]) => {
    const c = convCostChoice({ ...l, B: 128 }, 128);
    return `${name}: cg=${c.cg} gg=${c.gg}`;
  });
  const want = resnet8.map(([name], n) => `${name}: cg=${n < 4 ? 'type2' : 'type1'} gg=type2`);
  assert.equal(got, want);
  const shared = resnet8.map(([, l]) => convCostChoice({ ...l, B: 128 }, 128, { shared: true }).cg);
  assert.equal(shared, resnet8.map(() => 'type2'));
  const c1 = convCostChoice({ ...resnet8[0][1], B: 128 }, 128).cost;
  assert.equal([c1.cg1, c1.cg2], [16384 * 1024 * 44, 128 * 27 * 16 * 1152]);
  const c6 = convCostChoice({ ...resnet8[5][1], B: 128 }, 128).cost;
  assert.equal([c6.gg1, c6.gg2], [128 * 4096 * 641, 128 * 576 * 64 * 65]);
  // SPEC 1.9: with few clusters Eq. 8 (type 1) wins CG even on the first layer; with 1×1 maps GG too.
  assert.is(convCostChoice({ ...resnet8[0][1], B: 128 }, 1).cg, 'type1');
  assert.is(convCostChoice({ Cin: 512, Cout: 512, H: 1, W: 1, kh: 1, kw: 1, stride: 1, pad: 0, B: 128 }, 128).gg, 'type1');
});

test('conv_stats pipelines compile', async () => {
  const { sched } = await testGpu();
  for (const op of CONV_STATS_OPS) await sched.pipelines.compile(convStatsKernel(op));
});

test('conv_stats rejects bad geometry, sizes and buffers before the GPU', async () => {
  const { sched } = await testGpu();
  const g = { ...kernels[0], B: 3 }, C = 7;
  const { T, din } = convShape(g);
  const s = convScratch(sched, [g], C);
  const x = sched.alloc(g.B * g.Cin * g.H * g.W), dy = sched.alloc(g.B * g.Cout * T), Ci = sched.alloc(C * din), Co = sched.alloc(C * g.Cout);
  const dist = sched.alloc(g.B * C), small = sched.alloc(5), tiny = sched.alloc(2);
  const bufs = { x, dy, Ci, Co, dist, scratch: s };
  assert.throws(() => convShape({ ...g, kh: 12 }), /a 12×3 kernel does not fit a 9×9 input padded by 1/);
  assert.throws(() => convShape({ ...g, stride: 0 }), /stride must be a positive integer, got 0/);
  assert.throws(() => convShape({ ...g, pad: -1 }), /pad must be a non-negative integer/);
  assert.throws(() => convCostChoice(g, 0), /C must be a positive integer/);
  assert.throws(() => convLayerTerms(sched, { ...bufs, x: small }, g, C), /'x' holds 5 elements, the layer needs 729/);
  assert.throws(() => convLayerTerms(sched, { ...bufs, Co: small }, g, C), /'Co' holds 5 elements, the layer needs 35/);
  assert.throws(() => convLayerTerms(sched, { ...bufs, dist: s.CG }, g, C), /'dist' lies in the scratch/);
  assert.throws(() => convLayerTerms(sched, bufs, { ...g, B: 4 }, C), /scratch was made for B=3 C=7, called with B=4 C=7/);
  assert.throws(() => convLayerTerms(sched, bufs, { ...g, Cin: 16, H: 16, W: 16 }, C), /scratch 'inputs' holds \d+ floats, this layer needs \d+/);
  assert.throws(() => convLayerTerms(sched, bufs, g, C, NaN), /beta must be a finite number/);
  assert.throws(() => convSqnorm(sched, { x, dy, out: tiny, scratch: s }, g, { beta: 1 }), /'out' holds 2 elements, the layer needs 3/);
  assert.throws(() => convUstepRows(sched, { x, dy, Ais: small, Gos: small }, g), /binding 'out' holds 5 elements, these params need 81/);
  assert.throws(() => convUstepRows(sched, { x, dy, Ais: Ci, Gos: Co }, g, { stable: 0 }), /stable must be a finite non-zero number/);
  assert.throws(() => convStatsOp(sched, 'conv_unfold', { x, Uw: s.inputs }, { ...convParams(g, { nb: 1 }), Ho: 8 }), /Ho×Wo = 8×9, the geometry gives 9×9/);
  assert.throws(() => convStatsOp(sched, 'conv_cg_rows', { X: x, Y: x, CG: dist }, convParams(null, { R: 1, L: 0, C })), /L must be a positive integer, got 0/);
  assert.throws(() => convStatsKernel('conv_pegrad', { wg: 300 }), /wg must be an integer in 1..256/);
  assert.throws(() => convScratch(sched, [g, { ...g, B: 2 }], C), /every layer must have the same batch B/);
  for (const v of [x, dy, Ci, Co, dist, small, tiny]) sched.free(v);
  freeConvScratch(sched, s);
  await sched.finish();
});

test.run();
