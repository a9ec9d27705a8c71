// Exact estimator variances from per-example statistics (SPEC 11), in float64. "Variance"
// here is the trace of the estimator's covariance, E||ĝ − G||²; divide by P for the paper's
// "average variance" (SPEC 2.5 measures (1 + 1/n) times that, by Monte Carlo).
// Notation (SPEC 11): N examples, per-example gradients g_i, G = (1/N) Σ_i g_i,
//   tr(S) = (1/N) Σ_i ||g_i − G||² = (1/N) Σ_i ||g_i||² − ||G||²;
// clusters k with N_k members, means μ_k and within-cluster scatter
//   s_k² = (1/N_k) Σ_{i∈k} ||g_i − μ_k||² = (1/N_k) Σ_{i∈k} ||g_i||² − ||μ_k||².
// Everything needs only squared norms and mean gradients, never the g_i themselves; the
// helpers at the end build the inputs from explicit g_i for small cases and tests.

/** tr(S) = (1/N) Σ ||g_i||² − ||G||² (SPEC 11), from the N per-example squared norms. */
export function traceCov(sqNorms: ArrayLike<number>, gradSqNorm: number): number {
  let s = 0;
  for (let i = 0; i < sqNorms.length; i++) s += sqNorms[i];
  return s / sqNorms.length - gradSqNorm;
}

/** Var(SG-B) (SPEC 11): tr(S)/B for B draws with replacement; without replacement from N
 *  (one draw of a shuffled epoch) times the finite-population factor (N − B)/(N − 1).
 *  Var(SG-2B) is sgVariance(trS, 2B): exactly half with replacement (SPEC 10.4). */
export function sgVariance(trS: number, B: number, opts: { N?: number; replacement?: boolean } = {}): number {
  const { N, replacement = true } = opts;
  if (replacement) return trS / B;
  if (N === undefined || B > N) throw new RangeError(`sgVariance: sampling ${B} without replacement needs N ≥ B, got N=${N}`);
  return N === 1 ? 0 : (trS / B) * ((N - B) / (N - 1));
}

/** Simple noise scale B_simple = tr(S)/||G||² (McCandlish et al. 2018; SPEC 11). */
export function simpleNoiseScale(trS: number, gradSqNorm: number): number {
  return trS / gradSqNorm;
}

/** Norm-based normalized variance of SG-B (SPEC 11):
 *  NV_B = (tr(S)/B) / (||G||² + tr(S)/B) = B_simple / (B + B_simple). */
export function normVarianceSG(trS: number, gradSqNorm: number, B: number): number {
  const v = trS / B;
  return v / (gradSqNorm + v);
}

/** Per-coordinate normalized variance (SPEC 11, GSNR r_j = G_j² / Var_i[g_ij]):
 *  mean_j 1/(1 + B·r_j) = mean_j (var_j/B) / (G_j² + var_j/B), the noise-free limit of
 *  SPEC 2.5's nvar for SG-B (var_j: the per-example variance of coordinate j). */
export function coordNormVarianceSG(G: ArrayLike<number>, varCoord: ArrayLike<number>, B: number): number {
  let s = 0;
  for (let j = 0; j < G.length; j++) {
    const v = varCoord[j] / B;
    const den = G[j] * G[j] + v;
    if (den > 0) s += v / den;
  }
  return s / G.length;
}

/** Per-coordinate statistics from the full gradient G and the second moments
 *  Q_j = (1/N) Σ_i g_ij² over coordinates [from, to): Var_i[g_ij] = Q_j − G_j² (clamped at 0:
 *  float32 sums can leave it a few ulp negative), the mean GSNR r_j = G_j² / Var_i[g_ij]
 *  (Liu et al. 2020) over the coordinates whose gradient varies (a dead unit's weights have
 *  g_ij = 0 for every i: 0/0, left out and counted in `constant`), and the exact normalized
 *  variance mean_j 1/(1 + B r_j) of SG-B for each batch size in Bs. */
export function coordStats(G: ArrayLike<number>, Q: ArrayLike<number>, Bs: readonly number[], from = 0, to = G.length): { gsnr: number; constant: number; nvar: number[] } {
  let sum = 0, varying = 0;
  const varCoord = new Float64Array(to - from);
  for (let j = from; j < to; j++) {
    const g2 = G[j] * G[j];
    const v = Math.max(Q[j] - g2, 0);
    varCoord[j - from] = v;
    if (v > 0) {
      sum += g2 / v;
      varying++;
    }
  }
  const Gs = Array.prototype.slice.call(G, from, to) as number[];
  return { gsnr: varying ? sum / varying : NaN, constant: to - from - varying, nvar: Bs.map((B) => coordNormVarianceSG(Gs, varCoord, B)) };
}

/** Per-cluster inputs of the stratified formulas. */
export interface ClusterStats {
  /** N_k */
  size: number;
  /** Σ_{i∈k} ||g_i||² */
  sumSqNorm: number;
  /** ||μ_k||², μ_k = (1/N_k) Σ_{i∈k} g_i */
  meanSqNorm: number;
}

/** s_k² = (1/N_k) Σ_{i∈k} ||g_i||² − ||μ_k||² (SPEC 11); clamped at 0 against rounding. */
export function clusterScatter(c: ClusterStats): number {
  return c.size === 0 ? 0 : Math.max(c.sumSqNorm / c.size - c.meanSqNorm, 0);
}

