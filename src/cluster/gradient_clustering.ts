// Batch Gradient Clustering of the MLP's per-example weight gradients (SPEC 1.5, 1.6): at
// each snapshot, `iters` rounds of
//   A-pass: over the training set (shuffled, batch B, last batch short), every layer's terms
//           ||g_i − C_k||² summed into dist [B, C], argmin of m_k·dist with m_k = N_k + 1,
//           assignments written into one [batches × Bpad] buffer read back once per pass;
//   split:  at most one empty cluster receives a random half of the worst cluster;
//   U-pass: a new shuffled order; per layer, Σ a_i/stable and Σ δ_i·stable per cluster,
//           divided by N_k on the host into the rank-1 centres c_k, d_k.
// Centres persist across snapshots (warm start); sizes are recomputed each A-pass.
//
// Conv layers (SPEC 1.4, 1.6, 7.6): the A-step terms through convLayerTerms (the exact
// per-example conv gradient, by the contraction the cost formulas pick), the U-step rows as
// the spatial mean of the unfolded patches and the spatial sum of the output gradients.
//
// GPU memory, per layer: Ci [C, din], Co [C, dout] (centres), Si, So (U-pass sums, same
// shapes); per batch size with conv layers, the conv scratch and the U rows [B, widest]. Shared: dist [B, C], counts [C] (the N_k multiplier source), td [C] (per-cluster
// distortion), assignAll [batches × Bpad] u32. Gradients are those of the batch-MEAN loss,
// as in the paper's code (SPEC 7.4), and biases are not clustered (SPEC 7.5).
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { gcAssign, gcCount, gcLayerTerms, gcScatter, gcScratch, type GcScratch } from '../kernels/gc.ts';
import { convLayerTerms, convScratch, freeConvScratch, convUstepRows, type ConvScratch } from '../kernels/conv_stats_layer.ts';
import type { ConvGeometry } from '../kernels/conv_stats.ts';
import type { GradEngine, ConvLayerShape } from '../models/grad_engine.ts';
import type { Dataset } from '../data/dataset.ts';
import { EpochIterator, gather } from '../data/batches.ts';
import { splitSmallest, clusterSizes } from './split.ts';
import { Rng } from '../util/rng.ts';

export interface GcOptions {
  /** number of clusters C */
  clusters: number;
  /** A/U rounds per snapshot (the paper's "GC T", gb_citers) */
  iters: number;
  /** 'fixed': m_k = N_k + 1 with N_k the previous pass's sizes, the paper's rule (the very
   *  first pass has no previous partition and counts as it goes, see aPass); 'running': N_k
   *  counts this pass's assignments so far, as the original code does */
  multiplier: 'fixed' | 'running';
  /** absolute quantisation of distances before the argmin (the code's 1e-7); 0 = off */
  quant: number;
  /** batch size of the A and U passes */
  batch: number;
  seed: number;
  /** rescales a down and δ up while summing (cancels; float32 range), the code's 100 */
  stable?: number;
  /** the training loss's label smoothing (SPEC 5.5): gradients of the same loss */
  labelSmoothing?: number;
}

/** What continues clustering exactly after a restart: the Rng, the previous sizes, and the
 *  centres (warm start), per clustered layer. */
export interface GcState { rng: number[]; sizes: Float32Array | null; centres: Array<{ Ci: Float32Array; Co: Float32Array }> }

export interface GcSnapshotResult {
  /** cluster of every training example */
  assign: Uint32Array;
  sizes: Uint32Array;
  /** total (multiplied, quantised) distortion of the last A-pass */
  totalDist: number;
  /** splits performed during this snapshot */
  splits: number;
}

const pad64 = (n: number) => Math.ceil(n / 64) * 64;

export class GradientClustering {
  private readonly layers: Array<{ din: number; dout: number; conv?: ConvLayerShape; Ci: View; Co: View; Si: View; So: View }>;
  private readonly convScratches = new Map<number, { s: ConvScratch; Ais: View; Gos: View }>();
  private readonly counts: View;
  private readonly td: View;
  private readonly dist: View;
  private readonly batchAssign: View;
  private readonly scratch = new Map<number, GcScratch>();
  private rng: Rng;
  /** sizes of the previous partition, null before the first A-pass */
  private sizes: Float32Array | null = null;
  private assignAll: View | null = null;

