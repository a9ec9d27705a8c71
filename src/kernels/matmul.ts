// Kernel descriptors for shaders/matmul.wgsl, and `matmul()`, the call models use.
//
// Variants (all compute C = alpha·op(A)·op(B) + beta·C (+bias) (ReLU)):
//   'vec4'  the fast path: 8×8 outputs per invocation, operands read as vec4 along the
//           dimension they are contiguous in; needs that dimension to be a multiple of 4
//           (see `vec4Layout`). Bindings are named A4/B4 (the WGSL views), so a size error
//           names 'A4' where the caller passed A.
//   'tiled' 4×4 outputs per invocation with scalar loads: any sizes and strides
//   'naive' one invocation per output: the GPU-side oracle
//   'auto'  (default) 'vec4' when the call allows it, else 'tiled'
import { type Kernel, type Bindable, ceilDiv, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Gpu } from '../gpu/device.ts';
import type { Scheduler } from '../sched/scheduler.ts';

export type MatmulKernelVariant = 'vec4' | 'tiled' | 'naive';
export type MatmulVariant = MatmulKernelVariant | 'auto';
export const MATMUL_KERNEL_VARIANTS: readonly MatmulKernelVariant[] = ['vec4', 'tiled', 'naive'];

export interface MatmulConfig {
  variant?: MatmulKernelVariant;
  bias?: boolean;
  relu?: boolean;
  /** workgroup shape; a workgroup covers (wgY*8)×(wgX*8) outputs in 'vec4', (wgY*4)×(wgX*4)
   *  in 'tiled', wgY×wgX in 'naive' */
  wgX?: number;
  wgY?: number;
  /** 'vec4' only: k-steps staged in workgroup memory between barriers (multiple of 4) */
  tileK?: number;
  /** 'vec4' only: A is read as vec4 along k (A stored M×K) rather than along m (stored K×M) */
  aVecK?: boolean;
  /** 'vec4' only: B is read as vec4 along k (B stored N×K) rather than along n (stored K×N) */
  bVecK?: boolean;
}

export interface MatmulParams {
  [k: string]: number;
  M: number; N: number; K: number;
  sA_m: number; sA_k: number; sB_k: number; sB_n: number;
  alpha: number; beta: number;
}

/** Pipeline-creation constants per kind of adapter (each row costs one pipeline per epilogue
 *  and layout). llvmpipe: for 'vec4', workgroups 8x8, 8x4, 4x8, 16x8 and TILE_K 8/16/32
 *  measured within the machine's noise of each other (scripts/bench/matmul.ts --wg, --tilek);
 *  8x8 with TILE_K 16 kept. The GPU row is the usual 16×16 threads × 8×8 outputs = 128×128
 *  per workgroup (16 KiB of workgroup memory at TILE_K 16): a default, not a measurement,
 *  since no GPU was available; it leaves only 16 workgroups for the MLP's 128×1024 products. */
export interface MatmulTuning { wgX: number; wgY: number; tileK: number }
export const MATMUL_TUNING: Record<AdapterKind, MatmulTuning> = {
  llvmpipe: { wgX: 8, wgY: 8, tileK: 16 },
  swiftshader: { wgX: 8, wgY: 8, tileK: 16 },
  gpu: { wgX: 16, wgY: 16, tileK: 16 },
};
export type AdapterKind = 'llvmpipe' | 'swiftshader' | 'gpu';

const kinds = new WeakMap<object, AdapterKind>();

/** Which tuning row an adapter gets: Mesa's CPU drivers (llvmpipe for GL, lavapipe for
 *  Vulkan, both report 'llvmpipe'), Chromium's SwiftShader, or a real GPU. */
export function adapterKind(gpu: Pick<Gpu, 'info'>): AdapterKind {
  let kind = kinds.get(gpu);
  if (!kind) {
    const i = gpu.info;
    const text = [i.vendor, i.architecture, i.device, i.description].join(' ').toLowerCase();
    kind = /llvmpipe|lavapipe/.test(text) ? 'llvmpipe' : /swiftshader/.test(text) ? 'swiftshader' : 'gpu';
    kinds.set(gpu, kind);
  }
  return kind;
}

