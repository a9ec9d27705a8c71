import type { KernelCheck } from './check.ts';
import { compare, upload, dotTol } from './check.ts';
import { softmaxXent } from '../kernels/softmax_xent.ts';
import { softmaxXentRef } from '../reference/softmax_xent.ts';
import { Rng } from '../util/rng.ts';

export interface SoftmaxXentCase {
  B: number;
  K: number;
  smoothing?: number;
  dscale?: number;
  weights?: boolean;
  lanes?: number;
  rows?: number;
  /** rows whose label is set to K (out of range): they must come back NaN */
  badRows?: number[];
  /** every 3rd row (from row 1) has its maximum at two columns, the label and another:
   *  the argmax is the first of them, so `correct` tests the tie rule */
  ties?: boolean;
}

export function softmaxXentCaseName(c: SoftmaxXentCase): string {
  const extra = [
    c.smoothing && `eps=${c.smoothing}`,
    c.dscale !== undefined && `dscale=${c.dscale}`,
    c.weights && 'weighted',
    (c.lanes !== undefined || c.rows !== undefined) && `wg=${c.lanes ?? '-'}x${c.rows ?? '-'}`,
    c.badRows?.length && `bad labels at ${c.badRows.join(',')}`,
    c.ties && 'tied maxima',
  ].filter(Boolean);
  return `softmax_xent B=${c.B} K=${c.K}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

export function softmaxXentCheck(c: SoftmaxXentCase, seed = 1): KernelCheck {
  const name = softmaxXentCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { B, K, lanes, rows } = c;
      const smoothing = Math.fround(c.smoothing ?? 0);
      const dscale = Math.fround(c.dscale ?? 1 / B);
      // Logits spread over [-6, 6] so the softmax is far from uniform; every 3rd row's label
      // is made its argmax so `correct` holds both values.
      const z = rng.uniformArray(B * K, -6, 6);
      const labels = new Uint32Array(B);
      for (let i = 0; i < B; i++) {
        labels[i] = rng.int(K);
        if (i % 3 === 0) z[i * K + labels[i]] = 7;
        if (c.ties && i % 3 === 1 && K > 1) {
          const other = (labels[i] + 1 + rng.int(K - 1)) % K;
          z[i * K + labels[i]] = z[i * K + other] = 7;
        }
      }
      for (const i of c.badRows ?? []) labels[i] = K;
      const w = c.weights ? rng.uniformArray(B, 0, 2) : null;
      const vz = upload(sched, z), vl = upload(sched, labels);
      const vw = w ? upload(sched, w) : undefined;
      const loss = sched.alloc(B, 'loss'), dlogits = sched.alloc(B * K, 'dlogits'), correct = sched.alloc(B, 'correct');
      softmaxXent(sched, { logits: vz, labels: vl, weights: vw, loss, dlogits, correct }, { B, K, smoothing, dscale, lanes, rows });
      const got = { loss: await sched.read(loss), dlogits: await sched.read(dlogits), correct: await sched.read(correct) };
      for (const v of [vz, vl, vw, loss, dlogits, correct]) if (v) sched.free(v);
      const want = softmaxXentRef(z, labels, { B, K, smoothing, dscale, weights: w });
      // loss ~ log K + 12 from a K-term f32 sum; dlogits are dscale·w·(p − q) with |p − q| ≤ 1
      // and exp() within a few ulp (WGSL allows 3 + 2|x| ulp).
      const wmax = w ? 2 : 1;
      return compare(name, [
        ['correct', got.correct, want.correct, { atol: 0, rtol: 0 }],
        ['loss', got.loss, want.loss, dotTol(K)],
        ['dlogits', got.dlogits, want.dlogits, { atol: 2e-6 * Math.abs(dscale) * wmax, rtol: 1e-4 }],
      ]);
    },
  };
}
