import type { KernelCheck } from './check.ts';
import { compare, upload, dotTol } from './check.ts';
import { colsum, rowsumsq, rowdot, type ReduceOp } from '../kernels/reduce.ts';
import { colsumRef, rowsumsqRef, rowdotRef } from '../reference/reduce.ts';
import { Rng } from '../util/rng.ts';

export interface ReduceCase {
  op: ReduceOp;
  R: number;
  Cc: number;
  alpha?: number;
  beta?: number;
  wgX?: number;
  wgY?: number;
}

export function reduceCaseName(c: ReduceCase): string {
  const extra = [
    c.alpha !== undefined && c.alpha !== 1 && `alpha=${c.alpha}`,
    c.beta && `beta=${c.beta}`,
    (c.wgX !== undefined || c.wgY !== undefined) && `wg=${c.wgX ?? '-'}x${c.wgY ?? '-'}`,
  ].filter(Boolean);
  return `reduce_${c.op} R=${c.R} Cc=${c.Cc}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

export function reduceCheck(c: ReduceCase, seed = 1): KernelCheck {
  const name = reduceCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { op, R, Cc, wgX, wgY } = c;
      // alpha and beta as the GPU sees them (f32), so only the sums' rounding is compared.
      const alpha = Math.fround(c.alpha ?? 1), beta = Math.fround(c.beta ?? 0);
      const X = rng.uniformArray(R * Cc);
      const out0 = rng.uniformArray(op === 'colsum' ? Cc : R);
      // rowdot's Y: an independent matrix of the same shape.
      const Y = op === 'rowdot' ? rng.uniformArray(R * Cc) : null;
      const vX = upload(sched, X), vOut = upload(sched, out0), vY = Y ? upload(sched, Y) : null;
      const args = { R, Cc, alpha, beta, wgX, wgY };
      if (op === 'colsum') colsum(sched, { X: vX, out: vOut }, args);
      else if (op === 'rowsumsq') rowsumsq(sched, { X: vX, out: vOut }, args);
      else rowdot(sched, { X: vX, Y: vY!, out: vOut }, args);
      const got = await sched.read(vOut);
      for (const v of [vX, vOut, vY]) if (v) sched.free(v);
      const ref = { R, Cc, alpha, beta, out0 };
      const want = op === 'colsum' ? colsumRef(X, ref) : op === 'rowsumsq' ? rowsumsqRef(X, ref) : rowdotRef(X, Y!, ref);
      // f32 sums of `len` terms of size ≤ 1, scaled by alpha.
      const len = op === 'colsum' ? R : Cc;
      const tol = dotTol(len);
      return compare(name, [['out', got, want, { atol: tol.atol! * Math.max(1, Math.abs(alpha)), rtol: tol.rtol }]]);
    },
  };
}
