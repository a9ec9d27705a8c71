// float64 references for shaders/batchnorm.wgsl: PyTorch BatchNorm2d (affine, running stats)
// with an optional ReLU on the output. x, y, dy, dx are dense NCHW [B, Cch, H, W]; gamma,
// beta and per-channel statistics are [Cch]; `running` is [2, Cch] = (running_mean, running_var).

export interface BnRefShape {
  B: number;
  Cch: number;
  H: number;
  W: number;
}

export interface BnRefOptions {
  eps?: number;
  momentum?: number;
  relu?: boolean;
}

/** Calls f(index) for every element of channel c, in (b, h, w) order. */
function eachInChannel({ B, Cch, H, W }: BnRefShape, c: number, f: (i: number) => void): void {
  const HW = H * W;
  for (let b = 0; b < B; b++) for (let t = 0; t < HW; t++) f((b * Cch + c) * HW + t);
}

/** Per-channel batch mean and Σ(x − mean)² (two-pass). */
export function bnBatchStatsRef(x: ArrayLike<number>, sh: BnRefShape): { mean: Float64Array; m2: Float64Array; n: number } {
  const n = sh.B * sh.H * sh.W;
  const mean = new Float64Array(sh.Cch), m2 = new Float64Array(sh.Cch);
  for (let c = 0; c < sh.Cch; c++) {
    let s = 0;
    eachInChannel(sh, c, (i) => { s += x[i]; });
    mean[c] = s / n;
    let q = 0;
    eachInChannel(sh, c, (i) => { q += (x[i] - mean[c]) ** 2; });
    m2[c] = q;
  }
  return { mean, m2, n };
}

/** y = γ·(x − mean)·invstd + β, then max(·, 0) if relu. */
export function bnApplyRef(
  x: ArrayLike<number>, mean: ArrayLike<number>, invstd: ArrayLike<number>,
  gamma: ArrayLike<number>, beta: ArrayLike<number>, sh: BnRefShape, relu = false,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let c = 0; c < sh.Cch; c++) {
    eachInChannel(sh, c, (i) => {
      const v = (x[i] - mean[c]) * invstd[c] * gamma[c] + beta[c];
      y[i] = relu ? Math.max(v, 0) : v;
    });
  }
  return y;
}

/** Train mode: normalise with the batch mean and biased variance; running ← (1 − m)·running +
 *  m·(mean, unbiased variance). Returns y, the saved (mean, invstd) and the new running stats. */
export function bnTrainForwardRef(
  x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, running: ArrayLike<number>,
  sh: BnRefShape, o: BnRefOptions = {},
): { y: Float64Array; mean: Float64Array; invstd: Float64Array; running: Float64Array } {
  const { eps = 1e-5, momentum = 0.1, relu = false } = o;
  const { mean, m2, n } = bnBatchStatsRef(x, sh);
  const C = sh.Cch;
  const invstd = new Float64Array(C);
  const run = new Float64Array(2 * C);
  for (let c = 0; c < C; c++) {
    invstd[c] = 1 / Math.sqrt(m2[c] / n + eps);
    run[c] = (1 - momentum) * running[c] + momentum * mean[c];
    run[C + c] = (1 - momentum) * running[C + c] + momentum * (m2[c] / (n - 1));
  }
  return { y: bnApplyRef(x, mean, invstd, gamma, beta, sh, relu), mean, invstd, running: run };
}

/** invstd from running_var: 1/√(var + eps). */
export function runningInvstdRef(running: ArrayLike<number>, Cch: number, eps = 1e-5): Float64Array {
  return Float64Array.from({ length: Cch }, (_, c) => 1 / Math.sqrt(running[Cch + c] + eps));
}

/** Eval mode: normalise with the running statistics. */
export function bnEvalForwardRef(
  x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, running: ArrayLike<number>,
  sh: BnRefShape, o: BnRefOptions = {},
): Float64Array {
  return bnApplyRef(x, Array.from(running).slice(0, sh.Cch), runningInvstdRef(running, sh.Cch, o.eps), gamma, beta, sh, o.relu);
}

export interface BnGrads {
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/** g = dy masked by the ReLU (pre-activation > 0), x̂, and the per-channel sums Σg, Σg·x̂. */
function gradSums(
  x: ArrayLike<number>, dy: ArrayLike<number>, mean: ArrayLike<number>, invstd: ArrayLike<number>,
  gamma: ArrayLike<number>, beta: ArrayLike<number>, sh: BnRefShape, relu: boolean,
) {
  const g = new Float64Array(x.length), xh = new Float64Array(x.length);
  const dgamma = new Float64Array(sh.Cch), dbeta = new Float64Array(sh.Cch);
  for (let c = 0; c < sh.Cch; c++) {
    eachInChannel(sh, c, (i) => {
      xh[i] = (x[i] - mean[c]) * invstd[c];
      g[i] = relu && !(xh[i] * gamma[c] + beta[c] > 0) ? 0 : dy[i];
      dbeta[c] += g[i];
      dgamma[c] += g[i] * xh[i];
    });
  }
  return { g, xh, dgamma, dbeta };
}

/** Train-mode backward through the batch statistics (mean and invstd are functions of x):
 *  dx = γ·invstd·(g − Σg/n − x̂·Σ(g·x̂)/n), dγ = Σ g·x̂, dβ = Σ g. */
export function bnTrainBackwardRef(
  x: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>,
  mean: ArrayLike<number>, invstd: ArrayLike<number>, sh: BnRefShape, o: BnRefOptions = {},
): BnGrads {
  const { g, xh, dgamma, dbeta } = gradSums(x, dy, mean, invstd, gamma, beta, sh, o.relu ?? false);
  const n = sh.B * sh.H * sh.W;
  const dx = new Float64Array(x.length);
  for (let c = 0; c < sh.Cch; c++) {
    eachInChannel(sh, c, (i) => { dx[i] = gamma[c] * invstd[c] * (g[i] - dbeta[c] / n - xh[i] * dgamma[c] / n); });
  }
  return { dx, dgamma, dbeta };
}

/** Eval-mode backward (running statistics are constants): dx = g·γ·invstd_running. */
export function bnEvalBackwardRef(
  x: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>,
  running: ArrayLike<number>, sh: BnRefShape, o: BnRefOptions = {},
): BnGrads {
  const mean = Array.from(running).slice(0, sh.Cch);
  const invstd = runningInvstdRef(running, sh.Cch, o.eps);
  const { g, dgamma, dbeta } = gradSums(x, dy, mean, invstd, gamma, beta, sh, o.relu ?? false);
  const dx = new Float64Array(x.length);
  for (let c = 0; c < sh.Cch; c++) eachInChannel(sh, c, (i) => { dx[i] = g[i] * gamma[c] * invstd[c]; });
  return { dx, dgamma, dbeta };
}
