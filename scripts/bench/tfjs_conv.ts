// The peer for scripts/bench/conv.ts: TF.js 4.22 `tfjs-backend-webgpu` on a Dawn adapter of
// the same backend as ours (its own device, from a second `webgpu` create() instance exposed
// as globalThis.navigator.gpu). The three passes are the kernels TF.js's own conv2d gradient
// runs: Conv2D (tf.conv2d), Conv2DBackpropInput and Conv2DBackpropFilter (called through
// tf.engine().runKernel with the attributes tf.grad would pass). TF.js's filters are
// [kh, kw, Cin, Cout] in either data format; activations are NHWC (its default and fast path)
// or NCHW.
import type { Conv2dGeometry } from '../../src/kernels/conv2d.ts';
import { conv2dShape } from '../../src/kernels/conv2d.ts';
import { conv2dRef, conv2dDxRef, conv2dDwRef } from '../../src/reference/conv2d.ts';
import { closeReport } from '../../src/util/close.ts';
import { dotTol } from '../../src/checks/check.ts';
import { Rng } from '../../src/util/rng.ts';
import { PoliteWait, type Runner } from './common.ts';

type Tf = typeof import('@tensorflow/tfjs');
type Tensor = import('@tensorflow/tfjs').Tensor;
export type ConvOp = 'fwd' | 'dx' | 'dW';
export type TfLayout = 'NHWC' | 'NCHW';

export interface ConvPeer {
  name: string;
  /** n repetitions of one pass on seeded operands, waiting once for the last result */
  runner(op: ConvOp, g: Conv2dGeometry): Runner;
  /** frees the operands of every runner made so far */
  release(): void;
}

const dawn: unknown[] = []; // every create() instance stays referenced (DESIGN section 7)

async function loadTf(backend: string): Promise<Tf> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const inst = create([`backend=${backend}`, ...(backend === 'vulkan' ? ['disable-dawn-features=timestamp_quantization'] : [])]);
  dawn.push(inst);
  // TF.js asks for an adapter without a feature level; OpenGL offers only compatibility.
  const featureLevel = backend.startsWith('opengl') ? 'compatibility' : 'core';
  const gpu = {
    requestAdapter: (o?: GPURequestAdapterOptions) => inst.requestAdapter({ ...o, featureLevel } as GPURequestAdapterOptions),
    getPreferredCanvasFormat: () => 'rgba8unorm',
    wgslLanguageFeatures: inst.wgslLanguageFeatures,
  };
  dawn.push(gpu);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error(`tf.setBackend('webgpu') returned false`);
  await tf.ready();
  return tf;
}

/** NCHW (ours) → the peer's layout; OIHW weights → HWIO. */
function toLayout(a: Float32Array, B: number, C: number, H: number, W: number, layout: TfLayout): Float32Array {
  if (layout === 'NCHW') return a;
  const out = new Float32Array(a.length);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) out[(b * H * W + i) * C + c] = a[(b * C + c) * H * W + i];
  return out;
}
function toHWIO(w: Float32Array, g: Conv2dGeometry): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < g.Cout; o++) for (let c = 0; c < g.Cin; c++) for (let u = 0; u < g.kh * g.kw; u++) {
    out[(u * g.Cin + c) * g.Cout + o] = w[(o * g.Cin + c) * g.kh * g.kw + u];
  }
  return out;
}

/** One pass of TF.js on given tensors (the result is a new tensor the caller disposes). */
function pass(tf: Tf, op: ConvOp, g: Conv2dGeometry, layout: TfLayout, t: { x: Tensor; w: Tensor; dy: Tensor }): Tensor {
  const strides: [number, number] = [g.stride, g.stride];
  if (op === 'fwd') return tf.conv2d(t.x as import('@tensorflow/tfjs').Tensor4D, t.w as import('@tensorflow/tfjs').Tensor4D, g.stride, g.pad, layout);
  if (op === 'dx') {
    return tf.engine().runKernel('Conv2DBackpropInput', { dy: t.dy, filter: t.w }, { strides, pad: g.pad, dataFormat: layout, inputShape: t.x.shape }) as Tensor;
  }
  return tf.engine().runKernel('Conv2DBackpropFilter', { x: t.x, dy: t.dy }, { strides, pad: g.pad, dataFormat: layout, filterShape: t.w.shape }) as Tensor;
}

