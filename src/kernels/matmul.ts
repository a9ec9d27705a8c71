// Kernel descriptors for shaders/matmul.wgsl, and `matmul()`, the call models use.
import { type Kernel, type Bindable, ceilDiv, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';

export type MatmulVariant = 'tiled' | 'naive';
export interface MatmulConfig {
  variant?: MatmulVariant;
  bias?: boolean;
  relu?: boolean;
  /** workgroup shape; the tiled kernel covers (wgY*4)×(wgX*4) outputs per workgroup */
  wgX?: number;
  wgY?: number;
}

export interface MatmulParams {
  [k: string]: number;
  M: number; N: number; K: number;
  sA_m: number; sA_k: number; sB_k: number; sB_n: number;
  alpha: number; beta: number;
}

const cache = new Map<string, Kernel<MatmulParams>>();

export function matmulKernel(cfg: MatmulConfig = {}): Kernel<MatmulParams> {
  const { variant = 'tiled', bias = false, relu = false, wgX = 8, wgY = 8 } = cfg;
  const name = `matmul_${variant}${bias ? '_bias' : ''}${relu ? '_relu' : ''}${wgX !== 8 || wgY !== 8 ? `_wg${wgX}x${wgY}` : ''}`;
  let k = cache.get(name);
  if (k) return k;
  const per = variant === 'tiled' ? 4 : 1; // outputs per invocation along each axis
  k = {
    name,
    shader: 'matmul',
    entryPoint: `matmul_${variant}`,
    overrides: { WG_X: wgX, WG_Y: wgY, HAS_BIAS: bias ? 1 : 0, RELU: relu ? 1 : 0 },
    bindings: [
      { name: 'A', access: 'read' },
      { name: 'B', access: 'read' },
      { name: 'bias', access: 'read' },
      { name: 'C', access: 'read_write' },
    ],
    params: [...u32('M', 'N', 'K', 'sA_m', 'sA_k', 'sB_k', 'sB_n'), ...f32('alpha', 'beta')],
    sizes: (p) => ({ A: p.M * p.K, B: p.K * p.N, bias: bias ? p.N : 0, C: p.M * p.N }),
    dispatch: (p) => [ceilDiv(p.N, wgX * per), ceilDiv(p.M, wgY * per), 1],
    check: (p) => {
      if (!(p.M > 0 && p.N > 0 && p.K > 0)) badInput(name, `sizes must be positive, got M=${p.M} N=${p.N} K=${p.K}`);
    },
  };
  cache.set(name, k);
  return k;
}

export interface MatmulArgs {
  M: number; N: number; K: number;
  /** compute with Aᵀ where A is stored K×M */
  transA?: boolean;
  /** compute with Bᵀ where B is stored N×K */
  transB?: boolean;
  alpha?: number;
  /** C = alpha·op(A)·op(B) + beta·C; 0 (default) overwrites C without reading it */
  beta?: number;
  relu?: boolean;
  variant?: MatmulVariant;
}

/** Records C = alpha·op(A)·op(B) + beta·C (+ bias) (ReLU) on the scheduler. */
export function matmul(
  sched: Scheduler,
  bufs: { A: Bindable; B: Bindable; C: Bindable; bias?: Bindable },
  a: MatmulArgs,
): void {
  const { M, N, K, transA = false, transB = false, alpha = 1, beta = 0 } = a;
  const kernel = matmulKernel({ variant: a.variant, bias: !!bufs.bias, relu: a.relu });
  for (const [n, v] of Object.entries({ M, N, K })) {
    if (!Number.isInteger(v) || v <= 0) badInput(kernel.name, `${n} must be a positive integer, got ${v}`);
  }
  sched.record(
    kernel,
    { A: bufs.A, B: bufs.B, C: bufs.C, bias: bufs.bias ?? sched.dummy },
    {
      M, N, K,
      sA_m: transA ? 1 : K, sA_k: transA ? M : 1,
      sB_k: transB ? 1 : N, sB_n: transB ? K : 1,
      alpha, beta,
    },
  );
}
