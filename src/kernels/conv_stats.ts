// Kernel descriptors for shaders/conv_stats.wgsl (per-example gradient statistics of conv
// layers), the layer geometry, and the code's cost formulas that pick a contraction per
// statistic (SPEC 1.4). The per-layer calls (convLayerTerms, convSqnorm, convUstepRows) that
// chain these kernels in chunks are in conv_stats_layer.ts. Shapes: B examples, C clusters,
// x [B, Cin, H, W], dy [B, Cout, Ho, Wo], T = Ho·Wo positions, din = Cin·kh·kw.
import { type Kernel, type Bindable, ceilDiv, grid1d, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';
import { conv2dShape, type Conv2dGeometry } from './conv2d.ts';

export type ConvStatsOp =
  | 'conv_unfold' | 'conv_dy_t' | 'conv_pegrad' | 'conv_sumsq_cols' | 'conv_gram_gg' | 'conv_cg_rows'
  | 'conv_pad_t' | 'conv_dist_accum' | 'conv_sqnorm_accum' | 'conv_patch_mean' | 'conv_dsum';

/** One conv layer at one batch size: NCHW input, stride and zero padding on both axes (the
 *  conv2d kernels' geometry). */
export type ConvGeometry = Conv2dGeometry;

/** Derived sizes: T4 / din8 / cout8 are the padded row counts and strides of the chunk buffers. */
export interface ConvShape {
  Ho: number; Wo: number; T: number; T4: number; din: number; din8: number; cout8: number;
}

const up = (n: number, m: number) => Math.ceil(n / m) * m;

/** Validates a geometry (conv2dShape: one clear error) and derives its sizes. */
export function convShape(g: ConvGeometry, where = 'conv_stats'): ConvShape {
  const { Ho, Wo, T } = conv2dShape(g, where);
  const din = g.Cin * g.kh * g.kw;
  return { Ho, Wo, T, T4: up(T, 4), din, din8: up(din, 8), cout8: up(g.Cout, 8) };
}

export type Contraction = 'type1' | 'type2';

export interface ConvCostChoice {
  /** CG = <C_k, g_i>: type1 Σ_t <c_k,a_t><d_k,δ_t>, type2 from the materialised g_i */
  cg: Contraction;
  /** GG = ||g_i||²: type1 Gram over positions, type2 from the materialised g_i */
  gg: Contraction;
  cost: { cg1: number; cg2: number; gg1: number; gg2: number };
}

/** The code's choice (SPEC 1.4, `_conv_dot_choose`, `_gnorm_choose`): type 1 iff cost1 < cost2.
 *   CG: cost1 = C·din·B·T + C·Cout·B·T + C·B·T,   cost2 = B·din·T·Cout + C·B·din·Cout
 *   GG: cost1 = B·din·T² + B·Cout·T² + B·T²,      cost2 = B·din·Cout·T + B·din·Cout
 *  `shared`: this engine forms g_i once per chunk for both statistics, so when GG is type 2
 *  the CG type 2 cost is only its own C·B·din·Cout (cost.cg2 then holds that). */
export function convCostChoice(g: ConvGeometry, C: number, opts: { shared?: boolean } = {}): ConvCostChoice {
  const { T, din } = convShape(g, 'convCostChoice');
  if (!Number.isInteger(C) || C <= 0) badInput('convCostChoice', `C must be a positive integer, got ${C}`);
  const { B, Cout } = g;
  const gg1 = B * din * T * T + B * Cout * T * T + B * T * T;
  const gg2 = B * din * Cout * T + B * din * Cout;
  const gg = gg1 < gg2 ? 'type1' : 'type2';
  const cg1 = C * din * B * T + C * Cout * B * T + C * B * T;
  const cg2 = (opts.shared && gg === 'type2' ? 0 : B * din * T * Cout) + C * B * din * Cout;
  return { cg: cg1 < cg2 ? 'type1' : 'type2', gg, cost: { cg1, cg2, gg1, gg2 } };
}

export interface ConvStatsParams {
  [k: string]: number;
  nb: number; n0: number;
  Cin: number; H: number; W: number; Cout: number; Ho: number; Wo: number;
  kh: number; kw: number; stride: number; pad: number;
  T4: number; din8: number; cout8: number; C: number;
  R: number; L: number; ld: number; yn: number; yl: number; yk: number;
  bias: number; beta: number; scale: number;
}

const PARAM_FIELDS = [
  ...u32('nb', 'n0', 'Cin', 'H', 'W', 'Cout', 'Ho', 'Wo', 'kh', 'kw', 'stride', 'pad', 'T4', 'din8', 'cout8', 'C', 'R', 'L', 'ld', 'yn', 'yl', 'yk', 'bias'),
  ...f32('beta', 'scale'),
];

/** Params with the geometry's fields filled in (and every other field 0, scale 1). */
export function convParams(g: ConvGeometry | null, p: Partial<ConvStatsParams> = {}): ConvStatsParams {
  const geo = g ? (({ Ho, Wo, T4, din8, cout8 }) => ({ Cin: g.Cin, H: g.H, W: g.W, Cout: g.Cout, Ho, Wo, kh: g.kh, kw: g.kw, stride: g.stride, pad: g.pad, T4, din8, cout8 }))(convShape(g)) : {};
  return {
    nb: 0, n0: 0, Cin: 0, H: 0, W: 0, Cout: 0, Ho: 0, Wo: 0, kh: 0, kw: 0, stride: 0, pad: 0, T4: 0, din8: 0, cout8: 0, C: 0,
    R: 0, L: 0, ld: 0, yn: 0, yl: 0, yk: 0, bias: 0, beta: 0, scale: 1, ...geo, ...p,
  };
}

type B = Array<{ name: string; access: 'read' | 'read_write' }>;
const r = (...names: string[]) => names.map((name) => ({ name, access: 'read' as const }));
const w = (name: string) => ({ name, access: 'read_write' as const });
// Binding names and order as in the WGSL (inputs first, the written one last).
const BINDINGS: Record<ConvStatsOp, B> = {
  conv_unfold: [...r('x'), w('Uw')],
  conv_dy_t: [...r('dy'), w('DTw')],
  conv_pegrad: [...r('U', 'DT'), w('GT')],
  conv_gram_gg: [...r('U', 'DT'), w('GG')],
  conv_sumsq_cols: [...r('X'), w('out')],
  conv_cg_rows: [...r('X', 'Y'), w('CG')],
  conv_pad_t: [...r('X'), w('out')],
  conv_dist_accum: [...r('GG_in', 'CG_in', 'ci2', 'co2'), w('dist')],
  conv_sqnorm_accum: [...r('GG_in', 'bsq'), w('norms')],
  conv_patch_mean: [...r('x'), w('out')],
  conv_dsum: [...r('dy'), w('out')],
};
export const CONV_STATS_OPS = Object.keys(BINDINGS) as ConvStatsOp[];

/** Element counts (f32) each binding must hold for these params. */
function sizesOf(op: ConvStatsOp, p: ConvStatsParams): Record<string, number> {
  const { nb, n0, C, T4, din8, cout8, R, L } = p;
  const T = p.Ho * p.Wo, din = p.Cin * p.kh * p.kw, xLen = (n0 + nb) * p.Cin * p.H * p.W, dyLen = (n0 + nb) * p.Cout * T;
  switch (op) {
    case 'conv_unfold': return { x: xLen, Uw: nb * T4 * din8 };
    case 'conv_dy_t': return { dy: dyLen, DTw: nb * T4 * cout8 };
    case 'conv_pegrad': return { U: nb * T4 * din8, DT: nb * T4 * cout8, GT: (din8 - 1) * p.ld + nb * p.Cout };
    case 'conv_gram_gg': return { U: nb * T4 * din8, DT: nb * T4 * cout8, GG: n0 + nb };
    case 'conv_sumsq_cols': return { X: (din8 - 1) * p.ld + R * L, out: n0 + R };
    case 'conv_cg_rows': return { X: R * L * C, Y: (R - 1) * p.yn + (L - 1) * p.yl + (C - 1) * p.yk + 1, CG: (n0 + R) * C };
    case 'conv_pad_t': return { X: R * L, out: R * p.ld };
    case 'conv_dist_accum': return { GG_in: nb, CG_in: nb * C, ci2: C, co2: C, dist: nb * C };
    case 'conv_sqnorm_accum': return { GG_in: nb, bsq: p.bias ? nb : 0, norms: nb };
    case 'conv_patch_mean': return { x: xLen, out: (n0 + nb) * din };
    case 'conv_dsum': return { dy: dyLen, out: (n0 + nb) * p.Cout };
  }
}

/** Invocations (flat ops) or workgroups (the two combining ops) a launch needs. */
function itemsOf(op: ConvStatsOp, p: ConvStatsParams): number {
  switch (op) {
    case 'conv_unfold': return p.nb * p.T4;
    case 'conv_dy_t': return p.nb * p.T4;
    case 'conv_pegrad': return (p.nb * p.cout8 * p.din8) / 64;
    case 'conv_gram_gg': return p.nb;
    case 'conv_sumsq_cols': return p.R;
    case 'conv_cg_rows': return p.R * p.C;
    case 'conv_pad_t': return p.R * p.ld;
    case 'conv_dist_accum': return p.nb * p.C;
    case 'conv_sqnorm_accum': return p.nb;
    case 'conv_patch_mean': return p.nb * p.Cin * p.kh * p.kw;
    case 'conv_dsum': return p.nb * p.Cout;
  }
}

const GEOMETRY_OPS = new Set<ConvStatsOp>(['conv_unfold', 'conv_dy_t', 'conv_pegrad', 'conv_gram_gg', 'conv_patch_mean', 'conv_dsum']);
const ROW_OPS = new Set<ConvStatsOp>(['conv_sumsq_cols', 'conv_cg_rows', 'conv_pad_t']);

function checkParams(name: string, op: ConvStatsOp, p: ConvStatsParams): void {
  const pos = (names: string[]) => {
    for (const n of names) if (!Number.isInteger(p[n]) || p[n] <= 0) badInput(name, `${n} must be a positive integer, got ${p[n]}`);
  };
  if (GEOMETRY_OPS.has(op)) {
    const s = convShape({ B: 1, Cin: p.Cin, H: p.H, W: p.W, Cout: p.Cout, kh: p.kh, kw: p.kw, stride: p.stride, pad: p.pad }, name);
    if (s.Ho !== p.Ho || s.Wo !== p.Wo) badInput(name, `Ho×Wo = ${p.Ho}×${p.Wo}, the geometry gives ${s.Ho}×${s.Wo}`);
    if (p.T4 !== s.T4 || p.din8 !== s.din8 || p.cout8 !== s.cout8) {
      badInput(name, `padded sizes T4=${p.T4} din8=${p.din8} cout8=${p.cout8}, the geometry gives ${s.T4}, ${s.din8}, ${s.cout8}`);
    }
  }
  pos(ROW_OPS.has(op) ? ['R', 'L'] : ['nb']);
  if (op === 'conv_cg_rows' || op === 'conv_dist_accum') pos(['C']);
  const minLd = op === 'conv_pad_t' ? p.L : op === 'conv_pegrad' ? p.nb * p.Cout : op === 'conv_sumsq_cols' ? p.R * p.L : 0;
  if (!(Number.isInteger(p.ld) && p.ld >= minLd)) badInput(name, `ld must be an integer ≥ ${minLd}, got ${p.ld}`);
  if (op === 'conv_sumsq_cols') pos(['din8']);
  if (p.bias !== 0 && p.bias !== 1) badInput(name, `bias must be 0 or 1, got ${p.bias}`);
  for (const n of ['beta', 'scale'] as const) if (!Number.isFinite(p[n])) badInput(name, `${n} must be a finite number, got ${p[n]}`);
  const biggest = Math.max(...Object.values(sizesOf(op, p)));
  if (biggest >= 2 ** 32) badInput(name, `a buffer of ${biggest} elements does not fit the kernel's u32 indices`);
}

export interface ConvStatsConfig {
  /** invocations per workgroup (1..256): lanes per row / example in the combining ops */
  wg?: number;
}

const DEFAULT_WG = 64;
const cache = new Map<string, Kernel<ConvStatsParams>>();

export function convStatsKernel(op: ConvStatsOp, cfg: ConvStatsConfig = {}): Kernel<ConvStatsParams> {
  if (!BINDINGS[op]) badInput('conv_stats', `unknown op '${op}'`);
  const wg = cfg.wg ?? DEFAULT_WG;
  const name = `${op}${wg !== DEFAULT_WG ? `_wg${wg}` : ''}`;
  let k = cache.get(name);
  if (k) return k;
  if (!Number.isInteger(wg) || wg < 1 || wg > 256) badInput(name, `wg must be an integer in 1..256, got ${wg}`);
  const perGroup = op === 'conv_gram_gg' || op === 'conv_sumsq_cols';
  k = {
    name,
    shader: 'conv_stats',
    entryPoint: op,
    overrides: { WG: wg },
    bindings: BINDINGS[op],
    params: PARAM_FIELDS,
    sizes: (p) => sizesOf(op, p),
    dispatch: (p) => grid1d(perGroup ? itemsOf(op, p) : ceilDiv(itemsOf(op, p), wg)),
    check: (p) => checkParams(name, op, p),
  };
  cache.set(name, k);
  return k;
}

/** Every pipeline configuration the layer calls launch (for the shader test). */
export function allConvStatsKernels(): Kernel<ConvStatsParams>[] {
  return CONV_STATS_OPS.map((op) => convStatsKernel(op));
}

/** Records one conv_stats entry point (see the shader header for what each computes). */
export function convStatsOp(sched: Scheduler, op: ConvStatsOp, bufs: Record<string, Bindable>, p: ConvStatsParams, cfg: ConvStatsConfig = {}): void {
  sched.record(convStatsKernel(op, cfg), bufs, p);
}