function tensors(tf: Tf, g: Conv2dGeometry, layout: TfLayout, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const { Ho, Wo } = conv2dShape(g);
  const shape = (C: number, H: number, W: number): [number, number, number, number] => (layout === 'NHWC' ? [g.B, H, W, C] : [g.B, C, H, W]);
  return {
    x: tf.tensor4d(toLayout(x, g.B, g.Cin, g.H, g.W, layout), shape(g.Cin, g.H, g.W)),
    w: tf.tensor4d(toHWIO(w, g), [g.kh, g.kw, g.Cin, g.Cout]),
    dy: tf.tensor4d(toLayout(dy, g.B, g.Cout, Ho, Wo, layout), shape(g.Cout, Ho, Wo)),
  };
}

/** Each pass on a small odd geometry against our float64 reference: the same operation? */
async function checkPeer(tf: Tf, layout: TfLayout): Promise<void> {
  const g = { B: 2, Cin: 3, H: 9, W: 7, Cout: 5, kh: 3, kw: 3, stride: 2, pad: 1 };
  const s = conv2dShape(g);
  const rng = new Rng(11);
  const x = rng.uniformArray(s.xLen), w = rng.uniformArray(s.wLen), dy = rng.uniformArray(s.outLen);
  const t = tensors(tf, g, layout, x, w, dy);
  const want: Record<ConvOp, Float32Array> = {
    fwd: toLayout(Float32Array.from(conv2dRef(x, w, null, g)), g.B, g.Cout, s.Ho, s.Wo, layout),
    dx: toLayout(Float32Array.from(conv2dDxRef(dy, w, g)), g.B, g.Cin, g.H, g.W, layout),
    dW: toHWIO(Float32Array.from(conv2dDwRef(x, dy, g)), g),
  };
  for (const op of ['fwd', 'dx', 'dW'] as const) {
    const r = pass(tf, op, g, layout, t);
    const bad = closeReport(await r.data(), want[op], dotTol(op === 'dW' ? g.B * s.Ho * s.Wo : 45));
    r.dispose();
    if (bad) throw new Error(`${op} disagrees with the float64 reference: ${bad.split('\n')[0]}`);
  }
  tf.dispose([t.x, t.w, t.dy]);
}

/** TF.js webgpu as a conv peer, or a line saying why it is unavailable. */
export async function tfjsConvPeer(backend: string, layout: TfLayout): Promise<ConvPeer | string> {
  let tf: Tf;
  try {
    tf = await loadTf(backend);
    await checkPeer(tf, layout);
  } catch (e) {
    return `unavailable (${(e as Error).message.split('\n')[0]})`;
  }
  const held: Tensor[] = [];
  return {
    name: `tfjs-webgpu ${layout}`,
    release: () => tf.dispose(held.splice(0)),
    runner(op, g) {
      const s = conv2dShape(g);
      const rng = new Rng(1);
      const t = tensors(tf, g, layout, rng.uniformArray(s.xLen), rng.uniformArray(s.wLen), rng.uniformArray(s.outLen));
      held.push(t.x, t.w, t.dy);
      const wait = new PoliteWait();
      return async (n) => {
        let last: Tensor | null = null;
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          const r = pass(tf, op, g, layout, t);
          last?.dispose();
          last = r;
        }
        // Flush TF's batched commands, sleep through the work, then read (mapAsync spins a
        // core); the three calls are what its own readback does before mapAsync.
        const be = tf.backend() as { ensureCommandEncoderReady?(): void; endComputePassEncoder?(): void; submitQueue?(): void };
        be.ensureCommandEncoderReady?.();
        be.endComputePassEncoder?.();
        be.submitQueue?.();
        await wait.after(t0, performance.now(), () => last!.data(), n);
        last!.dispose();
      };
    },
  };
}
