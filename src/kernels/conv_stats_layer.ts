// The per-layer calls of the conv_stats family: one conv layer's A-step terms (convLayerTerms,
// the counterpart of gcLayerTerms), its per-example squared gradient norms (convSqnorm) and its
// U-step rows (convUstepRows). The batch is walked in chunks of nb examples so that unfolded
// patches and per-example gradients exist for one chunk at a time; nb is the largest count
// whose chunk buffers fit `chunkFloats` (default 8 Mi floats = 32 MiB).
//
// Scratch: four pooled buffers, because WebGPU forbids one buffer as read-only and writable
// storage in the same dispatch and each step reads one group and writes the next:
//   inputs    U [nb, T4, din8], DT [nb, T4, cout8], CiT [din8, C], CoT [cout8, C]  (zero-padded)
//   products  GT [din8, nb·Cout] (type 2: g_n transposed) and/or P, Q [nb·T4, C] (CG type 1)
//   h         H = GTᵀ·CiT [nb·Cout, C] (CG type 2); ds = Σ_t δ [B, Cout] (convSqnorm bias)
//   results   GG [B], CG [B, C], ci2 [C], co2 [C], bsq [B]  (whole batch)
// One scratch, sized by convScratch for every layer it will serve, is re-used layer by layer.
// The centre factors are stored transposed (CiT, CoT) and the gradients as GT so that the
// H = Σ_j g[o, j]·c_k[j] product is matmul's fast TN form (both operands read along m / n
// straight from memory): 1.4–1.5× the NT form's rate on llvmpipe (M = 2048, N = 128,
// K = 288 / 576: 26 vs 40 ms, 48 vs 69 ms).
import { type Bindable, type View, asView } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';
import { matmul } from './matmul.ts';
import { rowsumsq } from './reduce.ts';
import { convShape, convCostChoice, convParams, convStatsOp, type ConvGeometry, type ConvShape, type ConvCostChoice, type Contraction } from './conv_stats.ts';

export const DEFAULT_CHUNK_FLOATS = 8 * 1024 * 1024;

/** Overrides of the cost formulas' choice (the results are the same, the cost is not):
 *  a fixed contraction per statistic, or `shared` (see convCostChoice). */
export interface ConvForce { cg?: Contraction; gg?: Contraction; shared?: boolean }

/** terms: convLayerTerms; sqnorm: convSqnorm forming GG; reuse: convSqnorm with ggFromTerms */
type Purpose = 'terms' | 'sqnorm' | 'reuse';
const a64 = (n: number) => Math.ceil(n / 64) * 64;

/** What one call records: the contractions, the chunk size and the floats each scratch
 *  buffer must hold (lens: the regions carved from `inputs`, `products` and `h`, in order). */
export interface ConvPlan {
  choice: ConvCostChoice;
  shape: ConvShape;
  nb: number;
  lens: { inputs: number[]; products: number[]; h: number[] };
}

export function convPlan(g: ConvGeometry, C: number, what: Purpose, chunkFloats = DEFAULT_CHUNK_FLOATS, force: ConvForce = {}): ConvPlan {
  const shape = convShape(g);
  const base = convCostChoice(g, C, { shared: force.shared });
  const choice = { ...base, cg: force.cg ?? base.cg, gg: force.gg ?? base.gg };
  const { T4, din8, cout8 } = shape;
  const terms = what === 'terms', chunks = what !== 'reuse';
  const needG = chunks && (choice.gg === 'type2' || (terms && choice.cg === 'type2'));
  const needPQ = terms && choice.cg === 'type1';
  const needH = terms && choice.cg === 'type2';
  const per = T4 * din8 + T4 * cout8 + (needG ? g.Cout * din8 : 0) + (needPQ ? 2 * T4 * C : 0) + (needH ? g.Cout * C : 0);
  const nb = Math.max(1, Math.min(g.B, Math.floor(chunkFloats / per)));
  return {
    choice, shape, nb,
    lens: {
      inputs: chunks ? [nb * T4 * din8, nb * T4 * cout8, ...(terms ? [din8 * C, cout8 * C] : [])] : [],
      products: [needG ? din8 * nb * g.Cout : 0, ...(needPQ ? [nb * T4 * C, nb * T4 * C] : [])],
      h: [needH ? nb * g.Cout * C : 0, terms ? 0 : g.B * g.Cout],
    },
  };
}

