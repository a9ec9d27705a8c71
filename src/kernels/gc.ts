// Kernel descriptors for shaders/gc.wgsl (Gradient Clustering's A-step and U-step, and
// per-example squared gradient norms of fully-connected layers) and the calls the GC driver
// uses. `gcLayerTerms()` records one layer's whole A-step contribution: two matmuls, four
// row norms and gc_dist_accum. Shapes: B examples, C clusters, Din/Dout layer widths, D the
// row length of a scatter.
import { type Kernel, type Bindable, type View, asView, ceilDiv, grid1d, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';
import { matmul } from './matmul.ts';
import { rowsumsq } from './reduce.ts';

export type GcOp = 'gc_dist_accum' | 'gc_assign' | 'gc_count' | 'gc_scatter' | 'pe_sqnorm_accum';
export const GC_OPS: readonly GcOp[] = ['gc_dist_accum', 'gc_assign', 'gc_count', 'gc_scatter', 'pe_sqnorm_accum'];

export interface GcParams {
  [k: string]: number;
  B: number; C: number; D: number; bias: number;
  beta: number; scale: number; quant: number;
}

export interface GcConfig {
  /** flat ops: invocations per workgroup (1..256) */
  wg?: number;
  /** gc_assign: lanes per row (wgX) × rows per workgroup (wgY) */
  wgX?: number;
  wgY?: number;
}

// Workgroup shapes, measured at B = C = 128 (D = 1024 for the scatter) on this project's
// 2-core machine under other sessions' load (load average ≈ 3.3), ms per call, median of 9
// interleaved repetitions, each shape on its own Scheduler (so the readback's learned sleep
// of one shape cannot pad another's); llvmpipe GL / lavapipe Vulkan:
//   gc_assign lanes×rows  1×8 0.22/0.25  1×32 0.21/0.37  1×64 0.21/0.36  4×32 0.23/0.26
//                         8×8 0.25/0.39  32×8 0.46/0.40   (a B=1 dispatch: 0.09/0.19)
//   gc_count wg 8..128 0.11–0.14 / 0.17–0.26; gc_dist_accum wg 16/64/256 0.58/0.50/0.41 GL
// Row-per-invocation shapes sit within noise of one another, ~0.1 ms above the cost of any
// dispatch; lanes sharing a row only add the combine on a CPU adapter (it runs lanes as
// SIMD, not as cores), up to 2× at 32 lanes. So one invocation per row. A real GPU with
// B ≪ its lane count may want wgX = 32 (pass wgX/wgY; the result is bit-identical).
const FLAT_WG: Record<Exclude<GcOp, 'gc_assign'>, number> = {
  gc_dist_accum: 256, pe_sqnorm_accum: 256, gc_count: 64, gc_scatter: 64,
};
const ASSIGN_WG = { wgX: 1, wgY: 64 };

// Binding names and order as in the WGSL (inputs first, written last); `_in` marks the
// read-only view of a buffer another entry point writes.
const BINDINGS: Record<GcOp, Array<{ name: string; access: 'read' | 'read_write' }>> = {
  gc_dist_accum: [...['aa', 'gg', 'P', 'Q', 'ci2', 'co2'].map((name) => ({ name, access: 'read' as const })), { name: 'dist', access: 'read_write' }],
  pe_sqnorm_accum: [{ name: 'aa', access: 'read' }, { name: 'gg', access: 'read' }, { name: 'out', access: 'read_write' }],
  gc_assign: [{ name: 'dist_in', access: 'read' }, { name: 'counts_in', access: 'read' }, { name: 'assign', access: 'read_write' }, { name: 'best', access: 'read_write' }],
  gc_count: [{ name: 'assign_in', access: 'read' }, { name: 'counts', access: 'read_write' }],
  gc_scatter: [{ name: 'assign_in', access: 'read' }, { name: 'X', access: 'read' }, { name: 'S', access: 'read_write' }],
};

/** Element count of every binding of an op (B, C, D from the params). */
function sizesOf(op: GcOp, p: GcParams): Record<string, number> {
  const { B, C, D } = p;
  switch (op) {
    case 'gc_dist_accum': return { aa: B, gg: B, P: B * C, Q: B * C, ci2: C, co2: C, dist: B * C };
    case 'pe_sqnorm_accum': return { aa: B, gg: B, out: B };
    case 'gc_assign': return { dist_in: B * C, counts_in: C, assign: B, best: B };
    case 'gc_count': return { assign_in: B, counts: C };
    case 'gc_scatter': return { assign_in: B, X: B * D, S: C * D };
  }
}

/** The sizes an op uses; the others are 0 in its params. */
const USES: Record<GcOp, Array<'B' | 'C' | 'D'>> = {
  gc_dist_accum: ['B', 'C'], pe_sqnorm_accum: ['B'], gc_assign: ['B', 'C'], gc_count: ['B', 'C'], gc_scatter: ['B', 'C', 'D'],
};

function checkParams(name: string, op: GcOp, p: GcParams): void {
  const used = USES[op];
  if (!used.every((n) => Number.isInteger(p[n]) && p[n] > 0)) {
    badInput(name, `sizes must be positive integers, got ${used.map((n) => `${n}=${p[n]}`).join(' ')}`);
  }
  const biggest = Math.max(...Object.values(sizesOf(op, p)));
  if (biggest >= 2 ** 32) badInput(name, `a buffer of ${biggest} elements does not fit the kernel's u32 indices`);
  for (const n of ['beta', 'scale', 'quant'] as const) {
    if (!Number.isFinite(p[n])) badInput(name, `${n} must be a finite number, got ${p[n]}`);
  }
  if (p.quant < 0) badInput(name, `quant must be ≥ 0 (0 = no quantisation), got ${p.quant}`);
  if (p.bias !== 0 && p.bias !== 1) badInput(name, `bias must be 0 or 1, got ${p.bias}`);
}

const cache = new Map<string, Kernel<GcParams>>();

export function gcKernel(op: GcOp, cfg: GcConfig = {}): Kernel<GcParams> {
  if (!BINDINGS[op]) badInput('gc', `unknown op '${op}'`);
  const assignOp = op === 'gc_assign';
  const wgX = assignOp ? cfg.wgX ?? ASSIGN_WG.wgX : 1;
  const wgY = assignOp ? cfg.wgY ?? ASSIGN_WG.wgY : 1;
  const wg = assignOp ? 1 : cfg.wg ?? FLAT_WG[op as Exclude<GcOp, 'gc_assign'>];
  const custom = assignOp ? wgX !== ASSIGN_WG.wgX || wgY !== ASSIGN_WG.wgY : wg !== FLAT_WG[op as Exclude<GcOp, 'gc_assign'>];
  const name = `${op}${custom ? (assignOp ? `_wg${wgX}x${wgY}` : `_wg${wg}`) : ''}`;
  let k = cache.get(name);
  if (k) return k;
  for (const [n, v] of Object.entries({ wg, wgX, wgY })) {
    if (!Number.isInteger(v) || v < 1) badInput(name, `${n} must be a positive integer, got ${v}`);
  }
  if (wg * wgX * wgY > 256) badInput(name, `workgroup of ${wg * wgX * wgY} invocations is more than 256`);
  // Workgroups: rows for gc_assign, else one invocation per element (dist, norms), per
  // cluster (count) or per column (scatter).
  const items = (p: GcParams) => (op === 'gc_dist_accum' ? p.B * p.C : op === 'gc_count' ? p.C : op === 'gc_scatter' ? p.D : p.B);
  k = {
    name,
    shader: 'gc',
    entryPoint: op,
    overrides: assignOp ? { WG_X: wgX, WG_Y: wgY } : { WG: wg },
    bindings: BINDINGS[op],
    params: [...u32('B', 'C', 'D', 'bias'), ...f32('beta', 'scale', 'quant')],
    sizes: (p) => sizesOf(op, p),
    dispatch: (p) => grid1d(assignOp ? ceilDiv(p.B, wgY) : ceilDiv(items(p), wg)),
    check: (p) => checkParams(name, op, p),
  };
  cache.set(name, k);
  return k;
}

/** Every pipeline configuration the calls below launch (for the shader test). */
export function allGcKernels(): Kernel<GcParams>[] {
  return GC_OPS.map((op) => gcKernel(op));
}

function params(p: Partial<GcParams>): GcParams {
  return { B: 0, C: 0, D: 0, bias: 0, beta: 0, scale: 1, quant: 0, ...p };
}

/** dist[i,k] = beta·dist[i,k] + ci2[k]·co2[k] − 2·P[i,k]·Q[i,k] + aa[i]·gg[i]: one layer's
 *  ||g_i − C_k||² added into dist [B, C] (beta = 0 for the first layer, 1 after). */
export function gcDistAccum(
  sched: Scheduler,
  bufs: { aa: Bindable; gg: Bindable; P: Bindable; Q: Bindable; ci2: Bindable; co2: Bindable; dist: Bindable },
  a: { B: number; C: number; beta?: number } & GcConfig,
): void {
  sched.record(gcKernel('gc_dist_accum', a), bufs, params({ B: a.B, C: a.C, beta: a.beta ?? 0 }));
}

/** assign[i] = argmin_k v, best[i] = min_k v, v = (counts[k] + 1)·dist[i,k], rounded to a
 *  multiple of quant when quant > 0; ties → lowest k, NaN after every number. counts [C]
 *  holds what the host chose: the previous pass's sizes (paper) or the running count (code). */
export function gcAssign(
  sched: Scheduler,
  bufs: { dist: Bindable; counts: Bindable; assign: Bindable; best: Bindable },
  a: { B: number; C: number; quant?: number } & GcConfig,
): void {
  const { dist, counts, assign, best } = bufs;
  sched.record(gcKernel('gc_assign', a), { dist_in: dist, counts_in: counts, assign, best }, params({ B: a.B, C: a.C, quant: a.quant ?? 0 }));
}

/** counts[k] = beta·counts[k] + #{i < B : assign[i] = k} (beta = 1: the running count). */
export function gcCount(
  sched: Scheduler,
  bufs: { assign: Bindable; counts: Bindable },
  a: { B: number; C: number; beta?: number } & GcConfig,
): void {
  sched.record(gcKernel('gc_count', a), { assign_in: bufs.assign, counts: bufs.counts }, params({ B: a.B, C: a.C, beta: a.beta ?? 0 }));
}

/** S[k,j] = beta·S[k,j] + scale·Σ_{i : assign[i] = k} X[i,j] for X [B, D], S [C, D].
 *  A direct kernel, not a one-hot [B, C] matrix and a TN matmul (onehotᵀ·X, M = C, N = D,
 *  K = B): at B = C = 128, D = 1024 the direct kernel takes 1.0–1.4 ms on llvmpipe GL and
 *  1.3–1.9 ms on lavapipe (wg 8..64, indistinguishable), the matmul alone 12–18 / 18–20 ms,
 *  before building the one-hot. One invocation per (k, j) looping over all B (C·D-way
 *  parallel, no read-modify-write) was tried and took 62–68 / 85–92 ms. wg = 64: no cost on
 *  a CPU adapter, and a GPU wants whole warps. */
export function gcScatter(
  sched: Scheduler,
  bufs: { assign: Bindable; X: Bindable; S: Bindable },
  a: { B: number; C: number; D: number; beta?: number; scale?: number } & GcConfig,
): void {
  sched.record(gcKernel('gc_scatter', a), { assign_in: bufs.assign, X: bufs.X, S: bufs.S }, params({ B: a.B, C: a.C, D: a.D, beta: a.beta ?? 0, scale: a.scale ?? 1 }));
}

/** out[i] = beta·out[i] + aa[i]·gg[i] (+ gg[i] with bias): per-example squared gradient norm
 *  of one Linear layer's weight (and bias), summed over layers with beta = 1. */
export function peSqnormAccum(
  sched: Scheduler,
  bufs: { aa: Bindable; gg: Bindable; out: Bindable },
  a: { B: number; beta?: number; bias?: boolean } & GcConfig,
): void {
  sched.record(gcKernel('pe_sqnorm_accum', a), bufs, params({ B: a.B, beta: a.beta ?? 0, bias: a.bias ? 1 : 0 }));
}

/** One pooled buffer with the per-layer intermediates of gcLayerTerms, as named views at
 *  64-element-aligned offsets. It depends on B and C only, so one serves every layer (the
 *  layers are recorded one after another). `all` is the whole buffer, for sched.free(). */
export interface GcScratch {
  /** [B, C] <c_k, a_i> */ P: View;
  /** [B, C] <d_k, δ_i> */ Q: View;
  /** [B] ||a_i||², left there for peSqnormAccum */ aa: View;
  /** [B] ||δ_i||², left there for peSqnormAccum */ gg: View;
  /** [C] ||c_k||² */ ci2: View;
  /** [C] ||d_k||² */ co2: View;
  all: View;
  B: number;
  C: number;
}

export function gcScratch(sched: Scheduler, B: number, C: number): GcScratch {
  if (!(Number.isInteger(B) && Number.isInteger(C) && B > 0 && C > 0)) badInput('gcScratch', `sizes must be positive integers, got B=${B} C=${C}`);
  const lens = { P: B * C, Q: B * C, aa: B, gg: B, ci2: C, co2: C };
  const all = sched.alloc(Object.values(lens).reduce((s, n) => s + Math.ceil(n / 64) * 64, 0), 'gc-scratch');
  let at = 0;
  const views: Record<string, View> = {};
  for (const [n, len] of Object.entries(lens)) {
    views[n] = { buffer: all.buffer, offset: at, length: len };
    at += Math.ceil(len / 64) * 64;
  }
  return { ...(views as Pick<GcScratch, 'P' | 'Q' | 'aa' | 'gg' | 'ci2' | 'co2'>), all, B, C };
}

export interface GcLayerBuffers {
  /** [B, Din] layer inputs a_i (as used in the distances: raw, not divided by stable) */
  A: Bindable;
  /** [B, Dout] output gradients δ_i (raw) */
  G: Bindable;
  /** [C, Din] centre factors c_k */
  Ci: Bindable;
  /** [C, Dout] centre factors d_k */
  Co: Bindable;
  /** [B, C] the layers' summed ||g_i − C_k||², written (beta = 0) or added to (beta = 1) */
  dist: Bindable;
  scratch: GcScratch;
}

/** Records one Linear layer's A-step terms: P = A·Ciᵀ, Q = G·Coᵀ, the four row norms, then
 *  dist = beta·dist + ||g_i − C_k||². Every size is checked before anything is recorded. */
export function gcLayerTerms(sched: Scheduler, bufs: GcLayerBuffers, a: { B: number; din: number; dout: number; C: number; beta?: number }): void {
  const { B, din, dout, C, beta = 0 } = a;
  for (const [n, v] of Object.entries({ B, din, dout, C })) {
    if (!Number.isInteger(v) || v <= 0) badInput('gcLayerTerms', `${n} must be a positive integer, got ${v}`);
  }
  const s = bufs.scratch;
  if (s.B !== B || s.C !== C) badInput('gcLayerTerms', `scratch was made for B=${s.B} C=${s.C}, called with B=${B} C=${C}`);
  const need = { A: B * din, G: B * dout, Ci: C * din, Co: C * dout, dist: B * C };
  for (const [n, len] of Object.entries(need) as Array<[keyof typeof need, number]>) {
    const v = asView(bufs[n]);
    if (v.length < len) badInput('gcLayerTerms', `'${n}' holds ${v.length} elements, B=${B} din=${din} dout=${dout} C=${C} need ${len}`);
    if (v.buffer === s.all.buffer) badInput('gcLayerTerms', `'${n}' lies in the scratch buffer, which the layer overwrites`);
  }
  if (!Number.isFinite(beta)) badInput('gcLayerTerms', `beta must be a finite number, got ${beta}`);
  matmul(sched, { A: bufs.A, B: bufs.Ci, C: s.P }, { M: B, N: C, K: din, transB: true });
  matmul(sched, { A: bufs.G, B: bufs.Co, C: s.Q }, { M: B, N: C, K: dout, transB: true });
  rowsumsq(sched, { X: bufs.A, out: s.aa }, { R: B, Cc: din });
  rowsumsq(sched, { X: bufs.G, out: s.gg }, { R: B, Cc: dout });
  rowsumsq(sched, { X: bufs.Ci, out: s.ci2 }, { R: C, Cc: din });
  rowsumsq(sched, { X: bufs.Co, out: s.co2 }, { R: C, Cc: dout });
  gcDistAccum(sched, { aa: s.aa, gg: s.gg, P: s.P, Q: s.Q, ci2: s.ci2, co2: s.co2, dist: bufs.dist }, { B, C, beta });
}
