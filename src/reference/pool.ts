// float64 references for shaders/pool.wgsl. Tensors are dense NCHW: x [B, Cch, H, W] is
// `planes` = B·Cch row-major H×W planes; pooled outputs are [planes, OH, OW].

export interface PoolRefShape {
  B: number;
  Cch: number;
  H: number;
  W: number;
}

export interface MaxPoolRefShape extends PoolRefShape {
  k: number;
  s: number;
  p: number;
}

/** out[q] = mean of plane q. */
export function globalAvgPoolRef(x: ArrayLike<number>, { B, Cch, H, W }: PoolRefShape): Float64Array {
  const HW = H * W;
  const out = new Float64Array(B * Cch);
  for (let q = 0; q < B * Cch; q++) {
    let s = 0;
    for (let t = 0; t < HW; t++) s += x[q * HW + t];
    out[q] = s / HW;
  }
  return out;
}

/** dx[q, h, w] = dout[q] / (H·W). */
export function globalAvgPoolBackwardRef(dout: ArrayLike<number>, { B, Cch, H, W }: PoolRefShape): Float64Array {
  const HW = H * W;
  const dx = new Float64Array(B * Cch * HW);
  for (let i = 0; i < dx.length; i++) dx[i] = dout[Math.floor(i / HW)] / HW;
  return dx;
}

export function maxPoolOutSize(n: number, k: number, s: number, p: number): number {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

/** PyTorch max_pool2d (ceil_mode=False, dilation 1): the window at (oh·s − p, ow·s − p) over
 *  the −inf-padded input. As in PyTorch's CPU kernel, the max starts at −inf with the index of
 *  the window's first real position, real positions are scanned in row-major order and only
 *  a strictly larger value replaces it, so ties keep the first max (padded positions, −inf,
 *  never replace anything). idx holds h·W + w of the max within its plane. */
export function maxPoolRef(x: ArrayLike<number>, sh: MaxPoolRefShape): { out: Float64Array; idx: Uint32Array } {
  const { B, Cch, H, W, k, s, p } = sh;
  const OH = maxPoolOutSize(H, k, s, p), OW = maxPoolOutSize(W, k, s, p);
  const out = new Float64Array(B * Cch * OH * OW);
  const idx = new Uint32Array(out.length);
  for (let q = 0; q < B * Cch; q++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(oh * s - p, 0), h1 = Math.min(oh * s - p + k, H);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = Math.max(ow * s - p, 0), w1 = Math.min(ow * s - p + k, W);
        let best = -Infinity, at = h0 * W + w0;
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            const v = x[(q * H + h) * W + w];
            if (v > best) { best = v; at = h * W + w; }
          }
        }
        const o = (q * OH + oh) * OW + ow;
        out[o] = best;
        idx[o] = at;
      }
    }
  }
  return { out, idx };
}

/** dx = scatter-add of dout into the max positions idx (the adjoint of the max's selection). */
export function maxPoolBackwardRef(dout: ArrayLike<number>, idx: ArrayLike<number>, sh: MaxPoolRefShape): Float64Array {
  const { B, Cch, H, W, k, s, p } = sh;
  const OHW = maxPoolOutSize(H, k, s, p) * maxPoolOutSize(W, k, s, p);
  const dx = new Float64Array(B * Cch * H * W);
  for (let q = 0; q < B * Cch; q++) {
    for (let o = 0; o < OHW; o++) dx[q * H * W + idx[q * OHW + o]] += dout[q * OHW + o];
  }
  return dx;
}