const total = (lens: number[]) => lens.reduce((s, n) => s + a64(n), 0);

/** Consecutive views of `lens` elements at 64-aligned offsets of one buffer. */
function carve(buf: View, lens: number[]): View[] {
  let at = buf.offset;
  return lens.map((length) => {
    const v = { buffer: buf.buffer, offset: at, length };
    at += a64(length);
    return v;
  });
}

export interface ConvScratch {
  inputs: View; products: View; h: View; results: View;
  /** [B] ||g_i||² of the last layer recorded (left for convSqnorm's ggFromTerms) */ GG: View;
  /** [B, C] <C_k, g_i> of the last layer */ CG: View;
  /** [C] ||c_k||², ||d_k||² */ ci2: View; co2: View;
  /** [B] ||Σ_t δ_{i,t}||² of the last convSqnorm with bias */ bsq: View;
  B: number; C: number; chunkFloats: number;
}

/** One scratch for every layer in `layers` (same B), for both convLayerTerms and convSqnorm. */
export function convScratch(sched: Scheduler, layers: ConvGeometry[], C: number, opts: { chunkFloats?: number; force?: ConvForce } = {}): ConvScratch {
  const chunkFloats = opts.chunkFloats ?? DEFAULT_CHUNK_FLOATS;
  if (layers.length === 0) badInput('convScratch', 'no layers given');
  if (!Number.isInteger(chunkFloats) || chunkFloats <= 0) badInput('convScratch', `chunkFloats must be a positive integer, got ${chunkFloats}`);
  const B = layers[0].B;
  if (layers.some((g) => g.B !== B)) badInput('convScratch', `every layer must have the same batch B, got ${layers.map((g) => g.B).join(', ')}`);
  const size = { inputs: 64, products: 64, h: 64 };
  for (const g of layers) {
    for (const what of ['terms', 'sqnorm', 'reuse'] as const) {
      const p = convPlan(g, C, what, chunkFloats, opts.force);
      for (const k of ['inputs', 'products', 'h'] as const) size[k] = Math.max(size[k], total(p.lens[k]));
    }
  }
  const results = sched.alloc(total([B, B * C, C, C, B]), 'conv-stats-results');
  const [GG, CG, ci2, co2, bsq] = carve(results, [B, B * C, C, C, B]);
  return {
    inputs: sched.alloc(size.inputs, 'conv-stats-inputs'), products: sched.alloc(size.products, 'conv-stats-products'),
    h: sched.alloc(size.h, 'conv-stats-h'), results, GG, CG, ci2, co2, bsq, B, C, chunkFloats,
  };
}

export function freeConvScratch(sched: Scheduler, s: ConvScratch): void {
  for (const v of [s.inputs, s.products, s.h, s.results]) sched.free(v);
}

/** The plan for this call, checked against the scratch and the caller's buffers. */
function prepare(where: string, s: ConvScratch, g: ConvGeometry, C: number, what: Purpose, force: ConvForce, bufs: Record<string, unknown>, need: Record<string, number>): ConvPlan {
  const plan = convPlan(g, C, what, s.chunkFloats, force);
  if (s.B !== g.B || s.C !== C) badInput(where, `scratch was made for B=${s.B} C=${s.C}, called with B=${g.B} C=${C}`);
  for (const k of ['inputs', 'products', 'h'] as const) {
    if (s[k].length < total(plan.lens[k])) badInput(where, `scratch '${k}' holds ${s[k].length} floats, this layer needs ${total(plan.lens[k])}: pass its geometry (and force) to convScratch`);
  }
  const mine = new Set([s.inputs.buffer, s.products.buffer, s.h.buffer, s.results.buffer]);
  for (const [n, len] of Object.entries(need)) {
    const b = bufs[n] as Bindable | undefined;
    if (!b) badInput(where, `buffer '${n}' was not given`);
    const v = asView(b);
    if (v.length < len) badInput(where, `'${n}' holds ${v.length} elements, the layer needs ${len}`);
    if (mine.has(v.buffer)) badInput(where, `'${n}' lies in the scratch, which the layer overwrites`);
  }
  return plan;
}