const cache = new Map<string, Kernel<MatmulParams>>();
const DEFAULT_WG = 8;
const DEFAULT_TILE_K = 16;

export function matmulKernel(cfg: MatmulConfig = {}): Kernel<MatmulParams> {
  const { variant = 'tiled', bias = false, relu = false, wgX = DEFAULT_WG, wgY = DEFAULT_WG, aVecK = true, bVecK = false, tileK = DEFAULT_TILE_K } = cfg;
  const vec = variant === 'vec4';
  if (vec && !(tileK >= 4 && tileK % 4 === 0 && 32 * tileK * (wgX + wgY) <= 16384)) {
    badInput('matmul_vec4', `tileK ${tileK} must be a multiple of 4 with 32·tileK·(wgX+wgY) ≤ 16384 bytes of workgroup memory`);
  }
  const layout = vec ? `_${aVecK ? 'k' : 'm'}${bVecK ? 'k' : 'n'}` : '';
  const wg = (wgX !== DEFAULT_WG || wgY !== DEFAULT_WG ? `_wg${wgX}x${wgY}` : '') + (vec && tileK !== DEFAULT_TILE_K ? `_tk${tileK}` : '');
  const name = `matmul_${variant}${layout}${bias ? '_bias' : ''}${relu ? '_relu' : ''}${wg}`;
  let k = cache.get(name);
  if (k) return k;
  const per = vec ? 8 : variant === 'naive' ? 1 : 4; // outputs per invocation along each axis
  const a = vec ? 'A4' : 'A', b = vec ? 'B4' : 'B';
  k = {
    name,
    shader: 'matmul',
    entryPoint: `matmul_${variant}`,
    overrides: {
      WG_X: wgX, WG_Y: wgY, HAS_BIAS: bias ? 1 : 0, RELU: relu ? 1 : 0,
      ...(vec ? { A_VEC_K: aVecK ? 1 : 0, B_VEC_K: bVecK ? 1 : 0, TILE_K: tileK } : {}),
    },
    bindings: [
      { name: a, access: 'read' },
      { name: b, access: 'read' },
      { name: 'bias', access: 'read' },
      { name: 'C', access: 'read_write' },
    ],
    params: [...u32('M', 'N', 'K', 'sA_m', 'sA_k', 'sB_k', 'sB_n'), ...f32('alpha', 'beta')],
    sizes: (p) => ({ [a]: p.M * p.K, [b]: p.K * p.N, bias: bias ? p.N : 0, C: p.M * p.N }),
    dispatch: (p) => [ceilDiv(p.N, wgX * per), ceilDiv(p.M, wgY * per), 1],
    check: (p) => {
      if (!(p.M > 0 && p.N > 0 && p.K > 0)) badInput(name, `sizes must be positive, got M=${p.M} N=${p.N} K=${p.K}`);
      if (vec) {
        const got = vec4Layout(p);
        if (!got || got.aVecK !== aVecK || got.bVecK !== bVecK) {
          badInput(name, `this vec4 kernel needs ${aVecK ? 'A stored M×K with K' : 'A stored K×M with M'} % 4 == 0 and ` +
            `${bVecK ? 'B stored N×K with K' : 'B stored K×N with N'} % 4 == 0 (M=${p.M} N=${p.N} K=${p.K})`);
        }
      }
    },
  };
  cache.set(name, k);
  return k;
}

/** Every descriptor the matmul family can launch, in every pipeline-changing configuration
 *  at the default workgroup shape (for the shader-compile and descriptor tests). */
