// Kernel descriptors for shaders/batchnorm.wgsl and the four calls a BN layer makes
// (PyTorch BatchNorm2d: eps 1e-5, momentum 0.1, affine γ/β, optional fused ReLU):
//   bnTrainForward   bn_stats (batch mean/invstd → saved, running stats updated) + bn_apply
//   bnEvalForward    bn_apply with the running stats
//   bnTrainBackward  bn_grad_stats (dγ, dβ) + bn_backward_dx (the full batch-stat backward)
//   bnEvalBackward   bn_grad_stats (dγ, dβ) + bn_backward_dx_eval (dx = dy·γ·invstd_running)
// Memory: x, y, dy, dx are dense NCHW [B, Cch, H, W]; gamma, beta, dgamma, dbeta [Cch];
// saved [2, Cch] = (batch mean, invstd); running [2, Cch] = (running_mean, running_var).
//
// The per-channel sums run one workgroup per channel (see the shader). That is Cch
// workgroups: ample on a CPU adapter, but a GPU with ~100 multiprocessors runs ResNet32's
// 16-channel layers on 16 of them; splitting each channel over several workgroups with a
// partials buffer and a second pass is the change to make when that shows in a profile.
import { type Kernel, type Bindable, ceilDiv, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';

export type BatchnormOp = 'bn_stats' | 'bn_apply' | 'bn_grad_stats' | 'bn_backward_dx' | 'bn_backward_dx_eval';

export interface BatchnormParams {
  [k: string]: number;
  B: number;
  Cch: number;
  HW: number;
  eps: number;
  momentum: number;
}

export interface BatchnormConfig {
  /** per-element kernels: lanes along a plane × planes per workgroup (≤ 256 together) and
   *  elements per invocation (a chunk is wgX·per positions of one plane) */
  wgX?: number;
  wgY?: number;
  per?: number;
  /** per-channel kernels: lanes per channel, a power of two in 1..256 */
  wgC?: number;
}

export interface BatchnormVariant extends BatchnormConfig {
  relu?: boolean;
  /** stats row 1 is a variance (running_var) rather than invstd */
  fromVar?: boolean;
}

export interface BnShape {
  B: number;
  Cch: number;
  H: number;
  W: number;
}

export interface BnOptions extends BatchnormConfig {
  /** PyTorch's defaults: 1e-5 and 0.1 (momentum 0 leaves the running stats untouched) */
  eps?: number;
  momentum?: number;
  /** ReLU fused on the output (forward) and its mask on dy (backward) */
  relu?: boolean;
}

type Bind = { name: string; access: 'read' | 'read_write' };
const r = (name: string): Bind => ({ name, access: 'read' });
const w = (name: string): Bind => ({ name, access: 'read_write' });
const COMMON = [r('x'), r('stats'), r('gamma'), r('beta')];
const BINDINGS: Record<BatchnormOp, Bind[]> = {
  bn_stats: [r('x'), w('saved'), w('running')],
  bn_apply: [...COMMON, w('y')],
  bn_grad_stats: [...COMMON, r('dy'), w('dgamma'), w('dbeta')],
  bn_backward_dx: [...COMMON, r('dy'), r('dgamma_in'), r('dbeta_in'), w('dx')],
  bn_backward_dx_eval: [...COMMON, r('dy'), w('dx_eval')],
};
const PER_CHANNEL = new Set<BatchnormOp>(['bn_stats', 'bn_grad_stats']);

// Defaults from the measurements in the shader's header. Lanes per channel, measured on
// llvmpipe GL, min of 7 interleaved runs (machine shared with other jobs), ms for bn_stats /
// bn_grad_stats (ReLU); a ReLU over as many elements for scale:
//   B=128 Cch=16 32×32:  wgC 32  26 / 17   64  25 / 16   128  25 / 22   256  29 / 25   ReLU 16
//   B=128 Cch=64 8×8:    wgC 32   6 / 6    64   6 / 4    128   7 / 5    256  14 / 10   ReLU 3
//   B=32 Cch=512 7×7:    wgC 32   9 / 7    64  13 / 9    128  27 / 19   256  83 / 53   ReLU 5
// (every lane adds all WG_C partials, and idle lanes cost on a CPU adapter; a GPU wants more
// lanes per channel, see above). Printed by a throwaway script timing sched.record + finish.
const TILE = { wgX: 8, wgY: 32, per: 8 };
const DEFAULT_WGC = 64;
const cache = new Map<string, Kernel<BatchnormParams>>();

export function batchnormKernel(op: BatchnormOp, v: BatchnormVariant = {}): Kernel<BatchnormParams> {
  if (!BINDINGS[op]) badInput('batchnorm', `unknown op '${op}'`);
  const wgX = v.wgX ?? TILE.wgX, wgY = v.wgY ?? TILE.wgY, per = v.per ?? TILE.per, wgC = v.wgC ?? DEFAULT_WGC;
  const perChannel = PER_CHANNEL.has(op);
  // bn_stats has neither switch: it reads no stats and applies nothing.
  const relu = op !== 'bn_stats' && v.relu === true;
  const fromVar = op !== 'bn_stats' && v.fromVar === true;
  const tileDefault = wgX === TILE.wgX && wgY === TILE.wgY && per === TILE.per;
  const size = perChannel ? (wgC !== DEFAULT_WGC ? `_wgc${wgC}` : '') : tileDefault ? '' : `_wg${wgX}x${wgY}_per${per}`;
  const name = `batchnorm_${op}${relu ? '_relu' : ''}${fromVar ? '_from_var' : ''}${size}`;
  let k = cache.get(name);
  if (k) return k;
  if (perChannel && (!Number.isInteger(wgC) || wgC < 1 || wgC > 256 || (wgC & (wgC - 1)) !== 0)) {
    badInput(name, `wgC must be a power of two in 1..256, got ${wgC}`);
  }
  if (!perChannel) {
    for (const [n, x] of Object.entries({ wgX, wgY, per })) {
      if (!Number.isInteger(x) || x < 1 || x > 256) badInput(name, `${n} must be an integer in 1..256, got ${x}`);
    }
    if (wgX * wgY > 256) badInput(name, `workgroup ${wgX}×${wgY} has more than 256 invocations`);
  }
  const switches: Record<string, number> = op === 'bn_stats' ? {} : { RELU: relu ? 1 : 0, FROM_VAR: fromVar ? 1 : 0 };
  const shape: Record<string, number> = perChannel ? { WG_C: wgC } : { WG_X: wgX, WG_Y: wgY, PER: per };
  k = {
    name,
    shader: 'batchnorm',
    entryPoint: op,
    overrides: { ...shape, ...switches },
    bindings: BINDINGS[op],
    params: [...u32('B', 'Cch', 'HW'), ...f32('eps', 'momentum')],
    sizes: (p): Record<string, number> => {
      const n = p.B * p.Cch * p.HW;
      const sizes: Record<string, number> = { x: n, y: n, dy: n, dx: n, dx_eval: n, saved: 2 * p.Cch, running: 2 * p.Cch, stats: 2 * p.Cch };
      for (const c of ['gamma', 'beta', 'dgamma', 'dbeta', 'dgamma_in', 'dbeta_in']) sizes[c] = p.Cch;
      return sizes;
    },
    dispatch: (p) => (perChannel ? [p.Cch, 1, 1] : tileGrid(p, wgX, wgY, per)),
    check: (p) => checkParams(name, op, p),
  };
  cache.set(name, k);
  return k;
}

/** (chunks per plane, plane groups folded into y and z by 65535): see tile_plane. */
function tileGrid(p: BatchnormParams, wgX: number, wgY: number, per: number): [number, number, number] {
  const groups = ceilDiv(p.B * p.Cch, wgY);
  return [ceilDiv(p.HW, wgX * per), Math.min(groups, 65535), ceilDiv(groups, 65535)];
}

function checkParams(name: string, op: BatchnormOp, p: BatchnormParams): void {
  for (const f of ['B', 'Cch', 'HW'] as const) {
    if (!Number.isInteger(p[f]) || p[f] <= 0) badInput(name, `${f} must be a positive integer, got ${p[f]}`);
  }
  if (p.B * p.Cch * p.HW >= 2 ** 32) badInput(name, `B·Cch·H·W = ${p.B * p.Cch * p.HW} does not fit the kernel's u32 indices`);
  if (p.Cch > 65535) badInput(name, `Cch = ${p.Cch} exceeds 65535 (one workgroup per channel)`);
  if (!(Number.isFinite(p.eps) && p.eps > 0)) badInput(name, `eps must be a positive finite number, got ${p.eps}`);
  if (!(Number.isFinite(p.momentum) && p.momentum >= 0 && p.momentum <= 1)) badInput(name, `momentum must be in [0, 1], got ${p.momentum}`);
  // PyTorch: "Expected more than 1 value per channel when training" (n − 1 divides).
  if (op === 'bn_stats' && p.B * p.HW < 2) badInput(name, `train mode needs more than 1 value per channel, got B·H·W = ${p.B * p.HW}`);
}

function params(where: string, s: BnShape, o: BnOptions): BatchnormParams {
  for (const f of ['B', 'Cch', 'H', 'W'] as const) {
    if (!Number.isInteger(s[f]) || s[f] <= 0) badInput(where, `${f} must be a positive integer, got ${s[f]}`);
  }
  return { B: s.B, Cch: s.Cch, HW: s.H * s.W, eps: o.eps ?? 1e-5, momentum: o.momentum ?? 0.1 };
}

/** Train-mode forward: saved ← (batch mean, invstd); running ← (1 − momentum)·running +
 *  momentum·(mean, unbiased var); y = γ·x̂ + β (then ReLU if opts.relu). saved and running may
 *  be views of one buffer (both are written); x must not share a buffer with what is written. */
export function bnTrainForward(
  sched: Scheduler,
  bufs: { x: Bindable; gamma: Bindable; beta: Bindable; y: Bindable; saved: Bindable; running: Bindable },
  shape: BnShape,
  opts: BnOptions = {},
): void {
  const stats = batchnormKernel('bn_stats', opts);
  const p = params(stats.name, shape, opts);
  sched.record(stats, { x: bufs.x, saved: bufs.saved, running: bufs.running }, p);
  const apply = batchnormKernel('bn_apply', opts);
  sched.record(apply, { x: bufs.x, stats: bufs.saved, gamma: bufs.gamma, beta: bufs.beta, y: bufs.y }, p);
}

/** Eval-mode forward: y = γ·(x − running_mean)/√(running_var + eps) + β (then ReLU). */
export function bnEvalForward(
  sched: Scheduler,
  bufs: { x: Bindable; gamma: Bindable; beta: Bindable; y: Bindable; running: Bindable },
  shape: BnShape,
  opts: BnOptions = {},
): void {
  const apply = batchnormKernel('bn_apply', { ...opts, fromVar: true });
  sched.record(apply, { x: bufs.x, stats: bufs.running, gamma: bufs.gamma, beta: bufs.beta, y: bufs.y }, params(apply.name, shape, opts));
}

type BackwardBufs = { x: Bindable; dy: Bindable; gamma: Bindable; beta: Bindable; dx: Bindable; dgamma: Bindable; dbeta: Bindable };

/** Train-mode backward through the batch statistics: dgamma = Σ g·x̂, dbeta = Σ g (g = dy,
 *  masked by the fused ReLU), dx = γ·invstd·(g − dbeta/n − x̂·dgamma/n). `x` is the forward's
 *  input and `saved` what bnTrainForward stored. dgamma, dbeta are overwritten, then read
 *  while dx is written: they must not share a GPUBuffer with dx. */
export function bnTrainBackward(sched: Scheduler, bufs: BackwardBufs & { saved: Bindable }, shape: BnShape, opts: BnOptions = {}): void {
  const { x, dy, gamma, beta, dx, dgamma, dbeta, saved } = bufs;
  const gs = batchnormKernel('bn_grad_stats', opts);
  const p = params(gs.name, shape, opts);
  sched.record(gs, { x, stats: saved, gamma, beta, dy, dgamma, dbeta }, p);
  sched.record(batchnormKernel('bn_backward_dx', opts), { x, stats: saved, gamma, beta, dy, dgamma_in: dgamma, dbeta_in: dbeta, dx }, p);
}

/** Eval-mode backward (fixed running statistics): dgamma = Σ g·x̂, dbeta = Σ g,
 *  dx = g·γ/√(running_var + eps). */
export function bnEvalBackward(sched: Scheduler, bufs: BackwardBufs & { running: Bindable }, shape: BnShape, opts: BnOptions = {}): void {
  const { x, dy, gamma, beta, dx, dgamma, dbeta, running } = bufs;
  const gs = batchnormKernel('bn_grad_stats', { ...opts, fromVar: true });
  const p = params(gs.name, shape, opts);
  sched.record(gs, { x, stats: running, gamma, beta, dy, dgamma, dbeta }, p);
  sched.record(batchnormKernel('bn_backward_dx_eval', { ...opts, fromVar: true }), { x, stats: running, gamma, beta, dy, dx_eval: dx }, p);
}

/** Every pipeline the four calls above can launch (default workgroup sizes). */
export function allBatchnormKernels(): Kernel<BatchnormParams>[] {
  const ks = [batchnormKernel('bn_stats')];
  for (const relu of [false, true]) {
    for (const fromVar of [false, true]) ks.push(batchnormKernel('bn_apply', { relu, fromVar }), batchnormKernel('bn_grad_stats', { relu, fromVar }));
    ks.push(batchnormKernel('bn_backward_dx', { relu }), batchnormKernel('bn_backward_dx_eval', { relu, fromVar: true }));
  }
  return ks;
}
