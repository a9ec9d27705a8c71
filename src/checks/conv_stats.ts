// Checks of the conv_stats family against its float64 references: one chunk's unfold,
// transpose, per-example gradients and both GG contractions; a whole layer's A-step terms and
// per-example norms (summed over layers) against explicitly materialised per-example
// gradients (SPEC 10.2); and the U-step rows.
import type { KernelCheck } from './check.ts';
import { compare, upload } from './check.ts';
import type { View } from '../kernels/kernel.ts';
import { convParams, convStatsOp, convShape, type ConvGeometry, type Contraction } from '../kernels/conv_stats.ts';
import { convScratch, freeConvScratch, convLayerTerms, convSqnorm, convUstepRows, type ConvForce } from '../kernels/conv_stats_layer.ts';
import {
  convPatchesRef, convPerExampleGradsRef, convGGType2Ref, convCGType1Ref, convDistMaterialisedRef, convSqnormMaterialisedRef,
  convUstepRowsRef, type ConvLayerRef,
} from '../reference/conv_stats.ts';
import { Rng } from '../util/rng.ts';

/** A layer without its batch size: Cin→Cout, H×W input, kh×kw kernel, stride, padding. */
export type ConvLayerShape = Omit<ConvGeometry, 'B'>;

export function convLayerName(l: ConvLayerShape): string {
  return `${l.Cin}→${l.Cout} ${l.H}×${l.W} k${l.kh}×${l.kw} s${l.stride} p${l.pad}`;
}

type Data = ConvLayerRef & { g: ConvGeometry; x: Float32Array; dy: Float32Array; Ci: Float32Array; Co: Float32Array };

/** Seeded layer data. Centre 0 is example 0's own U-step factors (c_0 = mean_t a_{0,t},
 *  d_0 = Σ_t δ_{0,t}), so some distances are small differences of large terms. */
function layerData(rng: Rng, l: ConvLayerShape, B: number, C: number): Data {
  const g = { ...l, B };
  const { T, din } = convShape(g);
  const x = rng.uniformArray(B * l.Cin * l.H * l.W), dy = rng.uniformArray(B * l.Cout * T, -0.1, 0.1);
  const Ci = rng.uniformArray(C * din, -0.5, 0.5), Co = rng.uniformArray(C * l.Cout, -0.1, 0.1);
  const own = convUstepRowsRef(x, dy, g, 1);
  Ci.set(own.Ais.subarray(0, din));
  Co.set(own.Gos.subarray(0, l.Cout));
  return { g, x, dy, Ci, Co };
}

/** Magnitudes for f32 tolerances, per layer: the largest ||g_i|| and ||c_k||·||d_k|| (float64)
 *  and K, the summation lengths (positions T4, then din8 and Cout·din8 in the contractions):
 *  f32 errors of random-signed sums grow ~√K·eps relative to the result (measured ≤ 5e-7
 *  relative on these data, a twentieth of the tolerance). */
function magnitudes(d: Data, C: number): { gn: number; cc: number; K: number } {
  const { T4, din, din8 } = convShape(d.g);
  const gn = Math.sqrt(Math.max(...convGGType2Ref(d.x, d.dy, d.g)));
  let cc = 0;
  for (let k = 0; k < C; k++) {
    let c2 = 0, e2 = 0;
    for (let j = 0; j < din; j++) c2 += d.Ci[k * din + j] ** 2;
    for (let o = 0; o < d.g.Cout; o++) e2 += d.Co[k * d.g.Cout + o] ** 2;
    cc = Math.max(cc, Math.sqrt(c2 * e2));
  }
  return { gn, cc, K: T4 + din8 + d.g.Cout * din8 };
}

/** The largest Σ_t |δ_{i,t}[o]·a_{i,t}[j]|: the size of the terms each entry of g sums. */
function absGradMax(d: Data): number {
  const { T, din } = convShape(d.g);
  const A = convPatchesRef(d.x, d.g);
  let m = 0;
  for (let i = 0; i < d.g.B; i++) {
    for (let o = 0; o < d.g.Cout; o++) {
      for (let j = 0; j < din; j++) {
        let s = 0;
        for (let t = 0; t < T; t++) s += Math.abs(d.dy[(i * d.g.Cout + o) * T + t] * A[(i * T + t) * din + j]);
        m = Math.max(m, s);
      }
    }
  }
  return m;
}

export interface ConvChunkCase {
  layer: ConvLayerShape;
  B: number;
  /** the chunk: examples n0 .. n0 + nb − 1 */
  n0: number;
  nb: number;
  /** lanes per example / row of the two combining kernels (gram, sumsq) */
  wg?: number;
}

/** One chunk: conv_unfold and conv_dy_t against the padded references (exact copies),
 *  conv_pegrad (GT [din8, nb·Cout]) against explicit per-example gradients, and GG by
 *  conv_gram_gg (type 1) and conv_sumsq_cols over GT (type 2) against ||g_i||² in float64,
 *  at rows n0 .. of GG. */