/** Records unfold + transpose of examples n0 .. n0+n into U, DT, the chunk's gradients into
 *  GT [din8, n·Cout] when a type-2 contraction needs them, then GG for the chunk. */
function chunkGG(sched: Scheduler, g: ConvGeometry, plan: ConvPlan, n0: number, n: number, v: { x: Bindable; dy: Bindable; U: View; DT: View; GT: View; GG: View }): void {
  const ld = n * g.Cout;
  const p = convParams(g, { nb: n, n0, ld });
  convStatsOp(sched, 'conv_unfold', { x: v.x, Uw: v.U }, p);
  convStatsOp(sched, 'conv_dy_t', { dy: v.dy, DTw: v.DT }, p);
  if (plan.lens.products[0] > 0) convStatsOp(sched, 'conv_pegrad', { U: v.U, DT: v.DT, GT: v.GT }, p);
  if (plan.choice.gg === 'type1') convStatsOp(sched, 'conv_gram_gg', { U: v.U, DT: v.DT, GG: v.GG }, p);
  else convStatsOp(sched, 'conv_sumsq_cols', { X: v.GT, out: v.GG }, convParams(null, { n0, R: n, L: g.Cout, ld, din8: plan.shape.din8 }));
}

/** A [R, L] matrix transposed to [ld, R], rows L .. ld − 1 zero. */
function paddedT(sched: Scheduler, X: Bindable, R: number, L: number, ld: number, dst: View): View {
  convStatsOp(sched, 'conv_pad_t', { X, out: dst }, convParams(null, { R, L, ld }));
  return dst;
}

export interface ConvLayerBuffers {
  /** [B, Cin, H, W] the layer's input (raw) */ x: Bindable;
  /** [B, Cout, Ho, Wo] its output gradient δ (raw) */ dy: Bindable;
  /** [C, din] centre factors c_k */ Ci: Bindable;
  /** [C, Cout] centre factors d_k */ Co: Bindable;
  /** [B, C] the layers' summed ||g_i − C_k||², written (beta = 0) or added to (beta = 1) */ dist: Bindable;
  scratch: ConvScratch;
}

/** Records one conv layer's A-step terms, dist = beta·dist + ||c_k||²||d_k||² − 2·CG + GG, by
 *  the contractions the cost formulas choose (or `force`); returns the choice. GG and CG of
 *  this layer stay in scratch.GG / scratch.CG until the next call. */
export function convLayerTerms(sched: Scheduler, bufs: ConvLayerBuffers, g: ConvGeometry, C: number, beta = 0, opts: { force?: ConvForce } = {}): ConvCostChoice {
  const s = bufs.scratch;
  const { T, din } = convShape(g, 'convLayerTerms');
  const need = { x: g.B * g.Cin * g.H * g.W, dy: g.B * g.Cout * T, Ci: C * din, Co: C * g.Cout, dist: g.B * C };
  const plan = prepare('convLayerTerms', s, g, C, 'terms', opts.force ?? {}, { ...bufs }, need);
  if (!Number.isFinite(beta)) badInput('convLayerTerms', `beta must be a finite number, got ${beta}`);
  const { T4, din8, cout8 } = plan.shape;
  const { B, Cout } = g;
  const [U, DT, CiTv, CoTv] = carve(s.inputs, plan.lens.inputs);
  const [GT, P, Q] = carve(s.products, plan.lens.products);
  const [H] = carve(s.h, plan.lens.h);
  rowsumsq(sched, { X: bufs.Ci, out: s.ci2 }, { R: C, Cc: din });
  rowsumsq(sched, { X: bufs.Co, out: s.co2 }, { R: C, Cc: Cout });
  const CiT = paddedT(sched, bufs.Ci, C, din, din8, CiTv);
  const type1 = plan.choice.cg === 'type1';
  const CoT = type1 ? paddedT(sched, bufs.Co, C, Cout, cout8, CoTv) : null;
  for (let n0 = 0; n0 < B; n0 += plan.nb) {
    const n = Math.min(plan.nb, B - n0);
    chunkGG(sched, g, plan, n0, n, { x: bufs.x, dy: bufs.dy, U, DT, GT, GG: s.GG });
    if (CoT) {
      matmul(sched, { A: U, B: CiT, C: P }, { M: n * T4, N: C, K: din8 });
      matmul(sched, { A: DT, B: CoT, C: Q }, { M: n * T4, N: C, K: cout8 });
      convStatsOp(sched, 'conv_cg_rows', { X: P, Y: Q, CG: s.CG }, convParams(null, { n0, C, R: n, L: T4, yn: T4 * C, yl: C, yk: 1 }));
    } else {
      matmul(sched, { A: GT, B: CiT, C: H }, { M: n * Cout, N: C, K: din8, transA: true });
      convStatsOp(sched, 'conv_cg_rows', { X: H, Y: bufs.Co, CG: s.CG }, convParams(null, { n0, C, R: n, L: Cout, yn: 0, yl: 1, yk: Cout }));
    }
  }
  convStatsOp(sched, 'conv_dist_accum', { GG_in: s.GG, CG_in: s.CG, ci2: s.ci2, co2: s.co2, dist: bufs.dist }, convParams(null, { nb: B, C, beta }));
  return plan.choice;
}

