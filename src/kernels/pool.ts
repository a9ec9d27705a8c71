// Kernel descriptors for shaders/pool.wgsl and the calls models use:
//   globalAvgPool / globalAvgPoolBackward   [B, Cch, H, W] ↔ [B, Cch]   (ResNet heads)
//   maxPool / maxPoolBackward               k×k, stride s, padding p, PyTorch semantics,
//                                           argmax indices stored by the forward
// All tensors are dense NCHW f32; idx is u32 [B, Cch, OH, OW] holding h·W + w.
import { type Kernel, type Bindable, ceilDiv, grid1d, u32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';

export type PoolOp = 'avgpool_forward' | 'avgpool_backward' | 'maxpool_forward' | 'maxpool_backward';

export interface PoolParams {
  [k: string]: number;
  planes: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
  k: number;
  s: number;
  p: number;
}

export interface PoolConfig {
  /** flat entry points: invocations per workgroup (1..256) */
  wg?: number;
  /** avgpool_forward: lanes sharing one plane × planes per workgroup (≤ 256 together) */
  wgX?: number;
  wgY?: number;
}

/** The input of any pool: NCHW [B, Cch, H, W]. */
export interface PoolShape {
  B: number;
  Cch: number;
  H: number;
  W: number;
}

/** A max pool window: side k, stride s, padding p (PyTorch's kernel_size, stride, padding). */
export interface MaxPoolShape extends PoolShape {
  k: number;
  s: number;
  p: number;
}

const BINDINGS: Record<PoolOp, Array<{ name: string; access: 'read' | 'read_write' }>> = {
  avgpool_forward: [{ name: 'x', access: 'read' }, { name: 'out', access: 'read_write' }],
  avgpool_backward: [{ name: 'dout', access: 'read' }, { name: 'dx', access: 'read_write' }],
  maxpool_forward: [{ name: 'x', access: 'read' }, { name: 'out', access: 'read_write' }, { name: 'idx_out', access: 'read_write' }],
  maxpool_backward: [{ name: 'dout', access: 'read' }, { name: 'dx', access: 'read_write' }, { name: 'idx', access: 'read' }],
};

const DEFAULT_WG = 256;
// 8 lanes per plane: a 7×7 or 8×8 plane gives each lane 6–8 contiguous-across-lanes loads.
const DEFAULT_WGX = 8;
const DEFAULT_WGY = 32;

const cache = new Map<string, Kernel<PoolParams>>();

export function poolKernel(op: PoolOp, cfg: PoolConfig = {}): Kernel<PoolParams> {
  if (!BINDINGS[op]) badInput('pool', `unknown op '${op}'`);
  const wg = cfg.wg ?? DEFAULT_WG, wgX = cfg.wgX ?? DEFAULT_WGX, wgY = cfg.wgY ?? DEFAULT_WGY;
  const lanes = op === 'avgpool_forward';
  const suffix = lanes ? (wgX !== DEFAULT_WGX || wgY !== DEFAULT_WGY ? `_wg${wgX}x${wgY}` : '') : wg !== DEFAULT_WG ? `_wg${wg}` : '';
  const name = `pool_${op}${suffix}`;
  let k = cache.get(name);
  if (k) return k;
  for (const [n, v] of Object.entries(lanes ? { wgX, wgY } : { wg })) {
    if (!Number.isInteger(v) || v < 1 || v > 256) badInput(name, `${n} must be an integer in 1..256, got ${v}`);
  }
  if (lanes && wgX * wgY > 256) badInput(name, `workgroup ${wgX}×${wgY} has more than 256 invocations`);
  // Invocations: one per plane (lanes), per output element (maxpool forward) or per dx element.
  const work = (p: PoolParams) => (op === 'avgpool_forward' ? p.planes : op === 'maxpool_forward' ? p.planes * p.OH * p.OW : p.planes * p.H * p.W);
  const size = (p: PoolParams) => ({ input: p.planes * p.H * p.W, output: p.planes * p.OH * p.OW });
  k = {
    name,
    shader: 'pool',
    entryPoint: op,
    overrides: lanes ? { WG_X: wgX, WG_Y: wgY } : { WG: wg },
    bindings: BINDINGS[op],
    params: u32('planes', 'H', 'W', 'OH', 'OW', 'k', 's', 'p'),
    sizes: (p): Record<string, number> => {
      const { input, output } = size(p);
      return { x: input, dx: input, out: output, dout: output, idx_out: output, idx: output };
    },
    dispatch: (p) => grid1d(lanes ? ceilDiv(p.planes, wgY) : ceilDiv(work(p), wg)),
    check: (p) => {
      for (const f of ['planes', 'H', 'W', 'OH', 'OW'] as const) {
        if (!Number.isInteger(p[f]) || p[f] <= 0) badInput(name, `${f} must be a positive integer, got ${p[f]}`);
      }
      if (size(p).input >= 2 ** 32) badInput(name, `B·Cch·H·W = ${size(p).input} does not fit the kernel's u32 indices`);
    },
  };
  cache.set(name, k);
  return k;
}

function checkShape(where: string, shape: PoolShape): void {
  for (const f of ['B', 'Cch', 'H', 'W'] as const) {
    const v = shape[f];
    if (!Number.isInteger(v) || v <= 0) badInput(where, `${f} must be a positive integer, got ${v}`);
  }
}

/** Output side of a max pool: ⌊(n + 2p − k)/s⌋ + 1 (PyTorch, ceil_mode=False, dilation 1). */
export function poolOutSize(n: number, k: number, s: number, p: number): number {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

/** Checks a max pool's window against PyTorch's rules and returns the kernel params. */
export function maxPoolParams(where: string, shape: MaxPoolShape): PoolParams {
  checkShape(where, shape);
  const { B, Cch, H, W, k, s, p } = shape;
  if (!Number.isInteger(k) || k < 1) badInput(where, `kernel size k must be a positive integer, got ${k}`);
  if (!Number.isInteger(s) || s < 1) badInput(where, `stride s must be a positive integer, got ${s}`);
  if (!Number.isInteger(p) || p < 0 || 2 * p > k) badInput(where, `padding p must be an integer in 0..${Math.floor(k / 2)} (at most half the window), got ${p}`);
  if (H + 2 * p < k || W + 2 * p < k) badInput(where, `the ${k}×${k} window does not fit the padded ${H}×${W} input (p=${p})`);
  return { planes: B * Cch, H, W, OH: poolOutSize(H, k, s, p), OW: poolOutSize(W, k, s, p), k, s, p };
}

function avgParams(where: string, shape: PoolShape): PoolParams {
  checkShape(where, shape);
  return { planes: shape.B * shape.Cch, H: shape.H, W: shape.W, OH: 1, OW: 1, k: 0, s: 0, p: 0 };
}

/** out[b, c] = mean over (h, w) of x[b, c, h, w]. x: [B, Cch, H, W]; out: [B, Cch]. */
export function globalAvgPool(sched: Scheduler, bufs: { x: Bindable; out: Bindable }, shape: PoolShape, cfg: PoolConfig = {}): void {
  const k = poolKernel('avgpool_forward', cfg);
  sched.record(k, bufs, avgParams(k.name, shape));
}

/** dx[b, c, h, w] = dout[b, c] / (H·W). dout: [B, Cch]; dx: [B, Cch, H, W] (overwritten). */
export function globalAvgPoolBackward(sched: Scheduler, bufs: { dout: Bindable; dx: Bindable }, shape: PoolShape, cfg: PoolConfig = {}): void {
  const k = poolKernel('avgpool_backward', cfg);
  sched.record(k, bufs, avgParams(k.name, shape));
}

/** Max pool: out [B, Cch, OH, OW] and idx (u32, same shape, h·W + w of each max) from
 *  x [B, Cch, H, W]. OH, OW from poolOutSize. */
export function maxPool(sched: Scheduler, bufs: { x: Bindable; out: Bindable; idx: Bindable }, shape: MaxPoolShape, cfg: PoolConfig = {}): void {
  const k = poolKernel('maxpool_forward', cfg);
  sched.record(k, { x: bufs.x, out: bufs.out, idx_out: bufs.idx }, maxPoolParams(k.name, shape));
}

/** dx [B, Cch, H, W] (overwritten) from dout [B, Cch, OH, OW] and the forward's idx. */
export function maxPoolBackward(sched: Scheduler, bufs: { dout: Bindable; idx: Bindable; dx: Bindable }, shape: MaxPoolShape, cfg: PoolConfig = {}): void {
  const k = poolKernel('maxpool_backward', cfg);
  sched.record(k, bufs, maxPoolParams(k.name, shape));
}

export function allPoolKernels(): Kernel<PoolParams>[] {
  return (['avgpool_forward', 'avgpool_backward', 'maxpool_forward', 'maxpool_backward'] as const).map((op) => poolKernel(op));
}