export function convChunkCheck(c: ConvChunkCase, seed = 1): KernelCheck {
  const name = `conv_stats chunk ${convLayerName(c.layer)} B=${c.B} n0=${c.n0} nb=${c.nb}${c.wg ? ` wg=${c.wg}` : ''}`;
  return {
    name,
    async run(sched) {
      const { B, n0, nb } = c;
      const d = layerData(new Rng(seed), c.layer, B, 1);
      const { T, T4, din, din8, cout8 } = convShape(d.g);
      const Cout = c.layer.Cout;
      const cfg = { wg: c.wg };
      const vx = upload(sched, d.x), vdy = upload(sched, d.dy);
      const ld = nb * Cout;
      const U = sched.alloc(nb * T4 * din8), DT = sched.alloc(nb * T4 * cout8), G = sched.alloc(din8 * ld);
      const GG1 = sched.alloc(B), GG2 = sched.alloc(B);
      const p = convParams(d.g, { nb, n0, ld });
      convStatsOp(sched, 'conv_unfold', { x: vx, Uw: U }, p);
      convStatsOp(sched, 'conv_dy_t', { dy: vdy, DTw: DT }, p);
      convStatsOp(sched, 'conv_pegrad', { U, DT, GT: G }, p);
      convStatsOp(sched, 'conv_gram_gg', { U, DT, GG: GG1 }, p, cfg);
      convStatsOp(sched, 'conv_sumsq_cols', { X: G, out: GG2 }, convParams(null, { n0, R: nb, L: Cout, ld, din8 }), cfg);
      const got = { U: await sched.read(U), DT: await sched.read(DT), G: await sched.read(G), GG1: await sched.read(GG1), GG2: await sched.read(GG2) };
      for (const v of [vx, vdy, U, DT, G, GG1, GG2]) sched.free(v);
      const A = convPatchesRef(d.x, d.g), grads = convPerExampleGradsRef(d.x, d.dy, d.g), gg = convGGType2Ref(d.x, d.dy, d.g);
      const wantU = new Float64Array(nb * T4 * din8), wantDT = new Float64Array(nb * T4 * cout8), wantG = new Float64Array(din8 * ld);
      for (let n = 0; n < nb; n++) {
        const i = n0 + n;
        for (let t = 0; t < T; t++) {
          for (let j = 0; j < din; j++) wantU[(n * T4 + t) * din8 + j] = A[(i * T + t) * din + j];
          for (let o = 0; o < Cout; o++) wantDT[(n * T4 + t) * cout8 + o] = d.dy[(i * Cout + o) * T + t];
        }
        for (let o = 0; o < Cout; o++) for (let j = 0; j < din; j++) wantG[j * ld + n * Cout + o] = grads[i][o * din + j];
      }
      const m = magnitudes(d, 1);
      const rows = (a: ArrayLike<number>) => Array.from(a).slice(n0, n0 + nb);
      const ggTol = { atol: 2e-7 * Math.sqrt(m.K) * m.gn * m.gn, rtol: 0 };
      return compare(name, [
        ['U', got.U, wantU, { atol: 0, rtol: 0 }],
        ['DT', got.DT, wantDT, { atol: 0, rtol: 0 }],
        ['G', got.G, wantG, { atol: 2e-7 * Math.sqrt(T) * absGradMax(d), rtol: 0 }],
        ['GG type1 (gram)', rows(got.GG1), rows(gg), ggTol],
        ['GG type2 (sumsq of GT)', rows(got.GG2), rows(gg), ggTol],
      ]);
    },
  };
}

export interface ConvLayerCase {
  layers: ConvLayerShape[];
  B: number;
  C: number;
  force?: ConvForce;
  /** chunk budget in floats (small values force several chunks) */
  chunkFloats?: number;
  bias?: boolean;
}

export function convLayerCaseName(c: ConvLayerCase): string {
  const f = c.force ? ` cg=${c.force.cg ?? 'auto'} gg=${c.force.gg ?? 'auto'}` : '';
  return `convLayerTerms + convSqnorm vs explicit per-example gradients B=${c.B} C=${c.C} [${c.layers.map(convLayerName).join('; ')}]${f}${c.chunkFloats ? ` chunk=${c.chunkFloats}` : ''}${c.bias ? ' bias' : ''}`;
}

/** SPEC 10.2: Σ_l (CC − 2·CG + GG) from convLayerTerms equals Σ_l ||g_i − d_k c_kᵀ||²_F with
 *  both matrices formed explicitly in float64, and convSqnorm (re-using the terms' GG, beta = 1
 *  after the first layer) equals Σ_l ||g_i||² (+ ||Σ_t δ_{i,t}||²). The last layer's CG, left in
 *  the scratch, is compared with Σ_t <c_k,a_t><d_k,δ_t> in float64 as well. */
