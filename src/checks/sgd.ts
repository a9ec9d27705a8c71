import type { KernelCheck } from './check.ts';
import { compare, upload } from './check.ts';
import { sgd } from '../kernels/sgd.ts';
import { sgdStepRef } from '../reference/sgd.ts';
import { Rng } from '../util/rng.ts';

export interface SgdCase {
  n: number;
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** consecutive steps, each with a fresh gradient (default 3: the first-step rule and two more) */
  steps?: number;
  wg?: number;
}

export function sgdCaseName(c: SgdCase): string {
  const extra = [
    c.momentum && `momentum=${c.momentum}`,
    c.dampening && `dampening=${c.dampening}`,
    c.weightDecay && `wd=${c.weightDecay}`,
    c.nesterov && 'nesterov',
    c.wg !== undefined && `wg=${c.wg}`,
  ].filter(Boolean);
  return `sgd n=${c.n} lr=${c.lr}${extra.length ? ' ' + extra.join(' ') : ''} steps=${c.steps ?? 3}`;
}

export function sgdCheck(c: SgdCase, seed = 1): KernelCheck {
  const name = sgdCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { n, nesterov, wg, steps = 3 } = c;
      // Hyper-parameters as the GPU holds them (f32).
      const h = {
        lr: Math.fround(c.lr), momentum: Math.fround(c.momentum ?? 0), dampening: Math.fround(c.dampening ?? 0),
        weightDecay: Math.fround(c.weightDecay ?? 0), nesterov,
      };
      const p0 = rng.uniformArray(n);
      const vp = upload(sched, p0);
      const vg = sched.alloc(n, 'g');
      // The buffer starts as NaN: the first step must overwrite it without reading it.
      const vbuf = h.momentum !== 0 ? upload(sched, new Float32Array(n).fill(NaN)) : undefined;
      let ref: { p: ArrayLike<number>; buf: Float64Array | null } = { p: p0, buf: null };
      for (let s = 0; s < steps; s++) {
        const g = rng.uniformArray(n);
        sched.upload(vg, g);
        sgd(sched, { p: vp, g: vg, buf: vbuf }, { ...h, first: s === 0, wg });
        ref = sgdStepRef(ref.p, g, ref.buf, h);
        sched.submit(); // the next upload must land after this step ran
      }
      const got = await sched.read(vp);
      const gotBuf = vbuf ? await sched.read(vbuf) : null;
      for (const v of [vp, vg, vbuf]) if (v) sched.free(v);
      // Each step rounds a handful of f32 operations on values of order 1.
      const tol = { atol: 1e-6 * steps, rtol: 1e-5 };
      const pairs: Array<[string, ArrayLike<number>, ArrayLike<number>, typeof tol]> = [['p', got, ref.p, tol]];
      if (gotBuf && ref.buf) pairs.push(['buf', gotBuf, ref.buf, tol]);
      return compare(name, pairs);
    },
  };
}