export function allMatmulKernels(): Kernel<MatmulParams>[] {
  const ks: Kernel<MatmulParams>[] = [];
  for (const bias of [false, true]) {
    for (const relu of [false, true]) {
      ks.push(matmulKernel({ variant: 'tiled', bias, relu }), matmulKernel({ variant: 'naive', bias, relu }));
      for (const aVecK of [true, false]) {
        for (const bVecK of [false, true]) ks.push(matmulKernel({ variant: 'vec4', bias, relu, aVecK, bVecK }));
      }
    }
  }
  return ks;
}

/** The vec4 reading of A and B for these strides and sizes, or null if a contiguous
 *  dimension is not a multiple of 4 (or the strides are not a plain or transposed layout). */
export function vec4Layout(p: Pick<MatmulParams, 'M' | 'N' | 'K' | 'sA_m' | 'sA_k' | 'sB_k' | 'sB_n'>): { aVecK: boolean; bVecK: boolean } | null {
  const { M, N, K } = p;
  let aVecK: boolean, bVecK: boolean;
  if (p.sA_k === 1 && p.sA_m === K && K % 4 === 0) aVecK = true;
  else if (p.sA_m === 1 && p.sA_k === M && M % 4 === 0) aVecK = false;
  else return null;
  if (p.sB_n === 1 && p.sB_k === N && N % 4 === 0) bVecK = false;
  else if (p.sB_k === 1 && p.sB_n === K && K % 4 === 0) bVecK = true;
  else return null;
  return { aVecK, bVecK };
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
  /** default 'auto': 'vec4' when the sizes allow it, else 'tiled' */
  variant?: MatmulVariant;
}

/** Strides of op(A) and op(B) for a plain or transposed row-major layout. */
export function matmulStrides(a: Pick<MatmulArgs, 'M' | 'N' | 'K' | 'transA' | 'transB'>) {
  const { M, N, K, transA = false, transB = false } = a;
  return { sA_m: transA ? 1 : K, sA_k: transA ? M : 1, sB_k: transB ? 1 : N, sB_n: transB ? K : 1 };
}

/** The kernel configuration `matmul()` launches for these arguments on this adapter. */
export function matmulPlan(a: MatmulArgs, kind: AdapterKind = 'gpu', bias = false): MatmulConfig {
  const { M, N, K } = a;
  const requested = a.variant ?? 'auto';
  const layout = vec4Layout({ M, N, K, ...matmulStrides(a) });
  if (requested === 'vec4' && !layout) {
    badInput('matmul_vec4', `variant 'vec4' needs the contiguous dimension of A and of B to be a multiple of 4 (M=${M} N=${N} K=${K} transA=${!!a.transA} transB=${!!a.transB})`);
  }
  const variant: MatmulKernelVariant = requested === 'auto' ? (layout ? 'vec4' : 'tiled') : requested;
  const { wgX, wgY, tileK } = MATMUL_TUNING[kind];
  return { variant, bias, relu: !!a.relu, wgX, wgY, ...(variant === 'vec4' ? { ...layout!, tileK } : {}) };
}

/** Records C = alpha·op(A)·op(B) + beta·C (+ bias) (ReLU) on the scheduler. */
export function matmul(
  sched: Scheduler,
  bufs: { A: Bindable; B: Bindable; C: Bindable; bias?: Bindable },
  a: MatmulArgs,
): void {
  const { M, N, K, alpha = 1, beta = 0 } = a;
  for (const [n, v] of Object.entries({ M, N, K })) {
    if (!Number.isInteger(v) || v <= 0) badInput(`matmul_${a.variant ?? 'auto'}`, `${n} must be a positive integer, got ${v}`);
  }
  const cfg = matmulPlan(a, adapterKind(sched.gpu), !!bufs.bias);
  const kernel = matmulKernel(cfg);
  const vec = cfg.variant === 'vec4';
  sched.record(
    kernel,
    { [vec ? 'A4' : 'A']: bufs.A, [vec ? 'B4' : 'B']: bufs.B, C: bufs.C, bias: bufs.bias ?? sched.dummy },
    { M, N, K, ...matmulStrides(a), alpha, beta },
  );
}
