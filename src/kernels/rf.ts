// Kernel descriptors for shaders/rf.wgsl (many random-features students per dispatch, one
// workgroup per job) and the calls the RF bank and estimators use. Shapes: H features per row
// (a multiple of 4), M models, J jobs, E data entries, B batch, n draws per loop. Layouts in
// f32 units: theta rows PS = 2H + 4 (W2[0], W2[1], b0, b1, 0, 0), reduced gradient rows
// RS = H + 4 (u, σ, 0, 0, 0). Plans (job tables, item lists) are built and checked by
// src/models/rf_plans.ts; here params are checked against each other, buffers against params.
import { type Kernel, type Bindable, ceilDiv, grid1d, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';

export type RfOp = 'rf_sgd_step' | 'rf_grad' | 'rf_coef' | 'rf_scatter' | 'rf_gvar';
export const RF_OPS: readonly RfOp[] = ['rf_sgd_step', 'rf_grad', 'rf_coef', 'rf_scatter', 'rf_gvar'];

export interface RfParams {
  [k: string]: number;
  H: number; M: number; J: number; B: number; E: number; K: number; n: number; item0: number;
  wd: number; eps: number; nvar_eps: number; log_eps: number;
}

/** SPEC 2.5's constants (nvar denominator, snr logs). */
export const RF_NVAR_EPS = 1e-7;
export const RF_LOG_EPS = 1e-10;
/** Lanes per workgroup (a power of two ≤ 64, the shader's per-row arrays). Measured on
 *  llvmpipe, rf_sgd_step at H = 1000, B = 10, M = 30: 16 lanes 117 µs per model-step, 64 lanes
 *  163 (interleaved, min of 7; the machine under load): a CPU adapter runs lanes as 8-wide SIMD
 *  and a wider group only adds partials to combine. A real GPU wants 32–64 (pass wg). */
export const RF_WG = 16;
/** Slots of the shader's `red` array: rows per chunk × WG (× 2 for rf_grad). */
export const RF_RED = 1024;
/** f32 per theta row and per reduced-gradient row for H features. */
export const rfParamStride = (H: number): number => 2 * H + 4;
export const rfRowStride = (H: number): number => H + 4;

type Access = 'read' | 'read_write';
const r = (name: string): { name: string; access: Access } => ({ name, access: 'read' });
const w = (name: string): { name: string; access: Access } => ({ name, access: 'read_write' });
const TABLES4 = [r('phi4'), r('data'), r('plan')];
const BINDINGS: Record<RfOp, Array<{ name: string; access: Access }>> = {
  rf_sgd_step: [...TABLES4, w('theta_rw4'), r('lrs'), w('stats')],
  rf_grad: [...TABLES4, r('theta4'), r('snap4'), r('wts'), w('out4')],
  rf_coef: [...TABLES4, r('theta4'), w('coef_out')],
  rf_scatter: [...TABLES4, r('coefs'), w('sums4')],
  rf_gvar: [r('draws4'), w('gv_out')],
};

/** Minimum element count (f32/u32) of each binding. Item lists past the job table and the
 *  rows of phi are checked by the plan builders (they depend on data, not on params). */
function sizesOf(op: RfOp, p: RfParams): Record<string, number> {
  const { H, M, J, E } = p;
  const PS = rfParamStride(H), RS = rfRowStride(H);
  const tables = { phi4: H, data: 3 * E };
  switch (op) {
    case 'rf_sgd_step': return { ...tables, plan: p.item0 + p.K * M * p.B, theta_rw4: M * PS, lrs: M, stats: 2 * M };
    case 'rf_grad': return { ...tables, plan: 4 * J, theta4: M * PS, snap4: M * PS + M * RS, wts: 1, out4: J * RS };
    case 'rf_coef': return { ...tables, plan: 2 * J, theta4: M * PS, coef_out: 3 * E };
    case 'rf_scatter': return { ...tables, plan: 4 * J, coefs: E, sums4: RS };
    case 'rf_gvar': return { draws4: J * 2 * p.n * RS, gv_out: 4 * J };
  }
}

function checkParams(name: string, op: RfOp, p: RfParams, wg: number): void {
  const pos = (...ns: Array<keyof RfParams & string>) => {
    for (const n of ns) if (!(Number.isInteger(p[n]) && p[n] > 0)) badInput(name, `${n} must be a positive integer, got ${p[n]}`);
  };
  pos('H', ...(op === 'rf_gvar' ? ['J', 'n'] : op === 'rf_sgd_step' ? ['M', 'B', 'K', 'E'] : ['M', 'J', 'E']));
  if (p.H % 4 !== 0) badInput(name, `H=${p.H} must be a multiple of 4 (pad the features with zero columns)`);
  if (op === 'rf_sgd_step' && (p.B > 64 || p.B * wg > RF_RED)) badInput(name, `batch B=${p.B} is more than ${Math.min(64, RF_RED / wg)} rows per step`);
  for (const n of ['wd', 'eps', 'nvar_eps', 'log_eps'] as const) {
    if (!Number.isFinite(p[n])) badInput(name, `${n} must be a finite number, got ${p[n]}`);
  }
  if (p.eps < 0 || p.eps > 1) badInput(name, `label smoothing eps must be in [0, 1], got ${p.eps}`);
  if (p.wd < 0) badInput(name, `wd must be ≥ 0, got ${p.wd}`);
  const biggest = Math.max(...Object.values(sizesOf(op, p)));
  if (biggest >= 2 ** 32) badInput(name, `a buffer of ${biggest} elements does not fit the kernel's u32 indices`);
}

const cache = new Map<string, Kernel<RfParams>>();

/** `wg`: lanes per workgroup, a power of two ≤ 64. */
export function rfKernel(op: RfOp, wg = RF_WG): Kernel<RfParams> {
  if (!BINDINGS[op]) badInput('rf', `unknown op '${op}'`);
  const name = `${op}${wg !== RF_WG ? `_wg${wg}` : ''}`;
  let k = cache.get(name);
  if (k) return k;
  if (!(Number.isInteger(wg) && wg >= 1 && wg <= RF_WG && (wg & (wg - 1)) === 0)) badInput(name, `wg must be a power of two in 1..${RF_WG}, got ${wg}`);
  k = {
    name,
    shader: 'rf',
    entryPoint: op,
    overrides: { WG: wg },
    bindings: BINDINGS[op],
    params: [...u32('H', 'M', 'J', 'B', 'E', 'K', 'n', 'item0'), ...f32('wd', 'eps', 'nvar_eps', 'log_eps')],
    sizes: (p) => sizesOf(op, p),
    dispatch: (p) => grid1d(op === 'rf_sgd_step' ? p.M : op === 'rf_coef' ? ceilDiv(p.J, wg) : p.J),
    check: (p) => checkParams(name, op, p, wg),
  };
  cache.set(name, k);
  return k;
}

export function allRfKernels(): Kernel<RfParams>[] {
  return RF_OPS.map((op) => rfKernel(op));
}

function params(p: Partial<RfParams>): RfParams {
  return {
    H: 0, M: 0, J: 0, B: 0, E: 0, K: 0, n: 0, item0: 0,
    wd: 0, eps: 0, nvar_eps: RF_NVAR_EPS, log_eps: RF_LOG_EPS, ...p,
  };
}

/** The tables every job kernel reads: feature rows [R, H], entries [E, 3], the plan. */
export interface RfTables { phi: Bindable; data: Bindable; plan: Bindable }
/** Sizes shared by a bank's calls: features per row (multiple of 4), models, data entries. */
export interface RfShape { H: number; M: number; E: number; wg?: number }

/** K SGD steps of all M models: step k of model m uses the B entries at
 *  plan[item0 + (k·M + m)·B ..]; theta [M, PS] updated in place; stats[2m..] += loss, accuracy. */
export function rfSgdStep(sched: Scheduler, b: RfTables & { theta: Bindable; lrs: Bindable; stats: Bindable },
  a: RfShape & { B: number; K: number; item0: number; wd: number; eps?: number }): void {
  const { phi, data, plan, theta, lrs, stats } = b;
  sched.record(rfKernel('rf_sgd_step', a.wg), { phi4: phi, data, plan, theta_rw4: theta, lrs, stats },
    params({ H: a.H, M: a.M, E: a.E, B: a.B, K: a.K, item0: a.item0, wd: a.wd, eps: a.eps ?? 0 }));
}

/** J estimator draws into out [J, RS] (reduced gradients); snap: [M, PS] snapshots, then μ [M, RS]. */
export function rfGrad(sched: Scheduler, b: RfTables & { theta: Bindable; snap: Bindable; wts: Bindable; out: Bindable },
  a: RfShape & { J: number; eps?: number }): void {
  const { phi, data, plan, theta, snap, wts, out } = b;
  sched.record(rfKernel('rf_grad', a.wg), { phi4: phi, data, plan, theta4: theta, snap4: snap, wts, out4: out },
    params({ H: a.H, M: a.M, E: a.E, J: a.J, eps: a.eps ?? 0 }));
}

/** Per-entry s, loss, correct of J items (m, e) into coef [3E] (bind the snapshot as theta for θ̃). */
export function rfCoef(sched: Scheduler, b: RfTables & { theta: Bindable; coef: Bindable }, a: RfShape & { J: number; eps?: number }): void {
  const { phi, data, plan, theta, coef } = b;
  sched.record(rfKernel('rf_coef', a.wg), { phi4: phi, data, plan, theta4: theta, coef_out: coef }, params({ H: a.H, M: a.M, E: a.E, J: a.J, eps: a.eps ?? 0 }));
}

/** sums rows [.., RS] += scale·Σ coefs[e]·(φ_e, 1) per job (see rf_scatter); zero sums first. */
export function rfScatter(sched: Scheduler, b: RfTables & { coefs: Bindable; sums: Bindable }, a: RfShape & { J: number }): void {
  const { phi, data, plan, coefs, sums } = b;
  sched.record(rfKernel('rf_scatter', a.wg), { phi4: phi, data, plan, coefs, sums4: sums }, params({ H: a.H, M: a.M, E: a.E, J: a.J }));
}

/** SPEC 2.5's four sums per job of 2n consecutive draws [RS] → out [J, 4]. */
export function rfGvar(sched: Scheduler, b: { draws: Bindable; out: Bindable }, a: { H: number; J: number; n: number; wg?: number }): void {
  sched.record(rfKernel('rf_gvar', a.wg), { draws4: b.draws, gv_out: b.out }, params({ H: a.H, J: a.J, n: a.n }));
}
