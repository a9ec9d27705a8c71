// Variance measurement at one point of the trajectory (SPEC 2.5, 11):
//   Monte Carlo: for each ready estimator, n draws for the mean E, n new draws for the
//   spread; est_var, est_nvar, est_snr, est_gnorm, and grad_bias against SG-B's mean;
//   exact: per-example squared gradient norms, the full gradient, cluster gradient sums and
//   per-example differences to the SVRG snapshot over a fixed set (exactPass), giving tr(S),
//   ||G||², B_simple and the exact variances of SG-B, SG-2B, SVRG and GC.
// Statistics are averaged over the D real parameters: the flat buffers carry alignment
// padding that is always zero and adds nothing to any sum, so sums are divided by D.
import type { Scheduler } from '../sched/scheduler.ts';
import { VarianceStats } from './variance_stats.ts';
import { ESTIMATORS, type EstimatorName, type Estimators } from './estimators.ts';
import { MlpGrad } from '../run/mlp_grad.ts';
import type { GradEngine } from '../models/grad_engine.ts';
import type { Dataset } from '../data/dataset.ts';
import { exactPass } from './exact_pass.ts';
import { gradStats } from './grad_stats.ts';
import { svrgVariance, stratifiedVariance } from './exact.ts';

export interface EstimatorStats { var: number; nvar: number; snr: number; gnorm: number }
export interface ExactStats {
  trS: number; G2: number; B_simple: number; var: Partial<Record<EstimatorName, number>>;
  /** mean GSNR over coordinates and the exact per-coordinate nvar of SG-B and SG-2B */
  gsnr: number; nvar: Partial<Record<EstimatorName, number>>;
}

export class VarianceMeter {
  private readonly stats = new Map<EstimatorName, VarianceStats>();
  private readonly D: number;

  constructor(private readonly sched: Scheduler, private readonly grad: GradEngine, private readonly est: Estimators) {
    this.D = grad.model.layout.count;
    for (const name of ESTIMATORS) this.stats.set(name, new VarianceStats(sched, grad.model.layout.total));
  }

  /** Monte Carlo statistics from 2n draws of every ready estimator in `names` (grad_bias
   *  needs SG-B among them). */
  async monteCarlo(n: number, names: readonly EstimatorName[] = ESTIMATORS): Promise<{ gvar: Partial<Record<EstimatorName, EstimatorStats>>; bias: Partial<Record<EstimatorName, number>> }> {
    const gvar: Partial<Record<EstimatorName, EstimatorStats>> = {};
    const bias: Partial<Record<EstimatorName, number>> = {};
    const rescale = this.grad.model.layout.total / this.D;
    for (const name of ESTIMATORS) {
      if (!names.includes(name) || !this.est.ready(name)) continue;
      const st = this.stats.get(name)!;
      st.beginMean(n);
      for (let r = 0; r < n; r++) {
        st.addMeanDraw(this.est.draw(name));
        this.sched.submit();
      }
      st.beginSpread();
      for (let r = 0; r < n; r++) {
        st.addSpreadDraw(this.est.draw(name));
        this.sched.submit();
      }
      const cmp = name === 'SG-B' || !gvar['SG-B'] ? undefined : this.stats.get('SG-B')!.E;
      const r = await st.finish({ compareMean: cmp });
      gvar[name] = { var: r.var * rescale, nvar: r.nvar * rescale, snr: r.snr * rescale, gnorm: r.gnorm * rescale };
      if (r.compare) bias[name] = r.compare.gradBias * rescale;
    }
    return { gvar, bias };
  }

