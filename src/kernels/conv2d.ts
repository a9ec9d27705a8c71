// Kernel descriptors for shaders/conv2d.wgsl and the calls models use:
//   conv2dForward          out = alpha·conv(x, w) + beta·out (+ bias) (ReLU)
//   conv2dBackwardInput    dx  = alpha·∂(Σ out·dy)/∂x + beta·dx   (beta = 1 sums a residual path)
//   conv2dBackwardWeight   dW  = alpha·∂(Σ out·dy)/∂w + beta·dW   (split over examples, then summed)
//   conv2dBiasGrad         db  = alpha·Σ_{b,y,x} dy + beta·db
// Layouts (PyTorch's, dense f32): x [B, Cin, H, W], w [Cout, Cin, kh, kw], bias/db [Cout],
// out/dy [B, Cout, Ho, Wo]. The geometry travels in Params, so one pipeline per tile shape
// and epilogue serves every layer.
import { type Kernel, type Bindable, type KernelBinding, asView, ceilDiv, grid1d, u32, f32 } from './kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { Scheduler } from '../sched/scheduler.ts';
import { adapterKind, type AdapterKind } from './matmul.ts';
import { colsum } from './reduce.ts';

/** One conv layer at one batch size: NCHW input, the same stride and zero padding on both axes. */
export interface Conv2dGeometry {
  B: number; Cin: number; H: number; W: number; Cout: number;
  kh: number; kw: number; stride: number; pad: number;
}

export interface Conv2dShape { Ho: number; Wo: number; T: number; xLen: number; wLen: number; outLen: number }

/** Validates a geometry (one clear error naming `where`) and derives its sizes. */
export function conv2dShape(g: Conv2dGeometry, where = 'conv2d'): Conv2dShape {
  for (const n of ['B', 'Cin', 'H', 'W', 'Cout', 'kh', 'kw', 'stride'] as const) {
    if (!Number.isInteger(g[n]) || g[n] <= 0) badInput(where, `${n} must be a positive integer, got ${g[n]}`);
  }
  if (!Number.isInteger(g.pad) || g.pad < 0) badInput(where, `pad must be a non-negative integer, got ${g.pad}`);
  if (g.kh > g.H + 2 * g.pad || g.kw > g.W + 2 * g.pad) {
    badInput(where, `a ${g.kh}×${g.kw} kernel does not fit a ${g.H}×${g.W} input padded by ${g.pad}`);
  }
  const Ho = Math.floor((g.H + 2 * g.pad - g.kh) / g.stride) + 1;
  const Wo = Math.floor((g.W + 2 * g.pad - g.kw) / g.stride) + 1;
  const T = Ho * Wo;
  const shape = { Ho, Wo, T, xLen: g.B * g.Cin * g.H * g.W, wLen: g.Cout * g.Cin * g.kh * g.kw, outLen: g.B * g.Cout * T };
  if (Math.max(shape.xLen, shape.outLen) >= 2 ** 31) badInput(where, `tensors of 2^31 or more elements do not fit the kernel's i32 offsets`);
  return shape;
}

export type Conv2dOp = 'forward' | 'backward_input' | 'backward_weight' | 'bias_grad';
export const CONV2D_OPS: readonly Conv2dOp[] = ['forward', 'backward_input', 'backward_weight', 'bias_grad'];

export interface Conv2dParams {
  [k: string]: number;
  B: number; Cin: number; H: number; W: number; Cout: number; Ho: number; Wo: number;
  kh: number; kw: number; stride: number; pad: number; bsplit: number;
  alpha: number; beta: number;
}

export interface Conv2dConfig {
  /** workgroup shape; a workgroup owns (8·wgY) × (8·wgX) outputs of its product (M × N) */
  wgX?: number;
  wgY?: number;
  /** forward only */
  bias?: boolean;
  relu?: boolean;
  /** bias_grad only: lanes per channel */
  lanes?: number;
}

const PARAMS = [...u32('B', 'Cin', 'H', 'W', 'Cout', 'Ho', 'Wo', 'kh', 'kw', 'stride', 'pad', 'bsplit'), ...f32('alpha', 'beta')];
const GEMM_BINDINGS: KernelBinding[] = [
  { name: 'img', access: 'read' }, { name: 'lhs', access: 'read' }, { name: 'bias', access: 'read' }, { name: 'dst', access: 'read_write' },
];
const cache = new Map<string, Kernel<Conv2dParams>>();

