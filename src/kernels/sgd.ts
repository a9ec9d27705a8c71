// Kernel descriptor for shaders/sgd.wgsl and `sgd()`: one torch.optim.SGD step over a whole
// parameter buffer (or a view of it) in one dispatch.
import { type Kernel, type Bindable, asView, ceilDiv, grid1d, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';

export interface SgdParams {
  [k: string]: number;
  n: number;
  nesterov: number;
  first: number;
  lr: number;
  momentum: number;
  dampening: number;
  weight_decay: number;
}

const cache = new Map<string, Kernel<SgdParams>>();

/** `wg`: invocations per workgroup (1..256), one parameter each. */
export function sgdKernel(wg = 256): Kernel<SgdParams> {
  const name = `sgd${wg !== 256 ? `_wg${wg}` : ''}`;
  if (!Number.isInteger(wg) || wg < 1 || wg > 256) badInput(name, `workgroup size must be an integer in 1..256, got ${wg}`);
  let k = cache.get(name);
  if (k) return k;
  k = {
    name,
    shader: 'sgd',
    entryPoint: 'sgd',
    overrides: { WG: wg },
    bindings: [
      { name: 'g', access: 'read' },
      { name: 'p', access: 'read_write' },
      { name: 'buf', access: 'read_write' },
    ],
    params: [...u32('n', 'nesterov', 'first'), ...f32('lr', 'momentum', 'dampening', 'weight_decay')],
    sizes: (p) => ({ g: p.n, p: p.n, buf: p.momentum !== 0 ? p.n : 0 }),
    dispatch: (p) => grid1d(ceilDiv(p.n, wg)),
    check: (p) => checkHyper(name, p),
  };
  cache.set(name, k);
  return k;
}

/** torch.optim.SGD's own argument checks, plus a positive size. */
function checkHyper(name: string, p: SgdParams): void {
  if (!Number.isInteger(p.n) || p.n <= 0) badInput(name, `n must be a positive integer, got ${p.n}`);
  for (const f of ['lr', 'momentum', 'dampening', 'weight_decay'] as const) {
    if (typeof p[f] !== 'number' || !Number.isFinite(p[f])) badInput(name, `${f} must be a finite number, got ${p[f]}`);
  }
  if (p.lr < 0) badInput(name, `invalid learning rate ${p.lr} (must be ≥ 0)`);
  if (p.momentum < 0) badInput(name, `invalid momentum ${p.momentum} (must be ≥ 0)`);
  if (p.weight_decay < 0) badInput(name, `invalid weight_decay ${p.weight_decay} (must be ≥ 0)`);
  if (p.nesterov && (p.momentum <= 0 || p.dampening !== 0)) {
    badInput(name, `Nesterov momentum requires a momentum > 0 and zero dampening (momentum=${p.momentum}, dampening=${p.dampening})`);
  }
}

export interface SgdArgs {
  /** parameter count; default: the length of the `p` view */
  n?: number;
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** true on the first step with this momentum buffer (PyTorch: buffer is None): buf = d */
  first?: boolean;
  wg?: number;
}

/** Records one SGD step: p −= lr·d, with PyTorch's weight decay, momentum and Nesterov.
 *  `buf` (the momentum buffer) is required when momentum ≠ 0 and ignored otherwise. */
export function sgd(sched: Scheduler, bufs: { p: Bindable; g: Bindable; buf?: Bindable }, a: SgdArgs): void {
  const kernel = sgdKernel(a.wg);
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false, first = false } = a;
  if (momentum !== 0 && !bufs.buf) badInput(kernel.name, `momentum ${momentum} needs a momentum buffer 'buf'`);
  sched.record(
    kernel,
    { g: bufs.g, p: bufs.p, buf: momentum !== 0 ? bufs.buf! : sched.dummy },
    {
      n: a.n ?? asView(bufs.p).length,
      nesterov: nesterov ? 1 : 0,
      first: first ? 1 : 0,
      lr, momentum, dampening, weight_decay: weightDecay,
    },
  );
}