export type Allocation = 'gc' | 'proportional' | 'neyman';

/** Stratified variance (SPEC 11): Σ_k (N_k/N)² s_k² / b_k, b_k draws from cluster k, drawn with
 *  replacement (or, with `withoutReplacement`, each term times (N_k − b_k)/(N_k − 1)).
 *  `alloc`: explicit b_k per cluster, or
 *    'gc'            b_k = 1 (GC as implemented, B = M, SPEC 2.1): Σ_k (N_k/N)² s_k²; one draw
 *                    per cluster is marginally uniform, so it is exact for the sampler too;
 *    'proportional'  b_k = B·N_k/N: (1/(B·N)) Σ_k N_k s_k²;
 *    'neyman'        b_k ∝ N_k s_k: (Σ_k (N_k/N) s_k)² / B.
 *  The last two use the continuous allocations (no rounding of b_k, no cap b_k ≤ N_k). */
export function stratifiedVariance(
  clusters: ClusterStats[], alloc: Allocation | ArrayLike<number>, B?: number, opts: { withoutReplacement?: boolean } = {},
): number {
  const N = clusters.reduce((s, c) => s + c.size, 0);
  const s2 = clusters.map(clusterScatter);
  if (typeof alloc === 'string' && alloc !== 'gc') {
    if (!(B !== undefined && B > 0)) throw new RangeError(`stratifiedVariance: '${alloc}' allocation needs the batch size B`);
    if (opts.withoutReplacement) throw new RangeError(`stratifiedVariance: '${alloc}' is the with-replacement closed form`);
    if (alloc === 'proportional') return clusters.reduce((s, c, k) => s + c.size * s2[k], 0) / (B * N);
    const sd = clusters.reduce((s, c, k) => s + (c.size / N) * Math.sqrt(s2[k]), 0);
    return (sd * sd) / B;
  }
  let v = 0;
  clusters.forEach((c, k) => {
    if (c.size === 0) return;
    const b = alloc === 'gc' ? 1 : (alloc as ArrayLike<number>)[k];
    if (!(b > 0)) throw new RangeError(`stratifiedVariance: cluster ${k} has ${b} draws`);
    const fpc = opts.withoutReplacement ? (c.size === 1 ? 0 : (c.size - b) / (c.size - 1)) : 1;
    v += (c.size / N) ** 2 * (s2[k] / b) * fpc;
  });
  return v;
}

/** SVRG (SPEC 11, 2.3): ĝ = μ̃ + (1/B) Σ_b [g_b(w) − g_b(w̃)] with B draws with replacement;
 *  Var = (1/B) [(1/N) Σ_i ||g_i(w) − g_i(w̃)||² − ||G(w) − G(w̃)||²], i.e. sgVariance of the
 *  differences d_i = g_i(w) − g_i(w̃); without replacement from N (one batch of a shuffled
 *  epoch, as Estimators draws) times (N − B)/(N − 1), exactly as for SG-B. */
export function svrgVariance(meanSqDiff: number, gradDiffSqNorm: number, B: number, opts: { N?: number; replacement?: boolean } = {}): number {
  return sgVariance(meanSqDiff - gradDiffSqNorm, B, opts);
}

// ---- inputs from explicit per-example gradients (small sizes, tests) ----------------------

const sq = (v: ArrayLike<number>) => { let s = 0; for (let j = 0; j < v.length; j++) s += v[j] * v[j]; return s; };

function mean(grads: ArrayLike<number>[], P: number): Float64Array {
  const G = new Float64Array(P);
  for (const g of grads) for (let j = 0; j < P; j++) G[j] += g[j] / grads.length;
  return G;
}

/** ||g_i||², G and ||G||² of N explicit gradients of P values each. */
export function gradientStats(grads: ArrayLike<number>[]): { sqNorms: Float64Array; G: Float64Array; gradSqNorm: number } {
  const P = grads[0].length;
  const G = mean(grads, P);
  return { sqNorms: Float64Array.from(grads, sq), G, gradSqNorm: sq(G) };
}

/** ClusterStats per cluster id 0..C−1 of explicit gradients; clusterOf[i] = cluster of g_i. */
export function clusterStatsOf(grads: ArrayLike<number>[], clusterOf: ArrayLike<number>, C: number): ClusterStats[] {
  const P = grads[0].length;
  const members: ArrayLike<number>[][] = Array.from({ length: C }, () => []);
  grads.forEach((g, i) => members[clusterOf[i]].push(g));
  return members.map((m) => ({
    size: m.length,
    sumSqNorm: m.reduce((s, g) => s + sq(g), 0),
    meanSqNorm: m.length ? sq(mean(m, P)) : 0,
  }));
}

/** (1/N) Σ ||g_i(w) − g_i(w̃)||² and ||G(w) − G(w̃)||² of explicit gradients at w and w̃. */
export function svrgStats(grads: ArrayLike<number>[], snapGrads: ArrayLike<number>[]): { meanSqDiff: number; gradDiffSqNorm: number } {
  const diffs = grads.map((g, i) => Float64Array.from({ length: g.length }, (_, j) => g[j] - snapGrads[i][j]));
  const d = gradientStats(diffs);
  return { meanSqDiff: d.sqNorms.reduce((s, v) => s + v, 0) / grads.length, gradDiffSqNorm: d.gradSqNorm };
}
