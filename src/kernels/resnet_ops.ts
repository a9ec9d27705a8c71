// Kernel descriptors for shaders/resnet_ops.wgsl and the calls the ResNet blocks use:
//   addRelu / addReluBackward      out = relu(a + b); dsum = (dout [+ dout2])·1[out > 0]
//   shortcutA / shortcutABackward  option-A shortcut (SPEC 3.2) and its adjoint (+ beta·dx)
// All tensors are dense NCHW f32.
import { type Kernel, type Bindable, asView, ceilDiv, grid1d, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';

export type ResnetOp = 'add_relu_forward' | 'add_relu_backward' | 'shortcut_a_forward' | 'shortcut_a_backward';

export interface ResnetOpsParams {
  [k: string]: number;
  n: number;
  B: number;
  Cin: number;
  H: number;
  W: number;
  Cout: number;
  OH: number;
  OW: number;
  pad: number;
  beta: number;
}

export interface ResnetOpsConfig {
  /** invocations per workgroup (1..256) */
  wg?: number;
  /** add_relu_backward: a second incoming gradient is added before the mask */
  twoGrads?: boolean;
}

/** The option-A shortcut's input [B, Cin, H, W] and channel padding (planes/4 each side). */
export interface ShortcutShape {
  B: number;
  Cin: number;
  H: number;
  W: number;
  pad: number;
}

const BINDINGS: Record<ResnetOp, Array<{ name: string; access: 'read' | 'read_write' }>> = {
  add_relu_forward: [{ name: 'a', access: 'read' }, { name: 'b', access: 'read' }, { name: 'out', access: 'read_write' }],
  add_relu_backward: [
    { name: 'out_fwd', access: 'read' },
    { name: 'dout', access: 'read' },
    { name: 'dout2', access: 'read' },
    { name: 'dsum', access: 'read_write' },
  ],
  shortcut_a_forward: [{ name: 'x', access: 'read' }, { name: 'y', access: 'read_write' }],
  shortcut_a_backward: [{ name: 'dy', access: 'read' }, { name: 'dx', access: 'read_write' }],
};

const DEFAULT_WG = 256;
const cache = new Map<string, Kernel<ResnetOpsParams>>();

export function resnetOpsKernel(op: ResnetOp, cfg: ResnetOpsConfig = {}): Kernel<ResnetOpsParams> {
  if (!BINDINGS[op]) badInput('resnet_ops', `unknown op '${op}'`);
  const wg = cfg.wg ?? DEFAULT_WG;
  const two = op === 'add_relu_backward' && cfg.twoGrads === true;
  const name = `resnet_ops_${op}${two ? '_two_grads' : ''}${wg !== DEFAULT_WG ? `_wg${wg}` : ''}`;
  let k = cache.get(name);
  if (k) return k;
  if (!Number.isInteger(wg) || wg < 1 || wg > 256) badInput(name, `workgroup size must be an integer in 1..256, got ${wg}`);
  const shortcut = op.startsWith('shortcut');
  k = {
    name,
    shader: 'resnet_ops',
    entryPoint: op,
    overrides: op === 'add_relu_backward' ? { WG: wg, TWO_GRADS: two ? 1 : 0 } : { WG: wg },
    bindings: BINDINGS[op],
    params: [...u32('n', 'B', 'Cin', 'H', 'W', 'Cout', 'OH', 'OW', 'pad'), ...f32('beta')],
    sizes: (p): Record<string, number> => {
      if (!shortcut) return { a: p.n, b: p.n, out: p.n, out_fwd: p.n, dout: p.n, dout2: two ? p.n : 0, dsum: p.n };
      const nx = p.B * p.Cin * p.H * p.W, ny = p.B * p.Cout * p.OH * p.OW;
      return { x: nx, dx: nx, y: ny, dy: ny };
    },
    dispatch: (p) => grid1d(ceilDiv(p.n, wg)),
    check: (p) => {
      if (!Number.isInteger(p.n) || p.n <= 0) badInput(name, `n must be a positive integer, got ${p.n}`);
      if (p.n >= 2 ** 32) badInput(name, `n=${p.n} does not fit the kernel's u32 indices`);
      if (!Number.isFinite(p.beta)) badInput(name, `beta must be a finite number, got ${p.beta}`);
      if (shortcut) checkShortcut(name, op === 'shortcut_a_forward', p);
    },
  };
  cache.set(name, k);
  return k;
}

/** The shortcut's derived sizes agree with its input shape (for direct kernel launches). */
function checkShortcut(name: string, forward: boolean, p: ResnetOpsParams): void {
  const ok = p.Cout === p.Cin + 2 * p.pad && p.OH === Math.ceil(p.H / 2) && p.OW === Math.ceil(p.W / 2)
    && p.n === (forward ? p.B * p.Cout * p.OH * p.OW : p.B * p.Cin * p.H * p.W);
  if (!ok) badInput(name, `inconsistent shortcut params n=${p.n} B=${p.B} Cin=${p.Cin} H=${p.H} W=${p.W} Cout=${p.Cout} OH=${p.OH} OW=${p.OW} pad=${p.pad}`);
}

function elementCount(where: string, n: number | undefined, written: Bindable): number {
  const v = n ?? asView(written).length;
  if (!Number.isInteger(v) || v <= 0) badInput(where, `n must be a positive integer, got ${v}`);
  return v;
}

const NO_SHORTCUT = { B: 0, Cin: 0, H: 0, W: 0, Cout: 0, OH: 0, OW: 0, pad: 0, beta: 0 };

/** out = relu(a + b) over n elements (default: the length of out). */
export function addRelu(sched: Scheduler, bufs: { a: Bindable; b: Bindable; out: Bindable }, shape: { n?: number } = {}, cfg: ResnetOpsConfig = {}): void {
  const k = resnetOpsKernel('add_relu_forward', cfg);
  sched.record(k, bufs, { n: elementCount(k.name, shape.n, bufs.out), ...NO_SHORTCUT });
}

/** dsum = (dout + dout2)·1[out > 0], dout2 optional: the gradient of a + b, i.e. of both
 *  branches. `out` is the forward's output relu(a + b). n defaults to the length of dsum. */
export function addReluBackward(
  sched: Scheduler,
  bufs: { out: Bindable; dout: Bindable; dout2?: Bindable; dsum: Bindable },
  shape: { n?: number } = {},
  cfg: Omit<ResnetOpsConfig, 'twoGrads'> = {},
): void {
  const k = resnetOpsKernel('add_relu_backward', { ...cfg, twoGrads: bufs.dout2 !== undefined });
  const n = elementCount(k.name, shape.n, bufs.dsum);
  sched.record(k, { out_fwd: bufs.out, dout: bufs.dout, dout2: bufs.dout2 ?? sched.dummy, dsum: bufs.dsum }, { n, ...NO_SHORTCUT });
}

/** Output shape of the option-A shortcut: [B, Cin + 2·pad, ⌈H/2⌉, ⌈W/2⌉]. */
export function shortcutAOutShape(s: ShortcutShape): { B: number; Cout: number; OH: number; OW: number } {
  return { B: s.B, Cout: s.Cin + 2 * s.pad, OH: Math.ceil(s.H / 2), OW: Math.ceil(s.W / 2) };
}

function shortcutParams(where: string, s: ShortcutShape, forward: boolean, beta: number): ResnetOpsParams {
  for (const f of ['B', 'Cin', 'H', 'W'] as const) {
    if (!Number.isInteger(s[f]) || s[f] <= 0) badInput(where, `${f} must be a positive integer, got ${s[f]}`);
  }
  if (!Number.isInteger(s.pad) || s.pad < 0) badInput(where, `pad must be a non-negative integer, got ${s.pad}`);
  if (typeof beta !== 'number' || !Number.isFinite(beta)) badInput(where, `beta must be a finite number, got ${beta}`);
  const { Cout, OH, OW } = shortcutAOutShape(s);
  const n = forward ? s.B * Cout * OH * OW : s.B * s.Cin * s.H * s.W;
  return { n, B: s.B, Cin: s.Cin, H: s.H, W: s.W, Cout, OH, OW, pad: s.pad, beta };
}

/** y [B, Cin + 2·pad, ⌈H/2⌉, ⌈W/2⌉] = x[:, :, ::2, ::2] with pad zero channels each side. */
export function shortcutA(sched: Scheduler, bufs: { x: Bindable; y: Bindable }, shape: ShortcutShape, cfg: Omit<ResnetOpsConfig, 'twoGrads'> = {}): void {
  const k = resnetOpsKernel('shortcut_a_forward', cfg);
  sched.record(k, bufs, shortcutParams(k.name, shape, true, 0));
}

/** dx [B, Cin, H, W] = beta·dx + the adjoint of shortcutA applied to dy. beta = 0 (default)
 *  overwrites dx without reading it. */
export function shortcutABackward(
  sched: Scheduler,
  bufs: { dy: Bindable; dx: Bindable },
  shape: ShortcutShape & { beta?: number },
  cfg: Omit<ResnetOpsConfig, 'twoGrads'> = {},
): void {
  const k = resnetOpsKernel('shortcut_a_backward', cfg);
  sched.record(k, bufs, shortcutParams(k.name, shape, false, shape.beta ?? 0));
}

export function allResnetOpsKernels(): Kernel<ResnetOpsParams>[] {
  return [
    resnetOpsKernel('add_relu_forward'),
    resnetOpsKernel('add_relu_backward'),
    resnetOpsKernel('add_relu_backward', { twoGrads: true }),
    resnetOpsKernel('shortcut_a_forward'),
    resnetOpsKernel('shortcut_a_backward'),
  ];
}
