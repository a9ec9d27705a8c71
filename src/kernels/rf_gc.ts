// Kernel descriptors for shaders/rf_gc.wgsl: Gradient Clustering's A-pass and U-pass for many
// random-features students at once (one workgroup per student). Shapes: H features per row (a
// multiple of 4), M models, J jobs, E data entries, C clusters, B pass batch. Centres layout
// (f32): c_k rows [M, C, H], then d_k [M, C, 4] as (d0, d1, 0, 0).
import { type Kernel, type Bindable, grid1d, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';
import { RF_WG, type RfTables, type RfShape } from './rf.ts';

export type RfGcOp = 'rf_gc_assign' | 'rf_gc_update';
export const RF_GC_OPS: readonly RfGcOp[] = ['rf_gc_assign', 'rf_gc_update'];

export interface RfGcParams {
  [k: string]: number;
  H: number; M: number; J: number; B: number; C: number; E: number;
  stable: number; quant: number;
}

/** The original code's U-pass rescaling (cancels mathematically). */
export const RF_STABLE = 100;
/** Workgroup arrays of the shader: per-example (B ≤ 64), per-cluster (C ≤ 64), B·C distances. */
const MAX_ROWS = 64;
const DIST_SLOTS = 1024;

/** f32 of a centre table for M models, C clusters, H features. */
export const rfCentresSize = (M: number, C: number, H: number): number => M * C * (H + 4);

type Access = 'read' | 'read_write';
const r = (name: string): { name: string; access: Access } => ({ name, access: 'read' });
const w = (name: string): { name: string; access: Access } => ({ name, access: 'read_write' });
const BINDINGS: Record<RfGcOp, Array<{ name: string; access: Access }>> = {
  rf_gc_assign: [r('phi4'), r('data'), r('plan'), r('coefs'), r('centres4'), w('assign'), w('gcout')],
  rf_gc_update: [r('phi4'), r('data'), r('plan'), r('coefs'), r('aux'), w('centres_rw4')],
};

function sizesOf(op: RfGcOp, p: RfGcParams): Record<string, number> {
  const { H, M, J, E, C } = p;
  const common = { phi4: H, data: 3 * E, plan: 4 * J, coefs: E };
  return op === 'rf_gc_assign'
    ? { ...common, centres4: rfCentresSize(M, C, H), assign: E, gcout: 2 * M * C }
    : { ...common, aux: M * C, centres_rw4: rfCentresSize(M, C, H) };
}

function checkParams(name: string, op: RfGcOp, p: RfGcParams): void {
  for (const n of ['H', 'M', 'J', 'C', 'E', ...(op === 'rf_gc_assign' ? ['B'] : [])]) {
    if (!(Number.isInteger(p[n]) && p[n] > 0)) badInput(name, `${n} must be a positive integer, got ${p[n]}`);
  }
  if (p.H % 4 !== 0) badInput(name, `H=${p.H} must be a multiple of 4 (pad the features with zero columns)`);
  if (p.C > MAX_ROWS) badInput(name, `C=${p.C} clusters: at most ${MAX_ROWS}`);
  if (op === 'rf_gc_assign' && (p.B > MAX_ROWS || p.B * p.C > DIST_SLOTS)) {
    badInput(name, `pass batch B=${p.B} with C=${p.C} clusters: needs B ≤ ${MAX_ROWS} and B·C ≤ ${DIST_SLOTS}`);
  }
  if (!(Number.isFinite(p.stable) && p.stable > 0)) badInput(name, `stable must be a positive number, got ${p.stable}`);
  if (!(Number.isFinite(p.quant) && p.quant >= 0)) badInput(name, `quant must be ≥ 0 (0 = no quantisation), got ${p.quant}`);
  const biggest = Math.max(...Object.values(sizesOf(op, p)));
  if (biggest >= 2 ** 32) badInput(name, `a buffer of ${biggest} elements does not fit the kernel's u32 indices`);
}

const cache = new Map<string, Kernel<RfGcParams>>();

/** `wg`: lanes per workgroup (1..64). */
export function rfGcKernel(op: RfGcOp, wg = RF_WG): Kernel<RfGcParams> {
  if (!BINDINGS[op]) badInput('rf_gc', `unknown op '${op}'`);
  const name = `${op}${wg !== RF_WG ? `_wg${wg}` : ''}`;
  let k = cache.get(name);
  if (k) return k;
  if (!(Number.isInteger(wg) && wg >= 1 && wg <= MAX_ROWS)) badInput(name, `wg must be an integer in 1..${MAX_ROWS}, got ${wg}`);
  k = {
    name,
    shader: 'rf_gc',
    entryPoint: op,
    overrides: { WG: wg },
    bindings: BINDINGS[op],
    params: [...u32('H', 'M', 'J', 'B', 'C', 'E'), ...f32('stable', 'quant')],
    sizes: (p) => sizesOf(op, p),
    dispatch: (p) => grid1d(p.J),
    check: (p) => checkParams(name, op, p),
  };
  cache.set(name, k);
  return k;
}

export function allRfGcKernels(): Kernel<RfGcParams>[] {
  return RF_GC_OPS.map((op) => rfGcKernel(op));
}

/** A-pass of J models (batch B, C clusters): assign [E] u32; gcout [td M·C | sizes M·C]. */
export function rfGcAssign(sched: Scheduler, b: RfTables & { coefs: Bindable; centres: Bindable; assign: Bindable; gcout: Bindable },
  a: RfShape & { J: number; B: number; C: number; quant?: number }): void {
  const { phi, data, plan, coefs, centres, assign, gcout } = b;
  sched.record(rfGcKernel('rf_gc_assign', a.wg), { phi4: phi, data, plan, coefs, centres4: centres, assign, gcout },
    { H: a.H, M: a.M, J: a.J, B: a.B, C: a.C, E: a.E, stable: RF_STABLE, quant: a.quant ?? 0 });
}

/** U-pass of J models: centres recomputed from aux [sizes M·C | per-item 1/B_i]. */
export function rfGcUpdate(sched: Scheduler, b: RfTables & { coefs: Bindable; aux: Bindable; centres: Bindable },
  a: RfShape & { J: number; C: number; stable?: number }): void {
  const { phi, data, plan, coefs, aux, centres } = b;
  sched.record(rfGcKernel('rf_gc_update', a.wg), { phi4: phi, data, plan, coefs, aux, centres_rw4: centres },
    { H: a.H, M: a.M, J: a.J, B: 0, C: a.C, E: a.E, stable: a.stable ?? RF_STABLE, quant: 0 });
}
