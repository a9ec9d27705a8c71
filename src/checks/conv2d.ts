import type { KernelCheck } from './check.ts';
import { compare, upload, dotTol } from './check.ts';
import {
  conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dBiasGrad, conv2dShape, conv2dWeightPartialLength,
  conv2dWeightSplits, type Conv2dGeometry, type Conv2dConfig,
} from '../kernels/conv2d.ts';
import { adapterKind } from '../kernels/matmul.ts';
import { conv2dRef, conv2dDxRef, conv2dDwRef, conv2dDbRef } from '../reference/conv2d.ts';
import { Rng } from '../util/rng.ts';

export type Conv2dCheckOp = 'forward' | 'backward_input' | 'backward_weight' | 'bias_grad';

export interface Conv2dCase extends Conv2dGeometry {
  op: Conv2dCheckOp;
  alpha?: number;
  beta?: number;
  /** forward only */
  bias?: boolean;
  relu?: boolean;
  /** backward_weight only: example splits (default: the adapter's choice) */
  splits?: number;
  config?: Conv2dConfig;
}

export function conv2dCaseName(c: Conv2dCase): string {
  const cfg = c.config ?? {};
  const extra = [
    c.bias && 'bias', c.relu && 'relu',
    c.alpha !== undefined && c.alpha !== 1 && `alpha=${c.alpha}`, c.beta && `beta=${c.beta}`,
    c.splits !== undefined && `splits=${c.splits}`,
    (cfg.wgX || cfg.wgY) && `wg=${cfg.wgX ?? '-'}x${cfg.wgY ?? '-'}`,
    cfg.lanes && `lanes=${cfg.lanes}`,
  ].filter(Boolean);
  return `conv2d_${c.op} B=${c.B} Cin=${c.Cin} ${c.H}x${c.W} Cout=${c.Cout} k=${c.kh}x${c.kw} s=${c.stride} p=${c.pad}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

export function conv2dCheck(c: Conv2dCase, seed = 1): KernelCheck {
  const name = conv2dCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const s = conv2dShape(c);
      // alpha and beta as the GPU sees them (f32), so only the sums' rounding is compared.
      const alpha = Math.fround(c.alpha ?? 1), beta = Math.fround(c.beta ?? 0);
      const a = { alpha, beta, config: c.config };
      const x = rng.uniformArray(s.xLen), w = rng.uniformArray(s.wLen), dy = rng.uniformArray(s.outLen);
      const bias = c.bias ? rng.uniformArray(c.Cout) : null;
      const outLen = { forward: s.outLen, backward_input: s.xLen, backward_weight: s.wLen, bias_grad: c.Cout }[c.op];
      const prev = rng.uniformArray(outLen);
      const vOut = upload(sched, prev);
      const used = [vOut];
      const up = (d: Float32Array) => { const v = upload(sched, d); used.push(v); return v; };
      // Sum length of one output (for the tolerance) and the float64 expectation.
      let len: number, want: Float64Array;
      const ref = { alpha, beta, prev };
      if (c.op === 'forward') {
        conv2dForward(sched, { x: up(x), w: up(w), out: vOut, bias: bias ? up(bias) : undefined }, c, { ...a, relu: c.relu });
        len = c.Cin * c.kh * c.kw;
        want = conv2dRef(x, w, bias, c, { ...ref, relu: c.relu });
      } else if (c.op === 'backward_input') {
        conv2dBackwardInput(sched, { dy: up(dy), w: up(w), dx: vOut }, c, a);
        len = c.Cout * c.kh * c.kw;
        want = conv2dDxRef(dy, w, c, ref);
      } else if (c.op === 'backward_weight') {
        const splits = Math.min(c.B, c.splits ?? conv2dWeightSplits(c, adapterKind(sched.gpu)));
        const pl = conv2dWeightPartialLength(c, splits);
        const partial = pl ? sched.alloc(pl, 'conv2d-partial') : undefined;
        if (partial) used.push(partial);
        conv2dBackwardWeight(sched, { x: up(x), dy: up(dy), dW: vOut, partial }, c, { ...a, splits });
        len = c.B * s.T;
        want = conv2dDwRef(x, dy, c, ref);
      } else {
        conv2dBiasGrad(sched, { dy: up(dy), db: vOut }, c, a);
        len = c.B * s.T;
        want = conv2dDbRef(dy, c, ref);
      }
      const got = await sched.read(vOut);
      for (const v of used) sched.free(v);
      const tol = dotTol(len);
      return compare(name, [[c.op === 'forward' ? 'out' : c.op === 'backward_input' ? 'dx' : c.op === 'backward_weight' ? 'dW' : 'db', got, want,
        { atol: tol.atol! * Math.max(1, Math.abs(alpha)), rtol: tol.rtol }]]);
    },
  };
}