/** Rows M and columns N of the product an op computes (backward-input: of its largest phase
 *  class), and the grid's z extent. */
function gemmExtent(op: Conv2dOp, p: Conv2dParams): { M: number; N: number; z: number } {
  const khw = p.kh * p.kw;
  if (op === 'forward') return { M: p.Cout, N: p.B * p.Ho * p.Wo, z: 1 };
  if (op === 'backward_input') return { M: p.Cin, N: p.B * ceilDiv(p.H, p.stride) * ceilDiv(p.W, p.stride), z: p.stride * p.stride };
  return { M: p.Cout, N: p.Cin * khw, z: ceilDiv(p.B, p.bsplit) };
}

export function conv2dKernel(op: Conv2dOp, cfg: Conv2dConfig = {}): Kernel<Conv2dParams> {
  if (op === 'bias_grad') return biasGradKernel(cfg.lanes ?? 64);
  const { wgX = 8, wgY = 8, bias = false, relu = false } = cfg;
  const name = `conv2d_${op}_wg${wgX}x${wgY}${bias ? '_bias' : ''}${relu ? '_relu' : ''}`;
  let k = cache.get(name);
  if (k) return k;
  if (op !== 'forward' && (bias || relu)) badInput(name, `bias and relu are forward-only epilogues`);
  if (!(Number.isInteger(wgX) && Number.isInteger(wgY) && wgX >= 1 && wgY >= 1 && wgX * wgY <= 256)) {
    badInput(name, `workgroup ${wgX}×${wgY} must be positive integers with at most 256 invocations`);
  }
  k = {
    name,
    shader: 'conv2d',
    entryPoint: `conv2d_${op}`,
    overrides: { WG_X: wgX, WG_Y: wgY, HAS_BIAS: bias ? 1 : 0, RELU: relu ? 1 : 0 },
    bindings: GEMM_BINDINGS,
    params: PARAMS,
    sizes: (p): Record<string, number> => {
      const x = p.B * p.Cin * p.H * p.W, y = p.B * p.Cout * p.Ho * p.Wo, w = p.Cout * p.Cin * p.kh * p.kw;
      if (op === 'forward') return { img: x, lhs: w, bias: bias ? p.Cout : 0, dst: y };
      if (op === 'backward_input') return { img: y, lhs: w, dst: x };
      return { img: x, lhs: y, dst: ceilDiv(p.B, p.bsplit) * w };
    },
    dispatch: (p) => {
      const e = gemmExtent(op, p);
      return [ceilDiv(e.N, 8 * wgX), ceilDiv(e.M, 8 * wgY), e.z];
    },
    check: (p) => checkParams(name, op, p),
  };
  cache.set(name, k);
  return k;
}

/** Every entry point in every epilogue configuration at the default 8×8 workgroup (for the
 *  shader-compile and descriptor tests; test/gpu/conv2d.test.ts compiles the other shapes). */
export function allConv2dKernels(): Kernel<Conv2dParams>[] {
  const ks = [false, true].flatMap((bias) => [false, true].map((relu) => conv2dKernel('forward', { bias, relu })));
  return [...ks, conv2dKernel('backward_input'), conv2dKernel('backward_weight'), conv2dKernel('bias_grad')];
}

function biasGradKernel(lanes: number): Kernel<Conv2dParams> {
  const name = `conv2d_bias_grad${lanes !== 64 ? `_l${lanes}` : ''}`;
  let k = cache.get(name);
  if (k) return k;
  if (!(Number.isInteger(lanes) && lanes >= 1 && lanes <= 256)) badInput(name, `lanes must be an integer in [1, 256], got ${lanes}`);
  k = {
    name,
    shader: 'conv2d',
    entryPoint: 'conv2d_bias_grad',
    overrides: { BG_WG: lanes },
    bindings: [{ name: 'img', access: 'read' }, { name: 'db', access: 'read_write' }],
    params: PARAMS,
    sizes: (p) => ({ img: p.B * p.Cout * p.Ho * p.Wo, db: p.Cout }),
    dispatch: (p) => grid1d(p.Cout),
    check: (p) => checkParams(name, 'bias_grad', p),
  };
  cache.set(name, k);
  return k;
}

