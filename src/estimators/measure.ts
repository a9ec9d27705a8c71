// Variance measurement at one point of the trajectory (SPEC 2.5, 11):
//   Monte Carlo: for each ready estimator, n draws for the mean E, n new draws for the
//   spread; est_var, est_nvar, est_snr, est_gnorm, and grad_bias against SG-B's mean;
//   exact: per-example squared gradient norms and the full gradient over a fixed set,
//   giving tr(S), ||G||², B_simple and the exact variances of SG-B and SG-2B.
// Statistics are averaged over the D real parameters: the flat buffers carry alignment
// padding that is always zero and adds nothing to any sum, so sums are divided by D.
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { VarianceStats } from './variance_stats.ts';
import { ESTIMATORS, type EstimatorName, type MlpEstimators } from './mlp_estimators.ts';
import type { MlpGrad } from '../run/mlp_grad.ts';
import type { Dataset } from '../data/dataset.ts';
import { gather } from '../data/batches.ts';
import { axpy } from '../kernels/elementwise.ts';
import { rowsumsq } from '../kernels/reduce.ts';
import { peSqnormAccum } from '../kernels/gc.ts';
import { traceCov, sgVariance, simpleNoiseScale } from './exact.ts';

export interface EstimatorStats { var: number; nvar: number; snr: number; gnorm: number }
export interface ExactStats { trS: number; G2: number; B_simple: number; var: Partial<Record<EstimatorName, number>> }

export class VarianceMeter {
  private readonly stats = new Map<EstimatorName, VarianceStats>();
  private readonly D: number;

  constructor(private readonly sched: Scheduler, private readonly grad: MlpGrad, private readonly est: MlpEstimators) {
    this.D = grad.model.layout.count;
    for (const name of ESTIMATORS) this.stats.set(name, new VarianceStats(sched, grad.model.layout.total));
  }

  /** Monte Carlo statistics from 2n draws of every ready estimator. */
  async monteCarlo(n: number): Promise<{ gvar: Partial<Record<EstimatorName, EstimatorStats>>; bias: Partial<Record<EstimatorName, number>> }> {
    const gvar: Partial<Record<EstimatorName, EstimatorStats>> = {};
    const bias: Partial<Record<EstimatorName, number>> = {};
    const rescale = this.grad.model.layout.total / this.D;
    for (const name of ESTIMATORS) {
      if (!this.est.ready(name)) continue;
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
      const cmp = name === 'SG-B' ? undefined : this.stats.get('SG-B')!.E;
      const r = await st.finish({ compareMean: cmp });
      gvar[name] = { var: r.var * rescale, nvar: r.nvar * rescale, snr: r.snr * rescale, gnorm: r.gnorm * rescale };
      if (r.compare) bias[name] = r.compare.gradBias * rescale;
    }
    return { gvar, bias };
  }

  /** Exact SG statistics over `ds` from per-example gradient norms (weights and biases of
   *  every layer) and the full gradient; B is the SG-B batch size. */
  async exact(ds: Dataset, B: number, passBatch = 1024): Promise<ExactStats> {
    const model = this.grad.model;
    const G = this.sched.alloc(model.layout.total, 'exact.G');
    const norms = this.sched.alloc(passBatch, 'exact.norms');
    const aa = this.sched.alloc(passBatch, 'exact.aa');
    const gg = this.sched.alloc(passBatch, 'exact.gg');
    const sq = new Float64Array(ds.n);
    try {
      for (let start = 0; start < ds.n; start += passBatch) {
        const nb = Math.min(passBatch, ds.n - start);
        const { x, y } = gather(ds, Uint32Array.from({ length: nb }, (_, j) => start + j));
        // dscale 1: dz rows are per-example gradients δ_i, grads their sum.
        this.grad.compute(x, y, { dscale: 1 });
        model.layers.forEach((L, l) => {
          const { A, G: dz } = this.grad.layerFactors(nb, l);
          rowsumsq(this.sched, { X: A, out: aa }, { R: nb, Cc: L.din });
          rowsumsq(this.sched, { X: dz, out: gg }, { R: nb, Cc: L.dout });
          peSqnormAccum(this.sched, { aa, gg, out: norms }, { B: nb, beta: l === 0 ? 0 : 1, bias: true });
        });
        axpy(this.sched, { x: model.grads, y: G }, { a: 1 / ds.n });
        const got = await this.sched.read({ ...norms, length: nb });
        for (let j = 0; j < nb; j++) sq[start + j] = got[j];
      }
      const g = await this.sched.read(G);
      let G2 = 0;
      for (const v of g) G2 += v * v;
      const trS = traceCov(sq, G2);
      return {
        trS, G2, B_simple: simpleNoiseScale(trS, G2),
        var: { 'SG-B': sgVariance(trS, B) / this.D, 'SG-2B': sgVariance(trS, 2 * B) / this.D },
      };
    } finally {
      for (const v of [G, norms, aa, gg] as View[]) this.sched.free(v);
    }
  }

  destroy(): void {
    for (const s of this.stats.values()) s.dispose();
  }
}