export function convLayerCheck(c: ConvLayerCase, seed = 1): KernelCheck {
  const name = convLayerCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { B, C, bias = false } = c;
      const data = c.layers.map((l) => layerData(rng, l, B, C));
      const s = convScratch(sched, data.map((d) => d.g), C, { chunkFloats: c.chunkFloats, force: c.force });
      // NaN garbage in the outputs: the first layer (beta = 0) must not read them.
      const dist = upload(sched, new Float32Array(B * C).fill(NaN)), norms = upload(sched, new Float32Array(B).fill(NaN));
      const ins: View[] = [];
      data.forEach((d, n) => {
        const v = { x: upload(sched, d.x), dy: upload(sched, d.dy), Ci: upload(sched, d.Ci), Co: upload(sched, d.Co) };
        ins.push(...Object.values(v));
        const beta = n === 0 ? 0 : 1;
        convLayerTerms(sched, { ...v, dist, scratch: s }, d.g, C, beta, { force: c.force });
        convSqnorm(sched, { x: v.x, dy: v.dy, out: norms, scratch: s }, d.g, { beta, bias, ggFromTerms: true });
      });
      const got = { dist: await sched.read(dist), norms: await sched.read(norms), CG: await sched.read(s.CG) };
      for (const v of [...ins, dist, norms]) sched.free(v);
      freeConvScratch(sched, s);
      let size = 0, gsize = 0, K = 1;
      for (const d of data) {
        const m = magnitudes(d, C);
        size += (m.gn + m.cc) ** 2;
        gsize += m.gn ** 2;
        K = Math.max(K, m.K);
      }
      const last = data[data.length - 1];
      return compare(name, [
        ['dist', got.dist, convDistMaterialisedRef(data, C), { atol: 2e-7 * Math.sqrt(K) * size, rtol: 0 }],
        ['norms', got.norms, convSqnormMaterialisedRef(data, bias), { atol: 2e-7 * Math.sqrt(K) * gsize, rtol: 0 }],
        ['CG (last layer)', got.CG, convCGType1Ref(last.x, last.dy, last.Ci, last.Co, last.g, C), { atol: 2e-7 * Math.sqrt(K) * size, rtol: 0 }],
      ]);
    },
  };
}

export interface ConvSqnormCase {
  layers: ConvLayerShape[];
  B: number;
  gg?: Contraction;
  bias?: boolean;
}

/** convSqnorm on its own (it forms GG itself, by the forced contraction), summed over layers. */
export function convSqnormCheck(c: ConvSqnormCase, seed = 1): KernelCheck {
  const name = `convSqnorm B=${c.B} [${c.layers.map(convLayerName).join('; ')}] gg=${c.gg ?? 'auto'}${c.bias ? ' bias' : ''}`;
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const data = c.layers.map((l) => layerData(rng, l, c.B, 1));
      const s = convScratch(sched, data.map((d) => d.g), 1, { force: { gg: c.gg } });
      const norms = upload(sched, rng.uniformArray(c.B)); // garbage: beta = 0 must not read it
      const ins: View[] = [];
      let gsize = 0, K = 1;
      data.forEach((d, n) => {
        const x = upload(sched, d.x), dy = upload(sched, d.dy);
        ins.push(x, dy);
        convSqnorm(sched, { x, dy, out: norms, scratch: s }, d.g, { beta: n === 0 ? 0 : 1, bias: c.bias, gg: c.gg });
        const m = magnitudes(d, 1);
        gsize += m.gn ** 2;
        K = Math.max(K, m.K);
      });
      const got = await sched.read(norms);
      for (const v of [...ins, norms]) sched.free(v);
      freeConvScratch(sched, s);
      return compare(name, [['norms', got, convSqnormMaterialisedRef(data, !!c.bias), { atol: 2e-7 * Math.sqrt(K) * gsize, rtol: 0 }]]);
    },
  };
}

/** convUstepRows: Ais = (1/T)·Σ_t a_t / stable and Gos = Σ_t δ_t · stable against float64. */
export function convUstepCheck(c: { layer: ConvLayerShape; B: number; stable?: number }, seed = 1): KernelCheck {
  const stable = c.stable ?? 100;
  const name = `convUstepRows ${convLayerName(c.layer)} B=${c.B} stable=${stable}`;
  return {
    name,
    async run(sched) {
      const d = layerData(new Rng(seed), c.layer, c.B, 1);
      const { T, din } = convShape(d.g);
      const x = upload(sched, d.x), dy = upload(sched, d.dy);
      const Ais = sched.alloc(c.B * din), Gos = sched.alloc(c.B * c.layer.Cout);
      convUstepRows(sched, { x, dy, Ais, Gos }, d.g, { stable });
      const got = { Ais: await sched.read(Ais), Gos: await sched.read(Gos) };
      for (const v of [x, dy, Ais, Gos]) sched.free(v);
      const want = convUstepRowsRef(d.x, d.dy, d.g, stable);
      // f32 sums of T terms of size ≤ 1 (x) or 0.1 (dy): error ≲ eps·T·size, then scaled
      return compare(name, [
        ['Ais', got.Ais, want.Ais, { atol: 2e-7 / stable, rtol: 4e-7 }],
        ['Gos', got.Gos, want.Gos, { atol: 2e-7 * 0.1 * T * stable, rtol: 4e-7 }],
      ]);
    },
  };
}
