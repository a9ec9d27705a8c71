// float64 references for shaders/gvar.wgsl, and SPEC 2.5's variance statistics written
// literally (estim/gestim.py:GradientEstimator.get_Ege_var), the executable spec the GPU
// route (moments → partials → host sums) is checked against.

export const NVAR_EPS = 1e-7;
export const LOG_EPS = 1e-10;

/** S[j] + g_j², V[j] + (E_j − g_j)²: one gvar_moments call on copies of S0, V0. */
export function gvarMomentsRef(
  g: ArrayLike<number>, E: ArrayLike<number>, S0: ArrayLike<number>, V0: ArrayLike<number>,
): { S: Float64Array; V: Float64Array } {
  const P = g.length;
  const S = Float64Array.from(S0);
  const V = Float64Array.from(V0);
  for (let j = 0; j < P; j++) {
    const d = E[j] - g[j];
    S[j] += g[j] * g[j];
    V[j] += d * d;
  }
  return { S, V };
}

/** The four terms of coordinate j that gvar_partials sums. */
function gvarTerms(s: number, v: number, nvarEps: number, logEps: number): [number, number, number, number] {
  return [v, v / (s + nvarEps), Math.log(s + logEps) - Math.log(v + logEps), s];
}

function absDiffTerms(x: number, y: number): [number, number, number, number] {
  const d = x - y;
  return [Math.abs(d), d * d, x * x, y * y];
}

/** Rows [groups × 4] as the kernels lay them out: element j belongs to invocation
 *  t = j mod (groups·wg), i.e. to workgroup ⌊t / wg⌋ (the grid-stride mapping). Also the
 *  per-row sums of |term|, the scale of each partial's f32 rounding. */
function partialRows(P: number, groups: number, wg: number, terms: (j: number) => number[]): { rows: Float64Array; absRows: Float64Array } {
  const rows = new Float64Array(4 * groups);
  const absRows = new Float64Array(4 * groups);
  const T = groups * wg;
  for (let j = 0; j < P; j++) {
    const grp = Math.floor((j % T) / wg);
    const t = terms(j);
    for (let q = 0; q < 4; q++) {
      rows[4 * grp + q] += t[q];
      absRows[4 * grp + q] += Math.abs(t[q]);
    }
  }
  return { rows, absRows };
}

export function gvarPartialsRef(
  S: ArrayLike<number>, V: ArrayLike<number>, groups: number, wg: number,
  nvarEps = NVAR_EPS, logEps = LOG_EPS,
): { rows: Float64Array; absRows: Float64Array } {
  return partialRows(S.length, groups, wg, (j) => gvarTerms(S[j], V[j], nvarEps, logEps));
}

export function absDiffPartialsRef(a: ArrayLike<number>, b: ArrayLike<number>, groups: number, wg: number): { rows: Float64Array; absRows: Float64Array } {
  return partialRows(a.length, groups, wg, (j) => absDiffTerms(a[j], b[j]));
}

/** [ΣV, ΣV/(S+nvarEps), Σ(log(S+logEps) − log(V+logEps)), ΣS] over all j. */
export function gvarSumsRef(S: ArrayLike<number>, V: ArrayLike<number>, nvarEps = NVAR_EPS, logEps = LOG_EPS): Float64Array {
  return gvarPartialsRef(S, V, 1, S.length, nvarEps, logEps).rows;
}

export interface VarStats {
  /** est_var: (1/n) Σ_r (1/D) ||g'^(r) − E||², "Average Variance" */
  var: number;
  /** est_nvar: (1/D) Σ_j V_j / (S_j + 1e-7), "Normalized Variance" */
  nvar: number;
  /** est_snr: (1/D) Σ_j [log(S_j + 1e-10) − log(V_j + 1e-10)] */
  snr: number;
  /** est_gnorm: (1/D) Σ_j S_j / n */
  gnorm: number;
}

/** SPEC 2.5 in float64, written as the SPEC's loops: E from the n draws of loop 1, then
 *  var, S, V over the n NEW draws of loop 2 (each draw an array of D values). */
export function varianceStatsRef(meanDraws: ArrayLike<number>[], spreadDraws: ArrayLike<number>[]): VarStats {
  const n = meanDraws.length;
  if (n === 0 || spreadDraws.length !== n) {
    throw new RangeError(`varianceStatsRef: loops 1 and 2 need the same n > 0 draws, got ${n} and ${spreadDraws.length}`);
  }
  const D = meanDraws[0].length;
  const E = new Float64Array(D);
  for (const g of meanDraws) for (let j = 0; j < D; j++) E[j] += g[j] / n;
  const S = new Float64Array(D);
  const V = new Float64Array(D);
  let v = 0;
  for (const g of spreadDraws) {
    let dist = 0;
    for (let j = 0; j < D; j++) {
      const d = g[j] - E[j];
      dist += d * d;
      S[j] += g[j] * g[j];
      V[j] += d * d;
    }
    v += dist / D / n;
  }
  let nvar = 0, snr = 0, gnorm = 0;
  for (let j = 0; j < D; j++) {
    nvar += V[j] / (S[j] + NVAR_EPS);
    snr += Math.log(S[j] + LOG_EPS) - Math.log(V[j] + LOG_EPS);
    gnorm += S[j] / n;
  }
  return { var: v, nvar: nvar / D, snr: snr / D, gnorm: gnorm / D };
}

/** grad_bias (SPEC 2.5): mean_j |a_j − b_j| between two n-sample means. */
export function gradBiasRef(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += Math.abs(a[j] - b[j]);
  return s / a.length;
}
