// Kernel descriptor for shaders/softmax_xent.wgsl and `softmaxXent()`, the loss layer models
// call: one dispatch gives per-example losses, dlogits and per-example correctness.
import { type Kernel, type Bindable, ceilDiv, grid1d, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';

export interface SoftmaxXentParams {
  [k: string]: number;
  B: number;
  K: number;
  eps: number;
  dscale: number;
}

export interface SoftmaxXentConfig {
  /** per-example weights w[B] are bound (else w = 1) */
  weights?: boolean;
  /** lanes sharing one row (default 1; softmaxXent() picks lanesFor(K)) */
  lanes?: number;
  /** rows per workgroup (default: 256 / lanes, at most 64) */
  rows?: number;
}

/** Lanes per row for K classes. Measured on llvmpipe GL (ms per call, lanes 1 / 4 / 8 / 32):
 *    B = 128   K = 10: 0.12 / 0.14 / 0.18 / 0.95    K = 100: 0.19 / 0.22 / 0.24 / 1.05
 *              K = 1000: 1.13 / 1.15 / 1.18 / 2.07
 *    B = 1024  K = 10: 0.19 / 0.40 / 0.86 / 6.7     B = 10000, K = 10: 1 lane 1.8, 8 lanes 8.1
 *  A CPU adapter wants one invocation per row (every lane re-reads its row's partials, which
 *  costs it WG_X² per row); a GPU wants a row's reads coalesced once rows are long. So: one
 *  lane for the usual 10–100 classes, a few lanes for long rows, where it costs llvmpipe ≤ 5%. */
export function lanesFor(K: number): number {
  return K < 128 ? 1 : K < 512 ? 4 : 8;
}

const cache = new Map<string, Kernel<SoftmaxXentParams>>();

export function softmaxXentKernel(cfg: SoftmaxXentConfig = {}): Kernel<SoftmaxXentParams> {
  const { weights = false, lanes = 1 } = cfg;
  const rows = cfg.rows ?? Math.min(64, Math.floor(256 / lanes));
  const name = `softmax_xent${weights ? '_weighted' : ''}_wg${lanes}x${rows}`;
  let k = cache.get(name);
  if (k) return k;
  for (const [n, v] of Object.entries({ lanes, rows })) {
    if (!Number.isInteger(v) || v < 1) badInput(name, `${n} must be a positive integer, got ${v}`);
  }
  if (lanes * rows > 256) badInput(name, `workgroup ${lanes}×${rows} has more than 256 invocations`);
  k = {
    name,
    shader: 'softmax_xent',
    entryPoint: 'softmax_xent',
    overrides: { WG_X: lanes, WG_Y: rows, HAS_WEIGHTS: weights ? 1 : 0 },
    bindings: [
      { name: 'logits', access: 'read' },
      { name: 'labels', access: 'read' },
      { name: 'weights', access: 'read' },
      { name: 'loss', access: 'read_write' },
      { name: 'dlogits', access: 'read_write' },
      { name: 'correct', access: 'read_write' },
    ],
    params: [...u32('B', 'K'), ...f32('eps', 'dscale')],
    sizes: (p) => ({ logits: p.B * p.K, labels: p.B, weights: weights ? p.B : 0, loss: p.B, dlogits: p.B * p.K, correct: p.B }),
    dispatch: (p) => grid1d(ceilDiv(p.B, rows)),
    check: (p) => {
      if (!(Number.isInteger(p.B) && Number.isInteger(p.K) && p.B > 0 && p.K > 0)) {
        badInput(name, `sizes must be positive integers, got B=${p.B} K=${p.K}`);
      }
      if (p.B * p.K >= 2 ** 32) badInput(name, `B·K = ${p.B * p.K} does not fit the kernel's u32 indices`);
      if (!(p.eps >= 0 && p.eps < 1)) badInput(name, `label smoothing must be in [0, 1), got ${p.eps}`);
      if (p.eps > 0 && p.K < 2) badInput(name, `label smoothing needs K ≥ 2 classes, got K=${p.K}`);
      if (!Number.isFinite(p.dscale)) badInput(name, `dscale must be a finite number, got ${p.dscale}`);
    },
  };
  cache.set(name, k);
  return k;
}

export interface SoftmaxXentArgs {
  B: number;
  K: number;
  /** label smoothing eps in [0, 1): q = 1 − eps on the label, eps/(K−1) elsewhere */
  smoothing?: number;
  /** dlogits = dscale · w · (p − q); default 1/B (the gradient of the mean loss) */
  dscale?: number;
  lanes?: number;
  rows?: number;
}

export interface SoftmaxXentBuffers {
  /** [B, K] f32 */
  logits: Bindable;
  /** [B] u32 class indices; a label ≥ K yields NaN in that row's outputs */
  labels: Bindable;
  /** [B] f32 per-example weights; absent: all 1 */
  weights?: Bindable;
  /** [B] f32 out: w_i · cross-entropy_i (not scaled by dscale) */
  loss: Bindable;
  /** [B, K] f32 out */
  dlogits: Bindable;
  /** [B] f32 out: 1 where argmax == label, else 0 */
  correct: Bindable;
}

/** Records the fused softmax + cross-entropy forward and backward for a batch. */
export function softmaxXent(sched: Scheduler, bufs: SoftmaxXentBuffers, a: SoftmaxXentArgs): void {
  const { B, K, smoothing = 0, dscale = 1 / B } = a;
  const kernel = softmaxXentKernel({ weights: !!bufs.weights, lanes: a.lanes ?? lanesFor(K), rows: a.rows });
  for (const [n, v] of Object.entries({ B, K })) {
    if (!Number.isInteger(v) || v <= 0) badInput(kernel.name, `${n} must be a positive integer, got ${v}`);
  }
  sched.record(
    kernel,
    { ...bufs, weights: bufs.weights ?? sched.dummy },
    { B, K, eps: smoothing, dscale },
  );
}