/** Params consistent with some geometry (the launch helpers derive them from one). */
function checkParams(name: string, op: Conv2dOp, p: Conv2dParams): void {
  const g = { B: p.B, Cin: p.Cin, H: p.H, W: p.W, Cout: p.Cout, kh: p.kh, kw: p.kw, stride: p.stride, pad: p.pad };
  const s = conv2dShape(g, name);
  if (s.Ho !== p.Ho || s.Wo !== p.Wo) badInput(name, `Ho×Wo ${p.Ho}×${p.Wo} does not match the geometry's ${s.Ho}×${s.Wo}`);
  if (op === 'backward_weight' && !(Number.isInteger(p.bsplit) && p.bsplit >= 1)) badInput(name, `bsplit must be a positive integer, got ${p.bsplit}`);
}

// ---- tile shapes per adapter and the launch helpers ---------------------------------------

/** Invocations per workgroup, per kind of adapter (one pipeline per tile shape used). On
 *  llvmpipe 64 invocations fitted to M, a fixed 8×8 and 16×16 measured within the (heavy)
 *  noise of each other at the ResNet8 shapes: invocations past M return at once and cost
 *  nothing there. Fitting wgY to M keeps every invocation busy, which a GPU needs; the GPU
 *  and SwiftShader rows are defaults, not measurements. */
export const CONV2D_INVOCATIONS: Record<AdapterKind, number> = { llvmpipe: 64, swiftshader: 64, gpu: 64 };

/** A product's workgroup shape for its row count M (Cout, or Cin for backward-input): just
 *  enough invocation rows (8 rows of C each) to cover M, the rest along N. */
export function conv2dTile(M: number, kind: AdapterKind): Required<Pick<Conv2dConfig, 'wgX' | 'wgY'>> {
  const n = CONV2D_INVOCATIONS[kind];
  const wgY = Math.min(n, M <= 8 ? 1 : M <= 16 ? 2 : M <= 32 ? 4 : 8);
  return { wgX: n / wgY, wgY };
}

/** Backward-weight's number of example splits: enough workgroups to fill the adapter. */
export function conv2dWeightSplits(g: Conv2dGeometry, kind: AdapterKind): number {
  const { wgX, wgY } = conv2dTile(g.Cout, kind);
  const tiles = ceilDiv(g.Cin * g.kh * g.kw, 8 * wgX) * ceilDiv(g.Cout, 8 * wgY);
  const want = kind === 'gpu' ? 256 : 16;
  return Math.max(1, Math.min(g.B, ceilDiv(want, tiles)));
}

export interface Conv2dArgs {
  alpha?: number;
  /** dst = alpha·result + beta·dst; 0 (default) overwrites dst without reading it */
  beta?: number;
  /** replaces the adapter's default tile shape (benches, tests) */
  config?: Conv2dConfig;
}

function paramsOf(where: string, g: Conv2dGeometry, a: Conv2dArgs, bsplit = 1): Conv2dParams {
  const s = conv2dShape(g, where);
  const { alpha = 1, beta = 0 } = a;
  for (const [n, v] of Object.entries({ alpha, beta })) {
    if (typeof v !== 'number' || !Number.isFinite(v)) badInput(where, `${n} must be a finite number, got ${v}`);
  }
  return { ...g, Ho: s.Ho, Wo: s.Wo, bsplit, alpha, beta };
}

/** Checks each tensor's view against the geometry, naming it as the caller does. */
function checkLengths(where: string, g: Conv2dGeometry, got: Record<string, Bindable | undefined>, need: Record<string, number>): void {
  for (const [n, len] of Object.entries(need)) {
    const v = got[n];
    if (!v) badInput(where, `'${n}' was not given`);
    const have = asView(v).length;
    if (have < len) {
      badInput(where, `'${n}' holds ${have} elements, the geometry needs ${len} (B=${g.B} Cin=${g.Cin} H=${g.H} W=${g.W} Cout=${g.Cout} k=${g.kh}×${g.kw} s=${g.stride} p=${g.pad})`);
    }
  }
}

function tileFor(sched: Scheduler, M: number, a: Conv2dArgs): Conv2dConfig {
  return { ...conv2dTile(M, adapterKind(sched.gpu)), ...a.config };
}

