// float64 references for shaders/resnet_ops.wgsl. Tensors are dense NCHW.

/** out = relu(a + b) */
export function addReluRef(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.max(a[i] + b[i], 0);
  return out;
}

/** d(a + b) = (dout + dout2)·1[out > 0]; dout2 optional. */
export function addReluBackwardRef(out: ArrayLike<number>, dout: ArrayLike<number>, dout2?: ArrayLike<number> | null): Float64Array {
  const d = new Float64Array(out.length);
  for (let i = 0; i < out.length; i++) d[i] = out[i] > 0 ? dout[i] + (dout2 ? dout2[i] : 0) : 0;
  return d;
}

export interface ShortcutRefShape {
  B: number;
  Cin: number;
  H: number;
  W: number;
  pad: number;
}

/** SPEC 3.2's option-A shortcut, written as PyTorch does it: take x[:, :, ::2, ::2] (rows and
 *  columns 0, 2, 4, …), then F.pad the channel axis with `pad` zero channels on each side. */
export function shortcutARef(x: ArrayLike<number>, { B, Cin, H, W, pad }: ShortcutRefShape): Float64Array {
  const OH = Math.ceil(H / 2), OW = Math.ceil(W / 2), Cout = Cin + 2 * pad;
  // step 1: the strided slice, [B, Cin, OH, OW]
  const sliced = new Float64Array(B * Cin * OH * OW);
  let j = 0;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < Cin; c++) {
      for (let h = 0; h < H; h += 2) for (let w = 0; w < W; w += 2) sliced[j++] = x[((b * Cin + c) * H + h) * W + w];
    }
  }
  // step 2: channel padding, each example's Cin·OH·OW block lands after pad empty channels
  const y = new Float64Array(B * Cout * OH * OW);
  const plane = OH * OW;
  for (let b = 0; b < B; b++) y.set(sliced.subarray(b * Cin * plane, (b + 1) * Cin * plane), (b * Cout + pad) * plane);
  return y;
}

/** The adjoint of shortcutARef: dx = beta·dx0 + Sᵀ dy; Sᵀ sends dy[b, c + pad, oh, ow] to
 *  dx[b, c, 2·oh, 2·ow] and leaves odd rows and columns zero (the pad channels of dy are
 *  dropped). Checked against finite differences of shortcutARef in the tests. */
export function shortcutABackwardRef(dy: ArrayLike<number>, sh: ShortcutRefShape, beta = 0, dx0?: ArrayLike<number> | null): Float64Array {
  const { B, Cin, H, W, pad } = sh;
  const OH = Math.ceil(H / 2), OW = Math.ceil(W / 2), Cout = Cin + 2 * pad;
  const dx = new Float64Array(B * Cin * H * W);
  if (beta !== 0 && dx0) for (let i = 0; i < dx.length; i++) dx[i] = beta * dx0[i];
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < Cin; c++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) dx[((b * Cin + c) * H + 2 * oh) * W + 2 * ow] += dy[((b * Cout + c + pad) * OH + oh) * OW + ow];
      }
    }
  }
  return dx;
}
