// Batch Gradient Clustering (SPEC 1.5, 1.6) of every student of an RfBank at once: at each
// snapshot, s_e at θ for every training entry (rf_coef), then `iters` rounds of
//   A-pass  one rf_gc_assign job per student over its own shuffled order (batch B, the last
//           one short), running N_k multiplier (the code's rule, our default everywhere);
//   split   on the host, per student: at most one empty cluster takes a random half of the
//           cluster with the largest distortion (src/cluster/split.ts);
//   U-pass  a new shuffled order per student fixes each example's batch size (1/B_i scales δ),
//           then its items sorted by cluster go to one rf_gc_update job (centres recomputed).
// Centres persist across snapshots (warm start) and start at U(0, 1)/(H + 2) (SPEC 7.21).
// Each student's Rng (orders, splits, centre init) is seeded from its key, not its index.
import type { View } from '../kernels/kernel.ts';
import { rfGcAssign, rfGcUpdate, rfCentresSize } from '../kernels/rf_gc.ts';
import { gcAssignPlan, gcUpdatePlan } from '../models/rf_plans.ts';
import type { RfBank } from '../models/random_features.ts';
import { splitSmallest, clusterSizes } from './split.ts';
import { streamSeed } from '../data/rf.ts';
import { Rng } from '../util/rng.ts';

export interface RfGcOptions {
  clusters: number;
  /** A/U rounds per snapshot (gb_citers) */
  iters: number;
  /** pass batch (the training batch B) */
  batch: number;
  /** absolute quantisation of the A-step values (the code's 1e-7); 0 = off */
  quant: number;
}

export interface RfGcResult {
  /** cluster of each of the student's N training examples */
  assign: Uint32Array;
  sizes: Uint32Array;
  /** total (multiplied) distortion of the last A-pass */
  totalDist: number;
  splits: number;
}

export class RfGradientClustering {
  private readonly centres: View;
  private readonly assign: View;
  private readonly gcout: View;
  private readonly rngs: Rng[];

  /** trueH: the students' real feature count (Hp − trueH padded columns stay 0). */
  constructor(private readonly bank: RfBank, keys: readonly string[], readonly opts: RfGcOptions, trueH: number) {
    const { M, H } = bank;
    const C = opts.clusters;
    this.rngs = keys.map((k) => new Rng(streamSeed(k, 'gc')));
    const init = new Float32Array(rfCentresSize(M, C, H));
    this.rngs.forEach((rng, m) => {
      for (let k = 0; k < C; k++) for (let h = 0; h < trueH; h++) init[(m * C + k) * H + h] = rng.uniform() / (trueH + 2);
      for (let k = 0; k < C; k++) for (let q = 0; q < 2; q++) init[M * C * H + (m * C + k) * 4 + q] = rng.uniform() / (trueH + 2);
    });
    this.centres = bank.sched.alloc(init.length, 'rf.centres');
    bank.sched.upload(this.centres, init);
    this.assign = bank.sched.alloc(bank.E, 'rf.assign');
    this.gcout = bank.sched.alloc(2 * M * C, 'rf.gcout');
  }

  /** Runs `iters` A/U rounds on every student at its current θ; returns each partition. */
  async snapshot(): Promise<RfGcResult[]> {
    const b = this.bank;
    const lists = b.models.map((_, m) => ({ m, entries: b.trainEntries(m) }));
    b.coefs(lists, 'theta');
    const splits = new Array<number>(b.M).fill(0);
    let last: RfGcResult[] = [];
    for (let it = 0; it < this.opts.iters; it++) {
      const a = await this.aPass();
      const parts = a.map((r, m) => {
        if (splitSmallest(r.assign, this.opts.clusters, r.td, this.rngs[m], 1)) splits[m]++;
        return r.assign;
      });
      this.uPass(parts);
      last = a.map((r, m) => ({ assign: parts[m], sizes: clusterSizes(parts[m], this.opts.clusters), totalDist: r.td.reduce((s, v) => s + v, 0), splits: splits[m] }));
    }
    await b.sched.finish();
    return last;
  }

  /** A shuffled order of student m's N examples, from its Rng. */
  private order(m: number): Uint32Array {
    return this.rngs[m].shuffle(Uint32Array.from({ length: this.bank.models[m].N }, (_, i) => i));
  }

  private async aPass(): Promise<Array<{ assign: Uint32Array; td: Float64Array }>> {
    const b = this.bank;
    const C = this.opts.clusters;
    const jobs = b.models.map((md, m) => ({ m, entries: Uint32Array.from(this.order(m), (i) => md.trainStart + i) }));
    const { plan, J } = gcAssignPlan(jobs, b.M, b.E);
    const p = b.upload('gc-assign-plan', plan);
    rfGcAssign(b.sched, { ...b.tables, plan: p, coefs: b.coef, centres: this.centres, assign: this.assign, gcout: this.gcout },
      { ...b.shape, J, B: this.opts.batch, C, quant: this.opts.quant });
    const all = await b.sched.readU32(this.assign);
    const out = await b.sched.read(this.gcout);
    return b.models.map((md, m) => ({
      assign: all.slice(md.trainStart, md.trainStart + md.N),
      td: Float64Array.from(out.subarray(m * C, (m + 1) * C)),
    }));
  }

  private uPass(parts: Uint32Array[]): void {
    const b = this.bank;
    const { clusters: C, batch: B } = this.opts;
    const jobs = parts.map((assign, m) => {
      const order = this.order(m);
      const N = order.length;
      const last = N % B === 0 ? B : N % B; // the short last batch of the pass (drop_last=False)
      const scaleAt = (pos: number) => 1 / (pos >= N - last ? last : B);
      const items = Array.from(order, (i, pos) => ({ i, k: assign[i], s: scaleAt(pos) })).sort((x, y) => x.k - y.k || x.i - y.i);
      const t0 = b.models[m].trainStart;
      return {
        m, entries: items.map((x) => t0 + x.i), clusters: items.map((x) => x.k), scales: items.map((x) => x.s),
        sizes: Float32Array.from(clusterSizes(assign, C)),
      };
    });
    const { plan, aux, J } = gcUpdatePlan(jobs, b.M, C, b.E);
    const p = b.upload('gc-update-plan', plan);
    const x = b.upload('gc-update-aux', aux);
    rfGcUpdate(b.sched, { ...b.tables, plan: p, coefs: b.coef, aux: x, centres: this.centres }, { ...b.shape, J, C });
    b.sched.submit();
  }

  destroy(): void {
    for (const v of [this.centres, this.assign, this.gcout]) this.bank.sched.free(v);
  }
}