  /** Exact statistics over `ds` (SPEC 11) from one exactPass: tr(S), ||G||², B_simple and the
   *  exact variances, per parameter like est_var:
   *    SG-B, SG-2B  tr(S)/B and tr(S)/2B (draws with replacement; the estimators' epoch
   *                 sampling without replacement multiplies by (N − B)/(N − 1));
   *    SVRG         (1/B)[(1/N) Σ ||g_i(θ) − g_i(θ_snap)||² − ||G(θ) − G(θ_snap)||²], once a
   *                 snapshot exists (same replacement convention);
   *    GC           Σ_k (N_k/N)² s_k², once a partition exists, and only while the sampler
   *                 has M == B non-empty clusters: then every batch holds exactly one example
   *                 of every cluster (b_k = 1, weights M·N_k/N = B·N_k/N, SPEC 2.1) and, one
   *                 draw per cluster being marginally uniform, the formula is exact for the
   *                 sampler (no finite-population factor: (N_k − 1)/(N_k − 1) = 1). With
   *                 M ≠ B (empty clusters dropped, or C ≠ B) a batch is not one draw per
   *                 cluster (batches straddle the sampler's cluster cycles: some clusters
   *                 are drawn twice or not at all) and its variance depends on the batch's
   *                 phase in the cycle: GC is then left out.
   *  Everything is computed as if `ds` were the training set: with ds the estimators' set
   *  the values are exact; with a subset of it (gvar_run's --exact-subset) they are plug-in
   *  estimates (N_k, s_k², the SVRG differences over the subset). GC needs each example's
   *  cluster: `trainIndex[i]` is the training-set index of ds's example i (default: ds is
   *  the training set or a prefix of it, as subset() makes). Cost: one
   *  forward/backward pass over ds at θ, one more at θ_snap for SVRG; with a partition the
   *  pass goes cluster by cluster, padding each cluster's chunk to a power of two.
   *  Also the mean GSNR and the exact per-coordinate nvar of SG-B and SG-2B (SPEC 11) from the
   *  per-coordinate second moments the same pass gathers. */
  async exact(ds: Dataset, B: number, opts: { passBatch?: number; trainIndex?: ArrayLike<number> } = {}): Promise<ExactStats> {
    const { passBatch = 1024, trainIndex } = opts;
    const sampler = this.est.gcSampler;
    const gc = sampler !== null && sampler.M === sampler.batchSize; // the case the formula covers
    // The per-example factor algebra of exactPass is written for Linear layers.
    if (!(this.grad instanceof MlpGrad)) throw new RangeError('VarianceMeter.exact: exact statistics are implemented for MLPs (use the Monte Carlo statistics)');
    const snap = (this.est.svrgSnapshot as MlpGrad | null) ?? undefined;
    const clusterOf = gc ? this.clustersOf(ds, sampler.clusterOf, trainIndex) : undefined;
    const r = await exactPass(this.sched, this.grad, ds, { passBatch, clusterOf, snap, coordSq: true });
    const { total } = gradStats(r, this.grad.model, B);
    const v: ExactStats['var'] = { 'SG-B': total.var['SG-B'], 'SG-2B': total.var['SG-2B'] };
    if (r.svrg) v.SVRG = svrgVariance(r.svrg.meanSqDiff, r.svrg.gradDiffSqNorm, B) / this.D;
    if (r.clusters) v.GC = stratifiedVariance(r.clusters, 'gc') / this.D;
    return { trS: total.trS, G2: total.G2, B_simple: total.B_simple, var: v, gsnr: total.gsnr!, nvar: { ...total.nvar! } };
  }

  /** The cluster of each example of ds: through trainIndex, or, without it, after checking
   *  that ds is the estimators' training set or a prefix of it (the same memory). */
  private clustersOf(ds: Dataset, clusterOf: Uint32Array, trainIndex?: ArrayLike<number>): Uint32Array {
    const train = this.est.dataset;
    if (trainIndex) {
      if (trainIndex.length !== ds.n) throw new RangeError(`VarianceMeter.exact: trainIndex holds ${trainIndex.length} indices for ${ds.n} examples`);
      return Uint32Array.from(trainIndex, (i) => {
        if (!(Number.isInteger(i) && i >= 0 && i < train.n)) throw new RangeError(`VarianceMeter.exact: trainIndex ${i} is not a training example`);
        return clusterOf[i];
      });
    }
    const prefix = ds.x.buffer === train.x.buffer && ds.x.byteOffset === train.x.byteOffset && ds.y.buffer === train.y.buffer && ds.y.byteOffset === train.y.byteOffset;
    if (!prefix || ds.n > train.n) throw new RangeError('VarianceMeter.exact: ds is not the estimators\' training set nor a prefix of it; pass trainIndex (each example\'s training-set index) for GC');
    return clusterOf.subarray(0, ds.n);
  }

  destroy(): void {
    for (const s of this.stats.values()) s.dispose();
  }
}
