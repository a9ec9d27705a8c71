import type { KernelCheck } from './check.ts';
import { compare, upload } from './check.ts';
import { reluForward, reluBackward, axpy, scale, fill, square, type ElementwiseOp } from '../kernels/elementwise.ts';
import { reluRef, reluBackwardRef, axpyRef, scaleRef, fillRef, squareRef } from '../reference/elementwise.ts';
import { Rng } from '../util/rng.ts';
import type { Tol } from '../util/close.ts';

export interface ElementwiseCase {
  op: ElementwiseOp;
  n: number;
  /** axpy/scale multiplier, fill value (rounded to f32 so the reference sees what the GPU does) */
  a?: number;
  /** workgroup size (default 256); small ones force a 2-D grid at moderate n */
  wg?: number;
}

export function elementwiseCaseName(c: ElementwiseCase): string {
  const extra = [c.a !== undefined && `a=${c.a}`, c.wg !== undefined && `wg=${c.wg}`].filter(Boolean);
  return `elementwise_${c.op} n=${c.n}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

// ReLU and fill copy f32 values, so they must match exactly; axpy and scale round once or
// twice, square once (|a·x + y| ≤ a few units here, so a few ulp of 4 stays under 1e-6).
const EXACT: Tol = { atol: 0, rtol: 0 };
const ROUNDED: Tol = { atol: 1e-6, rtol: 1e-6 };

export function elementwiseCheck(c: ElementwiseCase, seed = 1): KernelCheck {
  const name = elementwiseCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { n, wg } = c;
      const a = Math.fround(c.a ?? 1.5);
      const x = rng.uniformArray(n);
      const y = rng.uniformArray(n);
      if (c.op === 'relu_backward') {
        // y holds a forward output: non-negative, about half exactly zero.
        for (let i = 0; i < n; i++) y[i] = Math.max(y[i], 0);
      }
      const vx = upload(sched, x), vy = upload(sched, y);
      let out = vy;
      let want: Float64Array;
      let tol = EXACT;
      switch (c.op) {
        case 'relu_forward':
          reluForward(sched, { x: vx, y: vy }, { n, wg });
          want = reluRef(x);
          break;
        case 'relu_backward':
          out = sched.alloc(n, 'dx');
          reluBackward(sched, { y: vy, dy: vx, dx: out }, { n, wg });
          want = reluBackwardRef(y, x);
          break;
        case 'axpy':
          axpy(sched, { x: vx, y: vy }, { n, a, wg });
          want = axpyRef(a, x, y);
          tol = ROUNDED;
          break;
        case 'scale':
          scale(sched, { x: vy }, { n, a, wg });
          want = scaleRef(a, y);
          tol = ROUNDED;
          break;
        case 'fill':
          fill(sched, { x: vy }, { n, value: a, wg });
          want = fillRef(n, a);
          break;
        case 'square':
          square(sched, { x: vx, y: vy }, { n, wg });
          want = squareRef(x);
          tol = ROUNDED;
          break;
      }
      const got = await sched.read(out);
      for (const v of new Set([vx, vy, out])) sched.free(v);
      return compare(name, [[c.op === 'relu_backward' ? 'dx' : c.op === 'scale' || c.op === 'fill' ? 'x' : 'y', got, want, tol]]);
    },
  };
}