/** out[i] = beta·out[i] + ||g_i||² (+ ||Σ_t δ_{i,t}||², the bias gradient's, with `bias`): one
 *  conv layer's per-example squared gradient norm, summed over layers with beta = 1.
 *  `ggFromTerms` re-uses the GG the preceding convLayerTerms of the same layer left. */
export function convSqnorm(
  sched: Scheduler,
  bufs: { x: Bindable; dy: Bindable; out: Bindable; scratch: ConvScratch },
  g: ConvGeometry,
  a: { beta?: number; bias?: boolean; gg?: Contraction; ggFromTerms?: boolean } = {},
): void {
  const s = bufs.scratch;
  const { T } = convShape(g, 'convSqnorm');
  const need = { x: g.B * g.Cin * g.H * g.W, dy: g.B * g.Cout * T, out: g.B };
  const plan = prepare('convSqnorm', s, g, s.C, a.ggFromTerms ? 'reuse' : 'sqnorm', { gg: a.gg }, { ...bufs }, need);
  const { beta = 0, bias = false } = a;
  if (!Number.isFinite(beta)) badInput('convSqnorm', `beta must be a finite number, got ${beta}`);
  const [U, DT] = carve(s.inputs, plan.lens.inputs);
  const [GT] = carve(s.products, plan.lens.products);
  const [, ds] = carve(s.h, plan.lens.h);
  if (!a.ggFromTerms) {
    for (let n0 = 0; n0 < g.B; n0 += plan.nb) {
      chunkGG(sched, g, plan, n0, Math.min(plan.nb, g.B - n0), { x: bufs.x, dy: bufs.dy, U, DT, GT, GG: s.GG });
    }
  }
  if (bias) {
    convStatsOp(sched, 'conv_dsum', { dy: bufs.dy, out: ds }, convParams(g, { nb: g.B, scale: 1 }));
    rowsumsq(sched, { X: ds, out: s.bsq }, { R: g.B, Cc: g.Cout });
  }
  convStatsOp(sched, 'conv_sqnorm_accum', { GG_in: s.GG, bsq: bias ? s.bsq : sched.dummy, norms: bufs.out }, convParams(null, { nb: g.B, beta, bias: bias ? 1 : 0 }));
}

/** U-step rows (SPEC 1.6): Ais [B, din] = (1/T)·Σ_t a_{i,t} / stable, Gos [B, Cout] =
 *  Σ_t δ_{i,t}·stable, for gc_scatter to sum per cluster. */
export function convUstepRows(sched: Scheduler, bufs: { x: Bindable; dy: Bindable; Ais: Bindable; Gos: Bindable }, g: ConvGeometry, a: { stable?: number } = {}): void {
  const { T } = convShape(g, 'convUstepRows');
  const stable = a.stable ?? 100;
  if (!Number.isFinite(stable) || stable === 0) badInput('convUstepRows', `stable must be a finite non-zero number, got ${stable}`);
  convStatsOp(sched, 'conv_patch_mean', { x: bufs.x, out: bufs.Ais }, convParams(g, { nb: g.B, scale: 1 / (T * stable) }));
  convStatsOp(sched, 'conv_dsum', { dy: bufs.dy, out: bufs.Gos }, convParams(g, { nb: g.B, scale: stable }));
}
