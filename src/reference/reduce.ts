// float64 references for shaders/reduce.wgsl. X (and Y) are dense row-major [R, Cc].

export interface ReduceRefArgs {
  R: number;
  Cc: number;
  alpha?: number;
  beta?: number;
  /** the previous contents of out, read only when beta ≠ 0 */
  out0?: ArrayLike<number> | null;
}

/** out[c] = alpha·Σ_r X[r, c] + beta·out0[c] */
export function colsumRef(X: ArrayLike<number>, a: ReduceRefArgs): Float64Array {
  const { R, Cc, alpha = 1, beta = 0, out0 } = a;
  const out = new Float64Array(Cc);
  for (let c = 0; c < Cc; c++) {
    let s = 0;
    for (let r = 0; r < R; r++) s += X[r * Cc + c];
    out[c] = alpha * s + (beta !== 0 && out0 ? beta * out0[c] : 0);
  }
  return out;
}

/** out[r] = alpha·Σ_c X[r, c]² + beta·out0[r] */
export function rowsumsqRef(X: ArrayLike<number>, a: ReduceRefArgs): Float64Array {
  const { R, Cc, alpha = 1, beta = 0, out0 } = a;
  const out = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let c = 0; c < Cc; c++) s += X[r * Cc + c] * X[r * Cc + c];
    out[r] = alpha * s + (beta !== 0 && out0 ? beta * out0[r] : 0);
  }
  return out;
}

/** out[r] = alpha·Σ_c X[r, c]·Y[r, c] + beta·out0[r] */
export function rowdotRef(X: ArrayLike<number>, Y: ArrayLike<number>, a: ReduceRefArgs): Float64Array {
  const { R, Cc, alpha = 1, beta = 0, out0 } = a;
  const out = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let c = 0; c < Cc; c++) s += X[r * Cc + c] * Y[r * Cc + c];
    out[r] = alpha * s + (beta !== 0 && out0 ? beta * out0[r] : 0);
  }
  return out;
}

/** y[r, c] = x[r, c] + b[c]: the op whose bias gradient colsum computes (for gradchecks). */
export function addBiasRef(x: ArrayLike<number>, b: ArrayLike<number>, R: number, Cc: number): Float64Array {
  const y = new Float64Array(R * Cc);
  for (let r = 0; r < R; r++) for (let c = 0; c < Cc; c++) y[r * Cc + c] = x[r * Cc + c] + b[c];
  return y;
}