/** out[b,o,y,x] = alpha·Σ w[o,c,u,v]·x[b,c,y·s−p+u,x·s−p+v] + beta·out (+ bias[o]) (ReLU). */
export function conv2dForward(
  sched: Scheduler, bufs: { x: Bindable; w: Bindable; out: Bindable; bias?: Bindable }, g: Conv2dGeometry, a: Conv2dArgs & { relu?: boolean } = {},
): void {
  const s = conv2dShape(g, 'conv2d_forward');
  checkLengths('conv2d_forward', g, bufs, { x: s.xLen, w: s.wLen, out: s.outLen, ...(bufs.bias ? { bias: g.Cout } : {}) });
  const k = conv2dKernel('forward', { ...tileFor(sched, g.Cout, a), bias: !!bufs.bias, relu: !!a.relu });
  sched.record(k, { img: bufs.x, lhs: bufs.w, bias: bufs.bias ?? sched.dummy, dst: bufs.out }, paramsOf(k.name, g, a));
}

/** dx = alpha·(the gradient of Σ conv(x, w)·dy with respect to x) + beta·dx. */
export function conv2dBackwardInput(sched: Scheduler, bufs: { dy: Bindable; w: Bindable; dx: Bindable }, g: Conv2dGeometry, a: Conv2dArgs = {}): void {
  const s = conv2dShape(g, 'conv2d_backward_input');
  checkLengths('conv2d_backward_input', g, bufs, { dy: s.outLen, w: s.wLen, dx: s.xLen });
  const k = conv2dKernel('backward_input', tileFor(sched, g.Cin, a));
  sched.record(k, { img: bufs.dy, lhs: bufs.w, bias: sched.dummy, dst: bufs.dx }, paramsOf(k.name, g, a));
}

/** Elements of the `partial` buffer conv2dBackwardWeight needs for this many splits (0 for one). */
export function conv2dWeightPartialLength(g: Conv2dGeometry, splits: number): number {
  return splits > 1 ? splits * g.Cout * g.Cin * g.kh * g.kw : 0;
}

/** dW = alpha·Σ_{b,y,x} dy[b,o,y,x]·x[b,c,y·s−p+u,x·s−p+v] + beta·dW. The examples are split
 *  `splits` ways (default conv2dWeightSplits); with more than one split each writes its sum
 *  to `partial` ([splits, Cout·Cin·kh·kw], see conv2dWeightPartialLength) and reduce's colsum
 *  adds them into dW. */
export function conv2dBackwardWeight(
  sched: Scheduler, bufs: { x: Bindable; dy: Bindable; dW: Bindable; partial?: Bindable }, g: Conv2dGeometry, a: Conv2dArgs & { splits?: number } = {},
): void {
  const where = 'conv2d_backward_weight';
  const s = conv2dShape(g, where);
  const want = a.splits ?? conv2dWeightSplits(g, adapterKind(sched.gpu));
  if (!Number.isInteger(want) || want < 1) badInput(where, `splits must be a positive integer, got ${want}`);
  const bsplit = ceilDiv(g.B, Math.min(want, g.B));
  const splits = ceilDiv(g.B, bsplit);
  checkLengths(where, g, bufs, { x: s.xLen, dy: s.outLen, dW: s.wLen, ...(splits > 1 ? { partial: splits * s.wLen } : {}) });
  const k = conv2dKernel('backward_weight', tileFor(sched, g.Cout, a));
  const bind = { img: bufs.x, lhs: bufs.dy, bias: sched.dummy };
  if (splits === 1) {
    sched.record(k, { ...bind, dst: bufs.dW }, paramsOf(k.name, g, a, bsplit));
    return;
  }
  sched.record(k, { ...bind, dst: bufs.partial! }, paramsOf(k.name, g, { alpha: 1, beta: 0 }, bsplit));
  colsum(sched, { X: bufs.partial!, out: bufs.dW }, { R: splits, Cc: s.wLen, alpha: a.alpha ?? 1, beta: a.beta ?? 0 });
}

/** db[o] = alpha·Σ_{b,y,x} dy[b,o,y,x] + beta·db[o]. */
export function conv2dBiasGrad(sched: Scheduler, bufs: { dy: Bindable; db: Bindable }, g: Conv2dGeometry, a: Conv2dArgs = {}): void {
  const s = conv2dShape(g, 'conv2d_bias_grad');
  checkLengths('conv2d_bias_grad', g, bufs, { dy: s.outLen, db: g.Cout });
  const k = conv2dKernel('bias_grad', a.config);
  sched.record(k, { img: bufs.dy, db: bufs.db }, paramsOf(k.name, g, a));
}
