// Kernel descriptors for shaders/elementwise.wgsl (ReLU forward/backward, axpy, scale, fill,
// square)
// and the calls models use. Every op takes `n` (default: the length of the view it writes).
import { type Kernel, type Bindable, asView, ceilDiv, grid1d, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';

export type ElementwiseOp = 'relu_forward' | 'relu_backward' | 'axpy' | 'scale' | 'fill' | 'square';

export interface ElementwiseParams {
  [k: string]: number;
  n: number;
  a: number;
}

export interface ElementwiseConfig {
  /** invocations per workgroup (1..256); each handles one element */
  wg?: number;
}

// Binding names as in the WGSL, in binding order (inputs first, the written one last).
// relu_backward's `y_fwd` and scale/fill's `x_inout` are the calls' `y` and `x`: one WGSL
// module cannot declare `y` both writable and read-only, nor `x` both read-only and writable.
const BINDINGS: Record<ElementwiseOp, Array<{ name: string; access: 'read' | 'read_write' }>> = {
  relu_forward: [{ name: 'x', access: 'read' }, { name: 'y', access: 'read_write' }],
  relu_backward: [{ name: 'y_fwd', access: 'read' }, { name: 'dy', access: 'read' }, { name: 'dx', access: 'read_write' }],
  axpy: [{ name: 'x', access: 'read' }, { name: 'y', access: 'read_write' }],
  scale: [{ name: 'x_inout', access: 'read_write' }],
  fill: [{ name: 'x_inout', access: 'read_write' }],
  square: [{ name: 'x', access: 'read' }, { name: 'y', access: 'read_write' }],
};

const cache = new Map<string, Kernel<ElementwiseParams>>();

export function elementwiseKernel(op: ElementwiseOp, cfg: ElementwiseConfig = {}): Kernel<ElementwiseParams> {
  const { wg = 256 } = cfg;
  if (!BINDINGS[op]) badInput('elementwise', `unknown op '${op}'`);
  if (!Number.isInteger(wg) || wg < 1 || wg > 256) badInput(`elementwise_${op}`, `workgroup size must be an integer in 1..256, got ${wg}`);
  const name = `elementwise_${op}${wg !== 256 ? `_wg${wg}` : ''}`;
  let k = cache.get(name);
  if (k) return k;
  const bindings = BINDINGS[op];
  k = {
    name,
    shader: 'elementwise',
    entryPoint: op,
    overrides: { WG: wg },
    bindings,
    params: [...u32('n'), ...f32('a')],
    sizes: (p) => Object.fromEntries(bindings.map((b) => [b.name, p.n])),
    dispatch: (p) => grid1d(ceilDiv(p.n, wg)),
    check: (p) => {
      if (!Number.isInteger(p.n) || p.n <= 0) badInput(name, `n must be a positive integer, got ${p.n}`);
      if (p.n >= 2 ** 32) badInput(name, `n=${p.n} does not fit the kernel's u32 indices`);
    },
  };
  cache.set(name, k);
  return k;
}

/** n given explicitly, or the length of the view the op writes. */
function lengthOf(n: number | undefined, written: Bindable): number {
  return n ?? asView(written).length;
}

export interface ElementwiseArgs extends ElementwiseConfig {
  /** element count; default: the length of the written view */
  n?: number;
}

/** y = max(x, 0) over n elements. */
export function reluForward(sched: Scheduler, bufs: { x: Bindable; y: Bindable }, args: ElementwiseArgs = {}): void {
  sched.record(elementwiseKernel('relu_forward', args), bufs, { n: lengthOf(args.n, bufs.y), a: 0 });
}

/** y = x² over n elements. */
export function square(sched: Scheduler, bufs: { x: Bindable; y: Bindable }, args: ElementwiseArgs = {}): void {
  sched.record(elementwiseKernel('square', args), bufs, { n: lengthOf(args.n, bufs.y), a: 0 });
}

/** dx = dy where y > 0, else 0; `y` is the forward OUTPUT max(x, 0) (binding 'y_fwd'). */
export function reluBackward(sched: Scheduler, bufs: { y: Bindable; dy: Bindable; dx: Bindable }, args: ElementwiseArgs = {}): void {
  const { y, dy, dx } = bufs;
  sched.record(elementwiseKernel('relu_backward', args), { y_fwd: y, dy, dx }, { n: lengthOf(args.n, dx), a: 0 });
}

/** y += a·x. */
export function axpy(sched: Scheduler, bufs: { x: Bindable; y: Bindable }, args: ElementwiseArgs & { a: number }): void {
  const k = elementwiseKernel('axpy', args);
  finite(k.name, 'a', args.a);
  sched.record(k, bufs, { n: lengthOf(args.n, bufs.y), a: args.a });
}

/** x *= a (binding 'x_inout'). */
export function scale(sched: Scheduler, bufs: { x: Bindable }, args: ElementwiseArgs & { a: number }): void {
  const k = elementwiseKernel('scale', args);
  finite(k.name, 'a', args.a);
  sched.record(k, { x_inout: bufs.x }, { n: lengthOf(args.n, bufs.x), a: args.a });
}

/** x = value (binding 'x_inout'). */
export function fill(sched: Scheduler, bufs: { x: Bindable }, args: ElementwiseArgs & { value: number }): void {
  const k = elementwiseKernel('fill', args);
  finite(k.name, 'value', args.value);
  sched.record(k, { x_inout: bufs.x }, { n: lengthOf(args.n, bufs.x), a: args.value });
}

function finite(where: string, what: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) badInput(where, `${what} must be a finite number, got ${v}`);
}
