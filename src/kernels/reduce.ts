// Kernel descriptors for shaders/reduce.wgsl (column sums, per-row sums of squares, per-row
// dots) and the calls models use: `colsum` for bias gradients, `rowsumsq` for per-example
// squared norms, `rowdot` for per-example dots of two factor matrices (SVRG's exact variance).
import { type Kernel, type Bindable, ceilDiv, grid1d, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';

export type ReduceOp = 'colsum' | 'rowsumsq' | 'rowdot';

export interface ReduceParams {
  [k: string]: number;
  R: number;
  Cc: number;
  alpha: number;
  beta: number;
}

export interface ReduceConfig {
  /** colsum: columns per workgroup; rowsumsq, rowdot: lanes sharing one row */
  wgX?: number;
  /** colsum: lanes sharing one column; rowsumsq, rowdot: rows per workgroup */
  wgY?: number;
}

// Workgroup shapes (see shaders/reduce.wgsl). Measured on llvmpipe GL, ms per call:
//   colsum    128×1024: 64×4 0.75, 64×1 0.54   4096×256: 64×4 5.0, 64×1 3.3   65536×64: both 16
//   rowsumsq  128×1024: 8×32 0.31, 1×64 0.53, 16×16 0.79   4096×256: 8×32 4.8, 1×64 2.1
// A CPU adapter has a handful of cores, so splitting the summed axis over lanes buys it
// nothing; a real GPU needs those lanes when the kept axis is short (a conv bias over 64
// channels, a batch of 128 rows) and wants ≥ 8 consecutive words per load. The defaults lean
// GPU-wards at a small cost on llvmpipe; pass wgX/wgY to pick per adapter.
const DEFAULTS: Record<ReduceOp, Required<ReduceConfig>> = {
  colsum: { wgX: 64, wgY: 4 },
  rowsumsq: { wgX: 8, wgY: 32 },
  rowdot: { wgX: 8, wgY: 32 },
};

// Binding names as in the WGSL, in binding order (inputs first, the written one last).
// rowdot's output is `out_dot`: its binding 2 is Y, so `out` (binding 2 elsewhere) cannot be.
const BINDINGS: Record<ReduceOp, Array<{ name: string; access: 'read' | 'read_write' }>> = {
  colsum: [{ name: 'X', access: 'read' }, { name: 'out', access: 'read_write' }],
  rowsumsq: [{ name: 'X', access: 'read' }, { name: 'out', access: 'read_write' }],
  rowdot: [{ name: 'X', access: 'read' }, { name: 'Y', access: 'read' }, { name: 'out_dot', access: 'read_write' }],
};

const cache = new Map<string, Kernel<ReduceParams>>();

export function reduceKernel(op: ReduceOp, cfg: ReduceConfig = {}): Kernel<ReduceParams> {
  if (!DEFAULTS[op]) badInput('reduce', `unknown op '${op}'`);
  const wgX = cfg.wgX ?? DEFAULTS[op].wgX;
  const wgY = cfg.wgY ?? DEFAULTS[op].wgY;
  const name = `reduce_${op}${wgX !== DEFAULTS[op].wgX || wgY !== DEFAULTS[op].wgY ? `_wg${wgX}x${wgY}` : ''}`;
  let k = cache.get(name);
  if (k) return k;
  for (const [n, v] of Object.entries({ wgX, wgY })) {
    if (!Number.isInteger(v) || v < 1) badInput(name, `${n} must be a positive integer, got ${v}`);
  }
  if (wgX * wgY > 256) badInput(name, `workgroup ${wgX}×${wgY} has more than 256 invocations`);
  // Workgroups along the axis that is not reduced: columns for colsum, rows otherwise.
  const groups = (p: ReduceParams) => (op === 'colsum' ? ceilDiv(p.Cc, wgX) : ceilDiv(p.R, wgY));
  k = {
    name,
    shader: 'reduce',
    entryPoint: op,
    overrides: { WG_X: wgX, WG_Y: wgY },
    bindings: BINDINGS[op],
    params: [...u32('R', 'Cc'), ...f32('alpha', 'beta')],
    sizes: (p): Record<string, number> => (op === 'rowdot' ? { X: p.R * p.Cc, Y: p.R * p.Cc, out_dot: p.R } : { X: p.R * p.Cc, out: op === 'colsum' ? p.Cc : p.R }),
    dispatch: (p) => grid1d(groups(p)),
    check: (p) => {
      if (!(Number.isInteger(p.R) && Number.isInteger(p.Cc) && p.R > 0 && p.Cc > 0)) {
        badInput(name, `sizes must be positive integers, got R=${p.R} Cc=${p.Cc}`);
      }
      if (p.R * p.Cc >= 2 ** 32) badInput(name, `R·Cc = ${p.R * p.Cc} does not fit the kernel's u32 indices`);
    },
  };
  cache.set(name, k);
  return k;
}

export interface ReduceArgs extends ReduceConfig {
  /** rows and columns of the dense row-major X */
  R: number;
  Cc: number;
  alpha?: number;
  /** out = alpha·Σ + beta·out; 0 (default) overwrites out without reading it */
  beta?: number;
}

function record(sched: Scheduler, op: ReduceOp, bufs: Record<string, Bindable>, a: ReduceArgs): void {
  const { R, Cc, alpha = 1, beta = 0, wgX, wgY } = a;
  const kernel = reduceKernel(op, { wgX, wgY });
  for (const [n, v] of Object.entries({ alpha, beta })) {
    if (typeof v !== 'number' || !Number.isFinite(v)) badInput(kernel.name, `${n} must be a finite number, got ${v}`);
  }
  sched.record(kernel, bufs, { R, Cc, alpha, beta });
}

/** out[c] = alpha·Σ_r X[r, c] + beta·out[c] for X [R, Cc]: the bias gradient Σ_rows dy. */
export function colsum(sched: Scheduler, bufs: { X: Bindable; out: Bindable }, a: ReduceArgs): void {
  record(sched, 'colsum', bufs, a);
}

/** out[r] = alpha·Σ_c X[r, c]² + beta·out[r] for X [R, Cc]: per-row squared norms. */
export function rowsumsq(sched: Scheduler, bufs: { X: Bindable; out: Bindable }, a: ReduceArgs): void {
  record(sched, 'rowsumsq', bufs, a);
}

/** out[r] = alpha·Σ_c X[r, c]·Y[r, c] + beta·out[r] for X, Y [R, Cc]: per-row dots (X and Y
 *  may be the same view: both are read-only). */
export function rowdot(sched: Scheduler, bufs: { X: Bindable; Y: Bindable; out: Bindable }, a: ReduceArgs): void {
  record(sched, 'rowdot', { X: bufs.X, Y: bufs.Y, out_dot: bufs.out }, a);
}