  constructor(private readonly sched: Scheduler, private readonly grad: GradEngine, private readonly ds: Dataset, readonly opts: GcOptions) {
    const C = opts.clusters;
    this.rng = new Rng(opts.seed);
    // Centres start positive and tiny, U(0,1)/(din+dout) (SPEC 1.5, 7.21).
    this.layers = grad.clustered.map((L) => {
      const init = (rows: number, cols: number) => {
        const v = sched.alloc(rows * cols, 'gc.centre');
        const h = new Float32Array(rows * cols);
        for (let i = 0; i < h.length; i++) h[i] = this.rng.uniform() / (L.din + L.dout);
        sched.upload(v, h);
        return v;
      };
      return { din: L.din, dout: L.dout, conv: L.conv, Ci: init(C, L.din), Co: init(C, L.dout), Si: sched.alloc(C * L.din, 'gc.Si'), So: sched.alloc(C * L.dout, 'gc.So') };
    });
    this.counts = sched.alloc(C, 'gc.counts');
    this.td = sched.alloc(C, 'gc.td');
    this.dist = sched.alloc(opts.batch * C, 'gc.dist');
    this.batchAssign = sched.alloc(opts.batch, 'gc.assign');
  }

  private scratchFor(B: number): GcScratch {
    let s = this.scratch.get(B);
    if (!s) this.scratch.set(B, (s = gcScratch(this.sched, B, this.opts.clusters)));
    return s;
  }

  private geometry(conv: ConvLayerShape, B: number): ConvGeometry {
    return { B, ...conv };
  }

  /** Conv scratch and U-step row buffers for batch size B (made once, kept). */
  private convFor(B: number): { s: ConvScratch; Ais: View; Gos: View } {
    let c = this.convScratches.get(B);
    if (!c) {
      const convs = this.layers.filter((L) => L.conv);
      c = {
        s: convScratch(this.sched, convs.map((L) => this.geometry(L.conv!, B)), this.opts.clusters),
        Ais: this.sched.alloc(B * Math.max(...convs.map((L) => L.din)), 'gc.Ais'),
        Gos: this.sched.alloc(B * Math.max(...convs.map((L) => L.dout)), 'gc.Gos'),
      };
      this.convScratches.set(B, c);
    }
    return c;
  }

  /** Runs `iters` A/U rounds and returns the final partition. BatchNorm models run the
   *  passes in eval mode (running statistics, SPEC 7.13) and go back to train mode after. */
  async snapshot(): Promise<GcSnapshotResult> {
    this.grad.setMode?.('eval');
    try {
      return await this.rounds();
    } finally {
      this.grad.setMode?.('train');
    }
  }

  private async rounds(): Promise<GcSnapshotResult> {
    let last = null as GcSnapshotResult | null;
    let splits = 0;
    for (let it = 0; it < this.opts.iters; it++) {
      const a = await this.aPass();
      const split = splitSmallest(a.assign, this.opts.clusters, a.perCluster, this.rng, 1);
      await this.uPass(a.assign);
      const sizes = clusterSizes(a.assign, this.opts.clusters);
      this.sizes = Float32Array.from(sizes);
      if (split) splits++;
      last = { assign: a.assign, sizes, totalDist: a.perCluster.reduce((s, v) => s + v, 0), splits };
    }
    if (!last) throw new RangeError('GradientClustering: iters must be ≥ 1');
    return last;
  }

  private passOrder(): EpochIterator {
    return new EpochIterator(this.ds, { batchSize: this.opts.batch, seed: this.rng.int(2 ** 31) });
  }

  private async aPass(): Promise<{ assign: Uint32Array; perCluster: Float64Array }> {
    const { batch: Bmax, clusters: C, quant } = this.opts;
    const order = this.passOrder();
    const nb = order.batchesPerEpoch;
    const Bpad = pad64(Bmax);
    this.assignAll ??= this.sched.alloc(nb * Bpad, 'gc.assignAll');
    // Cold start: from near-zero centres every distance is about ||g_i||², so equal fixed
    // multipliers would send nearly everything to one cluster (measured on MNIST: GC 2–3.5×
    // SG-B's variance after the first snapshot). Without a previous partition there are no
    // sizes to hold fixed, so the first pass counts as it goes, which spreads the points.
    const running = this.opts.multiplier === 'running' || this.sizes === null;
    this.sched.upload(this.counts, running ? new Float32Array(C) : this.sizes!);
    this.sched.upload(this.td, new Float32Array(C));
    const batches: Uint32Array[] = [];
    for (let b = 0; b < nb; b++) {
      const batch = order.next();
      const B = batch.size;
      this.grad.compute(batch.x, batch.y, { paramGrads: false, labelSmoothing: this.opts.labelSmoothing ?? 0 });
      const dist = { ...this.dist, length: B * C };
      this.layers.forEach((L, l) => {
        const { A, G } = this.grad.layerFactors(B, l);
        const beta = l === 0 ? 0 : 1;
        if (L.conv) convLayerTerms(this.sched, { x: A, dy: G, Ci: L.Ci, Co: L.Co, dist, scratch: this.convFor(B).s }, this.geometry(L.conv, B), C, beta);
        else gcLayerTerms(this.sched, { A, G, Ci: L.Ci, Co: L.Co, dist, scratch: this.scratchFor(B) }, { B, din: L.din, dout: L.dout, C, beta });
      });
      const assign: View = { buffer: this.assignAll.buffer, offset: b * Bpad, length: B };
      const best = { ...this.scratchFor(B).aa }; // free after the layer terms: [B] floats
      gcAssign(this.sched, { dist, counts: this.counts, assign, best }, { B, C, quant });
      if (running) gcCount(this.sched, { assign, counts: this.counts }, { B, C, beta: 1 });
      gcScatter(this.sched, { assign, X: best, S: this.td }, { B, C, D: 1, beta: 1 });
      this.sched.submit();
      batches.push(batch.indices);
    }
    const all = await this.sched.readU32(this.assignAll);
    const assign = new Uint32Array(this.ds.n);
    batches.forEach((idx, b) => idx.forEach((i, j) => (assign[i] = all[b * Bpad + j])));
    const perCluster = Float64Array.from(await this.sched.read(this.td));
    return { assign, perCluster };
  }

