import type { KernelCheck } from './check.ts';
import { compare, upload, dotTol } from './check.ts';
import { matmul, type MatmulVariant } from '../kernels/matmul.ts';
import { matmulRef } from '../reference/matmul.ts';
import { Rng } from '../util/rng.ts';

export interface MatmulCase {
  M: number; N: number; K: number;
  transA?: boolean; transB?: boolean;
  bias?: boolean; relu?: boolean; beta?: number; alpha?: number;
  variant?: MatmulVariant;
}

export function matmulCaseName(c: MatmulCase): string {
  const t = `${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'}`;
  const extra = [c.bias && 'bias', c.relu && 'relu', c.beta && `beta=${c.beta}`, c.alpha !== undefined && c.alpha !== 1 && `alpha=${c.alpha}`].filter(Boolean);
  return `matmul_${c.variant ?? 'auto'} ${t} M=${c.M} N=${c.N} K=${c.K}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

export function matmulCheck(c: MatmulCase, seed = 1): KernelCheck {
  const name = matmulCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { M, N, K } = c;
      const A = rng.uniformArray(M * K);
      const B = rng.uniformArray(K * N);
      const C0 = rng.uniformArray(M * N);
      const bias = c.bias ? rng.uniformArray(N) : undefined;
      const vA = upload(sched, A), vB = upload(sched, B), vC = upload(sched, C0);
      const vBias = bias ? upload(sched, bias) : undefined;
      matmul(sched, { A: vA, B: vB, C: vC, bias: vBias }, { ...c });
      const got = await sched.read(vC);
      for (const v of [vA, vB, vC, vBias]) if (v) sched.free(v);
      const want = matmulRef(A, B, C0, { ...c, bias });
      return compare(name, [['C', got, want, dotTol(K)]]);
    },
  };
}
