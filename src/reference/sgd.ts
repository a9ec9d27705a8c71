// float64 reference for shaders/sgd.wgsl, written as torch.optim.SGD's _single_tensor_sgd
// (maximize = False) reads, one parameter tensor at a time.

export interface SgdRefArgs {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export interface SgdRefState {
  p: Float64Array;
  /** the momentum buffer; null before the first step (PyTorch: None) */
  buf: Float64Array | null;
}

/** One step: returns the new parameters and momentum buffer (inputs are not modified). */
export function sgdStepRef(p: ArrayLike<number>, g: ArrayLike<number>, buf: ArrayLike<number> | null, a: SgdRefArgs): SgdRefState {
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = a;
  const n = p.length;
  let d = Float64Array.from(g);
  if (weightDecay !== 0) d = d.map((v, i) => v + weightDecay * p[i]);
  let nextBuf: Float64Array | null = buf ? Float64Array.from(buf) : null;
  if (momentum !== 0) {
    if (nextBuf === null) nextBuf = Float64Array.from(d);
    else for (let i = 0; i < n; i++) nextBuf[i] = momentum * nextBuf[i] + (1 - dampening) * d[i];
    const b = nextBuf;
    d = nesterov ? d.map((v, i) => v + momentum * b[i]) : Float64Array.from(b);
  }
  return { p: Float64Array.from(p, (v, i) => v - lr * d[i]), buf: nextBuf };
}