  private async uPass(assign: Uint32Array): Promise<void> {
    const { clusters: C, stable = 100 } = this.opts;
    const order = this.passOrder();
    for (let b = 0; b < order.batchesPerEpoch; b++) {
      const batch = order.next();
      const B = batch.size;
      this.grad.compute(batch.x, batch.y, { paramGrads: false, labelSmoothing: this.opts.labelSmoothing ?? 0 });
      const ba = { ...this.batchAssign, length: B };
      this.sched.upload(ba, Uint32Array.from(batch.indices, (i) => assign[i]));
      this.layers.forEach((L, l) => {
        const { A, G } = this.grad.layerFactors(B, l);
        const beta = b === 0 ? 0 : 1;
        if (L.conv) {
          // Rows already carry 1/stable and stable (SPEC 7.6: mean of patches, sum of δ).
          const c = this.convFor(B);
          const Ais = { ...c.Ais, length: B * L.din }, Gos = { ...c.Gos, length: B * L.dout };
          convUstepRows(this.sched, { x: A, dy: G, Ais, Gos }, this.geometry(L.conv, B), { stable });
          gcScatter(this.sched, { assign: ba, X: Ais, S: L.Si }, { B, C, D: L.din, beta, scale: 1 });
          gcScatter(this.sched, { assign: ba, X: Gos, S: L.So }, { B, C, D: L.dout, beta, scale: 1 });
        } else {
          gcScatter(this.sched, { assign: ba, X: A, S: L.Si }, { B, C, D: L.din, beta, scale: 1 / stable });
          gcScatter(this.sched, { assign: ba, X: G, S: L.So }, { B, C, D: L.dout, beta, scale: stable });
        }
      });
      this.sched.submit();
    }
    // Centres = sums / N_k (N_k ≥ 1 to leave an empty cluster's centre at zero).
    const sizes = clusterSizes(assign, C);
    for (const L of this.layers) {
      for (const [sum, centre, D] of [[L.Si, L.Ci, L.din], [L.So, L.Co, L.dout]] as const) {
        const h = await this.sched.read(sum);
        for (let k = 0; k < C; k++) {
          const inv = 1 / Math.max(sizes[k], 1);
          for (let j = 0; j < D; j++) h[k * D + j] *= inv;
        }
        this.sched.upload(centre, h);
      }
    }
  }

  async state(): Promise<GcState> {
    const centres = [];
    for (const L of this.layers) centres.push({ Ci: await this.sched.read(L.Ci), Co: await this.sched.read(L.Co) });
    return { rng: this.rng.state(), sizes: this.sizes, centres };
  }

  restore(s: GcState): void {
    if (s.centres.length !== this.layers.length) throw new RangeError(`GradientClustering.restore: ${s.centres.length} layers saved, the model clusters ${this.layers.length}`);
    this.rng = Rng.fromState(s.rng);
    this.sizes = s.sizes;
    this.layers.forEach((L, l) => {
      this.sched.upload(L.Ci, s.centres[l].Ci);
      this.sched.upload(L.Co, s.centres[l].Co);
    });
  }

  destroy(): void {
    for (const L of this.layers) for (const v of [L.Ci, L.Co, L.Si, L.So]) this.sched.free(v);
    for (const v of [this.counts, this.td, this.dist, this.batchAssign]) this.sched.free(v);
    if (this.assignAll) this.sched.free(this.assignAll);
    for (const s of this.scratch.values()) this.sched.free(s.all);
    for (const c of this.convScratches.values()) {
      freeConvScratch(this.sched, c.s);
      this.sched.free(c.Ais);
      this.sched.free(c.Gos);
    }
  }
}
