// SPEC 2.5's variance measurement on the GPU (estim/gestim.py:get_Ege_var), for one
// estimator at one snapshot, over a flat gradient vector of P = D parameters:
//
//   beginMean(n); n × addMeanDraw(g)     loop 1: E = (1/n) Σ_r g^(r)        (axpy, a = 1/n)
//   beginSpread(); n × addSpreadDraw(g)  loop 2: S += g'², V += (E − g')²  (gvar_moments)
//   await finish()                       gvar_partials → one readback → float64 sums →
//       est_var   = ΣV / (n·D)       = (1/n) Σ_r (1/D) ||g'^(r) − E||²   (V_j = Σ_r (E_j − g'_j)²)
//       est_nvar  = (1/D) Σ_j V_j / (S_j + 1e-7)
//       est_snr   = (1/D) Σ_j [log(S_j + 1e-10) − log(V_j + 1e-10)]
//       est_gnorm = ΣS / (n·D)       = (1/D) Σ_j S_j / n
//
// Everything up to finish() only records passes (nothing waits on the GPU); finish() submits
// and reads back one small buffer. Each draw `g` is read when the recorded passes run, so it
// must keep its contents until they are submitted (the scheduler's usual contract: record
// the next backward pass after this one, or submit before overwriting g from the host).
// Passing `compareMean` (another estimator's E, e.g. SG-B's) to finish() adds grad_bias =
// mean_j |E_j − E'_j| (SPEC 2.5) from the same readback.
import type { Scheduler } from '../sched/scheduler.ts';
import type { Bindable, View } from '../kernels/kernel.ts';
import { axpy, fill } from '../kernels/elementwise.ts';
import { gvarMoments, gvarPartials, absDiffPartials, partialGroups, sumPartials, type GvarConfig } from '../kernels/gvar.ts';
import type { VarStats } from '../reference/gvar.ts';

export type { VarStats };

export interface MeanComparison {
  /** grad_bias: mean_j |E_j − E'_j| */
  gradBias: number;
  /** ||E − E'||² */
  distSq: number;
  /** ||E||² and ||E'||² */
  normSq: number;
  otherNormSq: number;
}

/** The statistics from the float64 sums [ΣV, ΣV/(S+ε), Σlog-ratio, ΣS] of n draws over D. */
export function statsFromSums(sums: ArrayLike<number>, n: number, D: number): VarStats {
  return { var: sums[0] / (n * D), nvar: sums[1] / D, snr: sums[2] / D, gnorm: sums[3] / (n * D) };
}

type Phase = 'idle' | 'mean' | 'spread';

export class VarianceStats {
  /** E [P]: the loop-1 mean estimate (complete once n mean draws are recorded) */
  readonly E: View;
  /** S [P]: Σ_r g'_j² over loop 2; V [P]: Σ_r (E_j − g'_j)² over loop 2 */
  readonly S: View;
  readonly V: View;
  /** [2 × stride]: rows of gvar_partials at 0, rows of abs_diff_partials at `stride`;
   *  stride = 4·groups rounded up to 64 elements (the storage-offset alignment) */
  private readonly partials: View;
  private readonly stride: number;
  private readonly groups: number;
  private phase: Phase = 'idle';
  private n = 0;
  private meanDraws = 0;
  private spreadDraws = 0;

  constructor(private readonly sched: Scheduler, readonly P: number, private readonly cfg: GvarConfig = {}) {
    if (!Number.isInteger(P) || P <= 0) throw new RangeError(`VarianceStats: P must be a positive integer, got ${P}`);
    this.groups = partialGroups(P, cfg);
    this.stride = Math.ceil((4 * this.groups) / 64) * 64;
    this.E = sched.alloc(P, 'gvar-E');
    this.S = sched.alloc(P, 'gvar-S');
    this.V = sched.alloc(P, 'gvar-V');
    this.partials = sched.alloc(2 * this.stride, 'gvar-partials');
  }

  /** Starts loop 1 with n draws: records E = 0. */
  beginMean(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`VarianceStats.beginMean: n must be a positive integer, got ${n}`);
    this.n = n;
    this.meanDraws = 0;
    this.spreadDraws = 0;
    this.phase = 'mean';
    fill(this.sched, { x: this.E }, { value: 0, n: this.P });
  }

  /** Records E += g / n for one loop-1 draw g [P]. */
  addMeanDraw(g: Bindable): void {
    this.expect('mean', 'addMeanDraw');
    if (this.meanDraws >= this.n) throw new RangeError(`VarianceStats.addMeanDraw: all ${this.n} mean draws were already added`);
    axpy(this.sched, { x: g, y: this.E }, { a: 1 / this.n, n: this.P });
    this.meanDraws++;
  }

  /** Starts loop 2 (after all n mean draws): records S = 0, V = 0. */
  beginSpread(): void {
    this.expect('mean', 'beginSpread');
    if (this.meanDraws !== this.n) throw new RangeError(`VarianceStats.beginSpread: ${this.meanDraws} of ${this.n} mean draws were added`);
    this.phase = 'spread';
    fill(this.sched, { x: this.S }, { value: 0, n: this.P });
    fill(this.sched, { x: this.V }, { value: 0, n: this.P });
  }

  /** Records S += g², V += (E − g)² for one loop-2 draw g [P]. */
  addSpreadDraw(g: Bindable): void {
    this.expect('spread', 'addSpreadDraw');
    if (this.spreadDraws >= this.n) throw new RangeError(`VarianceStats.addSpreadDraw: all ${this.n} spread draws were already added`);
    gvarMoments(this.sched, { g, E: this.E, S: this.S, V: this.V }, { ...this.cfg, P: this.P });
    this.spreadDraws++;
  }

  /** After n spread draws: records the partial sums, reads them back once, finishes the sums
   *  in float64. E stays valid (another estimator's finish may compare against it). */
  async finish(opts: { compareMean?: Bindable } = {}): Promise<VarStats & { compare?: MeanComparison }> {
    this.expect('spread', 'finish');
    if (this.spreadDraws !== this.n) throw new RangeError(`VarianceStats.finish: ${this.spreadDraws} of ${this.n} spread draws were added`);
    const { P, groups, stride, partials } = this;
    const rows = (at: number): View => ({ buffer: partials.buffer, offset: partials.offset + at, length: stride });
    gvarPartials(this.sched, { S: this.S, V: this.V, partials: rows(0) }, { ...this.cfg, P });
    if (opts.compareMean) absDiffPartials(this.sched, { a: this.E, b: opts.compareMean, partials: rows(stride) }, { ...this.cfg, P });
    const host = await this.sched.read(partials);
    this.phase = 'idle';
    const stats: VarStats & { compare?: MeanComparison } = statsFromSums(sumPartials(host, groups, 0), this.n, P);
    if (opts.compareMean) {
      const d = sumPartials(host, groups, stride);
      stats.compare = { gradBias: d[0] / P, distSq: d[1], normSq: d[2], otherNormSq: d[3] };
    }
    return stats;
  }

  /** Returns the buffers to the pool. */
  dispose(): void {
    for (const v of [this.E, this.S, this.V, this.partials]) this.sched.free(v);
  }

  private expect(phase: Phase, what: string): void {
    if (this.phase !== phase) throw new RangeError(`VarianceStats.${what}: called in the '${this.phase}' phase, expects '${phase}'`);
  }
}
