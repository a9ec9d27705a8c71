// Kernel descriptors for shaders/gvar.wgsl (SPEC 2.5's variance statistics over a flat
// gradient vector of P parameters) and the calls the variance measurement uses:
//   gvarMoments      S += g², V += (E − g)²                       (one draw of loop 2)
//   gvarPartials     per-workgroup [ΣV, ΣV/(S+1e-7), Σlog-ratio, ΣS] → partials [groups × 4]
//   absDiffPartials  per-workgroup [Σ|a−b|, Σ(a−b)², Σa², Σb²]      → partials [groups × 4]
//   sumPartials      the host's float64 finish of a partials readback
import { type Kernel, type Bindable, asView, ceilDiv, grid1d, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';

export type GvarOp = 'gvar_moments' | 'gvar_partials' | 'abs_diff_partials';

export interface GvarParams {
  [k: string]: number;
  P: number;
  nvar_eps: number;
  log_eps: number;
}

export interface GvarConfig {
  /** invocations per workgroup: a power of two in 1..256 */
  wg?: number;
  /** partial-sum kernels: most workgroups (rows of the partials buffer); ≤ 65535 */
  maxGroups?: number;
}

/** SPEC 2.5's constants: the nvar denominator's 1e-7 and the 1e-10 inside the snr logs. */
export const NVAR_EPS = 1e-7;
export const LOG_EPS = 1e-10;

// 1024 groups × 256 lanes: a 2M-parameter vector gives each invocation ~8 strided terms
// before the tree, enough lanes for any GPU, and a 16 KiB readback.
const DEFAULT_WG = 256;
const DEFAULT_MAX_GROUPS = 1024;

const BINDINGS: Record<GvarOp, Array<{ name: string; access: 'read' | 'read_write' }>> = {
  gvar_moments: [
    { name: 'g', access: 'read' },
    { name: 'E', access: 'read' },
    { name: 'S', access: 'read_write' },
    { name: 'V', access: 'read_write' },
  ],
  gvar_partials: [
    { name: 'S_in', access: 'read' },
    { name: 'V_in', access: 'read' },
    { name: 'partials', access: 'read_write' },
  ],
  abs_diff_partials: [
    { name: 'a', access: 'read' },
    { name: 'b', access: 'read' },
    { name: 'partials', access: 'read_write' },
  ],
};

const cache = new Map<string, Kernel<GvarParams>>();

function config(op: GvarOp, cfg: GvarConfig): Required<GvarConfig> {
  const wg = cfg.wg ?? DEFAULT_WG;
  const maxGroups = cfg.maxGroups ?? DEFAULT_MAX_GROUPS;
  if (!Number.isInteger(wg) || wg < 1 || wg > 256 || (wg & (wg - 1)) !== 0) {
    badInput(op, `workgroup size must be a power of two in 1..256, got ${wg}`);
  }
  if (!Number.isInteger(maxGroups) || maxGroups < 1 || maxGroups > 65535) {
    badInput(op, `maxGroups must be an integer in 1..65535, got ${maxGroups}`);
  }
  return { wg, maxGroups };
}

/** Rows of the partials buffer a partial-sum kernel writes for P elements. */
export function partialGroups(P: number, cfg: GvarConfig = {}): number {
  const { wg, maxGroups } = config('gvar_partials', cfg);
  return Math.min(ceilDiv(P, wg), maxGroups);
}

export function gvarKernel(op: GvarOp, cfg: GvarConfig = {}): Kernel<GvarParams> {
  if (!BINDINGS[op]) badInput('gvar', `unknown op '${op}'`);
  const { wg, maxGroups } = config(op, cfg);
  const partial = op !== 'gvar_moments';
  const name = `${op}${wg !== DEFAULT_WG ? `_wg${wg}` : ''}${partial && maxGroups !== DEFAULT_MAX_GROUPS ? `_g${maxGroups}` : ''}`;
  let k = cache.get(name);
  if (k) return k;
  const bindings = BINDINGS[op];
  const groups = (p: GvarParams) => (partial ? Math.min(ceilDiv(p.P, wg), maxGroups) : ceilDiv(p.P, wg));
  k = {
    name,
    shader: 'gvar',
    entryPoint: op,
    overrides: { WG: wg },
    bindings,
    params: [...u32('P'), ...f32('nvar_eps', 'log_eps')],
    sizes: (p) => Object.fromEntries(bindings.map((b) => [b.name, b.name === 'partials' ? 4 * groups(p) : p.P])),
    dispatch: (p) => grid1d(groups(p)),
    check: (p) => {
      if (!Number.isInteger(p.P) || p.P <= 0) badInput(name, `P must be a positive integer, got ${p.P}`);
      if (p.P >= 2 ** 32) badInput(name, `P=${p.P} does not fit the kernel's u32 indices`);
    },
  };
  cache.set(name, k);
  return k;
}

export interface GvarArgs extends GvarConfig {
  /** parameter count; default: the length of the first input view */
  P?: number;
}

/** One draw g of loop 2 (SPEC 2.5): S[j] += g_j², V[j] += (E_j − g_j)² for j < P. */
export function gvarMoments(sched: Scheduler, bufs: { g: Bindable; E: Bindable; S: Bindable; V: Bindable }, args: GvarArgs = {}): void {
  const P = args.P ?? asView(bufs.g).length;
  sched.record(gvarKernel('gvar_moments', args), bufs, { P, nvar_eps: 0, log_eps: 0 });
}

/** Partial sums [ΣV, ΣV/(S+nvarEps), Σ(log(S+logEps) − log(V+logEps)), ΣS] per workgroup
 *  into partials[4·g + q]; returns the number of rows written (partialGroups(P)). */
export function gvarPartials(
  sched: Scheduler,
  bufs: { S: Bindable; V: Bindable; partials: Bindable },
  args: GvarArgs & { nvarEps?: number; logEps?: number } = {},
): number {
  const { nvarEps = NVAR_EPS, logEps = LOG_EPS } = args;
  const P = args.P ?? asView(bufs.S).length;
  const k = gvarKernel('gvar_partials', args);
  for (const [n, v] of Object.entries({ nvarEps, logEps })) {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) badInput(k.name, `${n} must be a positive finite number, got ${v}`);
  }
  sched.record(k, { S_in: bufs.S, V_in: bufs.V, partials: bufs.partials }, { P, nvar_eps: nvarEps, log_eps: logEps });
  return partialGroups(P, args);
}

/** Partial sums [Σ|a−b|, Σ(a−b)², Σa², Σb²] per workgroup into partials[4·g + q]; returns
 *  the number of rows written. */
export function absDiffPartials(sched: Scheduler, bufs: { a: Bindable; b: Bindable; partials: Bindable }, args: GvarArgs = {}): number {
  const P = args.P ?? asView(bufs.a).length;
  sched.record(gvarKernel('abs_diff_partials', args), bufs, { P, nvar_eps: 0, log_eps: 0 });
  return partialGroups(P, args);
}

/** The host's finish: the four column sums of `groups` partial rows, in float64. */
export function sumPartials(partials: ArrayLike<number>, groups: number, offset = 0): Float64Array {
  if (offset + 4 * groups > partials.length) {
    throw new RangeError(`sumPartials: ${groups} rows at ${offset} overrun ${partials.length} values`);
  }
  const s = new Float64Array(4);
  for (let g = 0; g < groups; g++) for (let q = 0; q < 4; q++) s[q] += partials[offset + 4 * g + q];
  return s;
}
