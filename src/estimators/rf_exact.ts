// Exact variances (SPEC 11) of the four estimators for every student of an RfBank, from
// per-example coefficients: student m's per-example gradient is r_i = s_i·(φ_i, 1) in reduced
// form (shaders/rf.wgsl), so ||r_i||² = s_i²·(||φ_i||² + 1) needs only s_i and the stored row
// norms, and the means it needs (the full gradient, the per-cluster sums, the mean SVRG
// difference) are rf_scatter sums. All values are per parameter (D = 2H + 2), like est_var;
// mirrored coordinates make the full-D trace twice the reduced one, so dividing the reduced
// trace by H + 1 gives the same number. Conventions as VarianceMeter.exact: draws with
// replacement (SG-B tr(S)/B, SG-2B tr(S)/2B, SVRG (1/B)·tr of the differences' covariance);
// GC Σ_k (N_k/N)² s_k², only while the student's sampler has M == B non-empty clusters.
import type { RfBank } from '../models/random_features.ts';
import type { ScatterJob } from '../models/rf_plans.ts';
import type { StratifiedSampler } from '../cluster/stratified_sampler.ts';
import { traceCov, stratifiedVariance, svrgVariance, type ClusterStats } from './exact.ts';
import type { Estimator } from '../report/log_records.ts';

export interface RfExact {
  /** tr(S)/D and ||G||²/D (per parameter), B_simple = tr(S)/||G||² */
  trS: number;
  G2: number;
  B_simple: number;
  var: Partial<Record<Estimator, number>>;
}

const sqNorm = (v: ArrayLike<number>, at: number, n: number) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += v[at + i] * v[at + i];
  return s;
};

/** Exact statistics of every student at its current θ (SVRG at its snapshot when `svrg`). */
export async function rfExact(bank: RfBank, B: number, trueH: number, samplers: ReadonlyArray<StratifiedSampler | null>, svrg: boolean): Promise<RfExact[]> {
  const b = bank;
  const lists = b.models.map((_, m) => ({ m, entries: b.trainEntries(m) }));
  b.coefs(lists, 'theta');
  if (svrg) b.coefs(lists, 'snap');
  const s = (await b.sched.read(b.coef)).subarray(0, b.E);
  const sSnap = svrg ? (await b.sched.read(b.coefSnap)).subarray(0, b.E) : null;
  // Rows per student: its full gradient, then one sum per cluster of its sampler (GC exact only
  // when every batch holds one example per cluster), then its mean SVRG difference.
  const gcOk = samplers.map((sp) => sp !== null && sp.M === B);
  const rowsOf = b.models.map((_, m) => 2 + (gcOk[m] ? samplers[m]!.M : 0));
  const row0 = rowsOf.map((_, m) => rowsOf.slice(0, m).reduce((x, y) => x + y, 0));
  const rows = row0[b.M - 1] + rowsOf[b.M - 1];
  const jobs: ScatterJob[] = [];
  b.models.forEach((md, m) => {
    jobs.push({ entries: lists[m].entries, row0: row0[m], scale: 1 / md.N });
    if (gcOk[m]) {
      const sp = samplers[m]!;
      const order = Array.from(lists[m].entries.keys()).sort((x, y) => sp.clusterOf[x] - sp.clusterOf[y]);
      jobs.push({ entries: order.map((i) => lists[m].entries[i]), clusters: order.map((i) => sp.clusterOf[i]), row0: row0[m] + 1, scale: 1 });
    }
  });
  const sums = await b.sched.read(b.scatter('exact', jobs, rows, b.coef));
  let diffSums: Float32Array | null = null;
  const diff = new Float32Array(b.E);
  if (sSnap) {
    for (let e = 0; e < b.E; e++) diff[e] = s[e] - sSnap[e];
    const coefs = b.upload('svrg-diff', diff);
    diffSums = await b.sched.read(b.scatter('exact-svrg', b.models.map((md, m) => ({ entries: lists[m].entries, row0: m, scale: 1 / md.N })), b.M, coefs));
  }
  const sq = (e: number) => b.store.sq[b.entryRows[e]] + 1; // ||(φ, 1)||²
  const D = trueH + 1, RS = b.RS;
  return b.models.map((md, m) => {
    const es = lists[m].entries;
    const norms = Float64Array.from(es, (e) => s[e] * s[e] * sq(e));
    const G2 = sqNorm(sums, row0[m] * RS, RS);
    const trS = traceCov(norms, G2);
    const v: RfExact['var'] = { 'SG-B': trS / B / D, 'SG-2B': trS / (2 * B) / D };
    if (diffSums) {
      const dn = es.reduce((acc, e) => acc + diff[e] * diff[e] * sq(e), 0) / md.N;
      v.SVRG = svrgVariance(dn, sqNorm(diffSums, m * RS, RS), B) / D;
    }
    if (gcOk[m]) {
      const sp = samplers[m]!;
      const cl: ClusterStats[] = Array.from(sp.sizes, (size) => ({ size, sumSqNorm: 0, meanSqNorm: 0 }));
      es.forEach((_, i) => { cl[sp.clusterOf[i]].sumSqNorm += norms[i]; });
      cl.forEach((c, k) => { c.meanSqNorm = sqNorm(sums, (row0[m] + 1 + k) * RS, RS) / (c.size * c.size); });
      v.GC = stratifiedVariance(cl, 'gc') / D;
    }
    return { trS: trS / D, G2: G2 / D, B_simple: trS / G2, var: v };
  });
}
