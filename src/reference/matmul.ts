// float64 reference for shaders/matmul.wgsl: the executable spec of the kernel.
// All arrays row-major. op(A) is A (M×K) or Aᵀ with A stored K×M; op(B) is B (K×N) or Bᵀ
// with B stored N×K.

export interface MatmulRefArgs {
  M: number; N: number; K: number;
  transA?: boolean; transB?: boolean;
  alpha?: number; beta?: number;
  bias?: ArrayLike<number>; relu?: boolean;
}

export function matmulRef(A: ArrayLike<number>, B: ArrayLike<number>, C0: ArrayLike<number> | null, a: MatmulRefArgs): Float64Array {
  const { M, N, K, transA = false, transB = false, alpha = 1, beta = 0, bias, relu = false } = a;
  const C = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? A[k * M + m] : A[m * K + k];
        const bv = transB ? B[n * K + k] : B[k * N + n];
        acc += av * bv;
      }
      let v = alpha * acc;
      if (beta !== 0 && C0) v += beta * C0[m * N + n];
      if (bias) v += bias[n];
      C[m * N + n] = relu ? Math.max(v, 0) : v;
    }
  }
  return C;
}

/** Backward of C = op(A)·op(B) (no epilogue) for dC: returns dA, dB in A's and B's storage layouts. */
export function matmulBackwardRef(A: ArrayLike<number>, B: ArrayLike<number>, dC: ArrayLike<number>, a: MatmulRefArgs): { dA: Float64Array; dB: Float64Array } {
  const { M, N, K, transA = false, transB = false } = a;
  const dA = new Float64Array(M * K);
  const dB = new Float64Array(K * N);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      let s = 0; // d op(A)[m,k] = Σ_n dC[m,n] op(B)[k,n]
      for (let n = 0; n < N; n++) s += dC[m * N + n] * (transB ? B[n * K + k] : B[k * N + n]);
      dA[transA ? k * M + m : m * K + k] = s;
    }
  }
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      let s = 0; // d op(B)[k,n] = Σ_m op(A)[m,k] dC[m,n]
      for (let m = 0; m < M; m++) s += (transA ? A[k * M + m] : A[m * K + k]) * dC[m * N + n];
      dB[transB ? n * K + k : k * N + n] = s;
    }
  }
  return { dA, dB };
}
