// float64 references for shaders/conv2d.wgsl: the executable spec of the conv2d family.
// PyTorch's layouts, all dense:
//   x  [B, Cin, H, W]       w [Cout, Cin, kh, kw]       bias, db [Cout]
//   out, dy [B, Cout, Ho, Wo] with Ho = ⌊(H + 2·pad − kh)/stride⌋ + 1 (Wo likewise)
// Zero padding on both axes, the same stride on both axes, no dilation, no groups.
//   forward  out[b,o,i,j] = Σ_{c,u,v} w[o,c,u,v]·x[b,c,i·s−p+u,j·s−p+v] (+ bias[o]) (ReLU)
//   dx       the gradient of Σ out·dy with respect to x (without bias and ReLU)
//   dW       the gradient of Σ out·dy with respect to w
//   db       Σ_{b,i,j} dy[b,o,i,j]
// Every result is alpha·(that) + beta·(previous contents), as the kernels compute it.
import type { Conv2dGeometry } from '../kernels/conv2d.ts';

type Arr = ArrayLike<number>;

export interface Conv2dRefOpts {
  alpha?: number;
  /** result = alpha·conv + beta·prev; prev is read only when beta ≠ 0 */
  beta?: number;
  prev?: Arr | null;
  /** forward only: max(., 0) after everything else */
  relu?: boolean;
}

/** Output spatial size along one axis. */
export const convOut = (n: number, k: number, s: number, p: number): number => Math.floor((n + 2 * p - k) / s) + 1;

/** The kernels' epilogue order: alpha·acc + beta·prev + bias, then ReLU. */
function finish(acc: Float64Array, o: Conv2dRefOpts, bias?: (i: number) => number): Float64Array {
  const { alpha = 1, beta = 0, prev, relu = false } = o;
  for (let i = 0; i < acc.length; i++) {
    let v = alpha * acc[i] + (beta !== 0 && prev ? beta * prev[i] : 0) + (bias ? bias(i) : 0);
    if (relu) v = Math.max(v, 0);
    acc[i] = v;
  }
  return acc;
}

/** Calls f(b, o, c, i, j, u, v, xIndex, outIndex) for every (output, tap) pair whose input
 *  pixel lies inside the image: the one loop nest all four references share. */
function eachTap(g: Conv2dGeometry, f: (o: number, c: number, u: number, v: number, xi: number, oi: number) => void): void {
  const { B, Cin, H, W, Cout, kh, kw, stride: s, pad: p } = g;
  const Ho = convOut(H, kh, s, p), Wo = convOut(W, kw, s, p);
  for (let b = 0; b < B; b++) for (let o = 0; o < Cout; o++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    const oi = ((b * Cout + o) * Ho + i) * Wo + j;
    for (let c = 0; c < Cin; c++) for (let u = 0; u < kh; u++) {
      const y = i * s - p + u;
      if (y < 0 || y >= H) continue;
      for (let v = 0; v < kw; v++) {
        const xx = j * s - p + v;
        if (xx < 0 || xx >= W) continue;
        f(o, c, u, v, ((b * Cin + c) * H + y) * W + xx, oi);
      }
    }
  }
}

export function conv2dRef(x: Arr, w: Arr, bias: Arr | null, g: Conv2dGeometry, o: Conv2dRefOpts = {}): Float64Array {
  const Ho = convOut(g.H, g.kh, g.stride, g.pad), Wo = convOut(g.W, g.kw, g.stride, g.pad);
  const acc = new Float64Array(g.B * g.Cout * Ho * Wo);
  const { Cin, kh, kw } = g;
  eachTap(g, (oc, c, u, v, xi, oi) => { acc[oi] += w[((oc * Cin + c) * kh + u) * kw + v] * x[xi]; });
  return finish(acc, o, bias ? (i) => bias[Math.floor(i / (Ho * Wo)) % g.Cout] : undefined);
}

export function conv2dDxRef(dy: Arr, w: Arr, g: Conv2dGeometry, o: Conv2dRefOpts = {}): Float64Array {
  const acc = new Float64Array(g.B * g.Cin * g.H * g.W);
  const { Cin, kh, kw } = g;
  eachTap(g, (oc, c, u, v, xi, oi) => { acc[xi] += w[((oc * Cin + c) * kh + u) * kw + v] * dy[oi]; });
  return finish(acc, { ...o, relu: false });
}

export function conv2dDwRef(x: Arr, dy: Arr, g: Conv2dGeometry, o: Conv2dRefOpts = {}): Float64Array {
  const { Cin, kh, kw } = g;
  const acc = new Float64Array(g.Cout * Cin * kh * kw);
  eachTap(g, (oc, c, u, v, xi, oi) => { acc[((oc * Cin + c) * kh + u) * kw + v] += x[xi] * dy[oi]; });
  return finish(acc, { ...o, relu: false });
}

export function conv2dDbRef(dy: Arr, g: Conv2dGeometry, o: Conv2dRefOpts = {}): Float64Array {
  const T = convOut(g.H, g.kh, g.stride, g.pad) * convOut(g.W, g.kw, g.stride, g.pad);
  const acc = new Float64Array(g.Cout);
  for (let b = 0; b < g.B; b++) for (let c = 0; c < g.Cout; c++) for (let t = 0; t < T; t++) acc[c] += dy[(b * g.Cout + c) * T + t];
  return finish(acc, { ...o, relu: false });
}
