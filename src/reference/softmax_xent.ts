// float64 reference for shaders/softmax_xent.wgsl: softmax + (label-smoothed, weighted)
// cross-entropy per row of logits z[B, K], its gradient, and argmax correctness.

export interface SoftmaxXentRefArgs {
  B: number;
  K: number;
  /** eps: q = 1 − eps on the label, eps/(K−1) elsewhere */
  smoothing?: number;
  /** dlogits = dscale · w · (p − q); default 1/B */
  dscale?: number;
  /** per-example weights; default 1 */
  weights?: ArrayLike<number> | null;
}

export interface SoftmaxXentRef {
  loss: Float64Array;
  dlogits: Float64Array;
  correct: Float64Array;
}

/** The target distribution q of one row (SPEC 5.5 label smoothing). */
export function smoothedTarget(label: number, K: number, eps: number): Float64Array {
  const q = new Float64Array(K).fill(K > 1 ? eps / (K - 1) : 0);
  q[label] = 1 - eps;
  return q;
}

export function softmaxXentRef(z: ArrayLike<number>, labels: ArrayLike<number>, a: SoftmaxXentRefArgs): SoftmaxXentRef {
  const { B, K, smoothing: eps = 0, dscale = 1 / B, weights } = a;
  const loss = new Float64Array(B);
  const dlogits = new Float64Array(B * K);
  const correct = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    const y = labels[i];
    if (!(y < K)) { // no target: the kernel marks the whole row NaN
      loss[i] = correct[i] = NaN;
      dlogits.fill(NaN, i * K, (i + 1) * K);
      continue;
    }
    const row = Array.from({ length: K }, (_, k) => z[i * K + k]);
    let m = -Infinity, arg = 0;
    row.forEach((v, k) => { if (v > m) { m = v; arg = k; } });
    const s = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
    const logp = row.map((v) => v - m - Math.log(s));
    const q = smoothedTarget(y, K, eps);
    const w = weights ? weights[i] : 1;
    loss[i] = w * logp.reduce((acc, lp, k) => acc - q[k] * lp, 0);
    for (let k = 0; k < K; k++) dlogits[i * K + k] = dscale * w * (Math.exp(logp[k]) - q[k]);
    correct[i] = arg === y ? 1 : 0;
  }
  return { loss, dlogits, correct };
}
