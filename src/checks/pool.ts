import type { KernelCheck } from './check.ts';
import { compare, upload, dotTol } from './check.ts';
import { globalAvgPool, globalAvgPoolBackward, maxPool, maxPoolBackward, poolOutSize } from '../kernels/pool.ts';
import { globalAvgPoolRef, globalAvgPoolBackwardRef, maxPoolRef, maxPoolBackwardRef } from '../reference/pool.ts';
import { Rng } from '../util/rng.ts';

export interface PoolCase {
  op: 'avg' | 'max';
  B: number;
  Cch: number;
  H: number;
  W: number;
  /** max pool window side, stride, padding */
  k?: number;
  s?: number;
  p?: number;
  /** inputs on a coarse grid (multiples of 1/4 in [−1, 1]) so windows hold tied maxima */
  ties?: boolean;
  /** workgroup sizes (see PoolConfig) */
  wg?: number;
  wgX?: number;
  wgY?: number;
}

export function poolCaseName(c: PoolCase): string {
  const win = c.op === 'max' ? ` k=${c.k} s=${c.s} p=${c.p}` : '';
  const extra = [c.ties && 'ties', c.wg !== undefined && `wg=${c.wg}`, (c.wgX !== undefined || c.wgY !== undefined) && `wg=${c.wgX ?? '-'}x${c.wgY ?? '-'}`];
  const tail = extra.filter(Boolean).join(' ');
  return `pool_${c.op} B=${c.B} Cch=${c.Cch} H=${c.H} W=${c.W}${win}${tail ? ' ' + tail : ''} fwd+bwd`;
}

/** Forward and backward of one pool against the float64 reference. Outputs are copies or
 *  means of f32 inputs; the max pool's idx must match exactly. */
export function poolCheck(c: PoolCase, seed = 1): KernelCheck {
  const name = poolCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { B, Cch, H, W } = c;
      const cfg = { wg: c.wg, wgX: c.wgX, wgY: c.wgY };
      const x = rng.uniformArray(B * Cch * H * W);
      if (c.ties) for (let i = 0; i < x.length; i++) x[i] = Math.round(x[i] * 4) / 4;
      const vx = upload(sched, x);
      const vdx = sched.alloc(x.length, 'dx');
      if (c.op === 'avg') {
        const dout = rng.uniformArray(B * Cch);
        const vout = sched.alloc(B * Cch, 'out'), vdout = upload(sched, dout);
        globalAvgPool(sched, { x: vx, out: vout }, c, cfg);
        globalAvgPoolBackward(sched, { dout: vdout, dx: vdx }, c, cfg);
        const out = await sched.read(vout), dx = await sched.read(vdx);
        for (const v of [vx, vdx, vout, vdout]) sched.free(v);
        return compare(name, [
          ['out', out, globalAvgPoolRef(x, c), dotTol(H * W)],
          ['dx', dx, globalAvgPoolBackwardRef(dout, c), { atol: 1e-7, rtol: 1e-6 }],
        ]);
      }
      const sh = { B, Cch, H, W, k: c.k!, s: c.s!, p: c.p! };
      const n = B * Cch * poolOutSize(H, sh.k, sh.s, sh.p) * poolOutSize(W, sh.k, sh.s, sh.p);
      const dout = rng.uniformArray(n);
      const vout = sched.alloc(n, 'out'), vidx = sched.alloc(n, 'idx'), vdout = upload(sched, dout);
      maxPool(sched, { x: vx, out: vout, idx: vidx }, sh, cfg);
      maxPoolBackward(sched, { dout: vdout, idx: vidx, dx: vdx }, sh, cfg);
      const out = await sched.read(vout), idx = await sched.readU32(vidx), dx = await sched.read(vdx);
      for (const v of [vx, vdx, vout, vidx, vdout]) sched.free(v);
      const ref = maxPoolRef(x, sh);
      // dx sums ≤ ⌈k/s⌉² f32 gradients per element.
      return compare(name, [
        ['out', out, ref.out, { atol: 0, rtol: 0 }],
        ['idx', idx, ref.idx, { atol: 0, rtol: 0 }],
        ['dx', dx, maxPoolBackwardRef(dout, ref.idx, sh), { atol: 1e-6, rtol: 1e-6 }],
      ]);
    },
  };
}
