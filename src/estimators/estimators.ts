// The four gradient estimators of the paper (SPEC 2.3), measured along the training
// trajectory of a model (any GradEngine: the MLP, the ResNets). Each draw records one estimate of the mean-loss gradient into a
// flat [P] buffer laid out like the parameters, and each estimator draws its batches from
// its own seeded stream, so measuring never changes the data order of training.
//   SG-B  : mean-loss gradient on a batch of B from its own shuffled epoch order;
//   SG-2B : the same with batch 2B (training still uses B);
//   SVRG  : μ − ∇L_batch(θ_snap) + ∇L_batch(θ) on one B-batch, μ the full gradient at θ_snap;
//   GC    : one example per cluster from the stratified sampler, loss mean(w_i·l_i) with
//           w_i = M·N_k/N (SPEC 2.1), after a Gradient Clustering snapshot.
// GPU memory: the snapshot model (params, grads, momenta unused) and μ, est [P] for SVRG.
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { axpy } from '../kernels/elementwise.ts';
import type { GradEngine } from '../models/grad_engine.ts';
import type { Dataset } from '../data/dataset.ts';
import { EpochIterator, gather } from '../data/batches.ts';
import { StratifiedSampler, type StratifiedSamplerState } from '../cluster/stratified_sampler.ts';
import type { EpochState } from '../data/batches.ts';

/** What continues the estimators exactly after a restart (run checkpoints). */
export interface EstimatorsState {
  streams: { sgB: EpochState; sg2B: EpochState; svrg: EpochState };
  /** SVRG's θ_snap and μ (null before the first snapshot) */
  svrg: { params: Float32Array; mu: Float32Array } | null;
  /** GC's partition and sampler position (null before the first snapshot) */
  gc: { assign: Uint32Array; sampler: StratifiedSamplerState } | null;
}

export const ESTIMATORS = ['SG-B', 'SG-2B', 'SVRG', 'GC'] as const;
export type EstimatorName = (typeof ESTIMATORS)[number];

export class Estimators {
  private sgB: EpochIterator;
  private sg2B: EpochIterator;
  private svrgBatches: EpochIterator;
  private partition: Uint32Array | null = null;
  private readonly snapGrad: GradEngine;
  private readonly mu: View;
  private readonly est: View;
  private sampler: StratifiedSampler | null = null;
  private svrgReady = false;

  private readonly smoothing: { labelSmoothing?: number };

  /** labelSmoothing: the training loss's (SPEC 5.5), so every estimator estimates its gradient. */
  constructor(private readonly sched: Scheduler, private readonly grad: GradEngine, private readonly ds: Dataset, private readonly B: number, seed: number, labelSmoothing = 0) {
    this.smoothing = labelSmoothing ? { labelSmoothing } : {};
    // Independent streams: seeds derived from the run seed, never the training iterator's.
    this.sgB = new EpochIterator(ds, { batchSize: B, seed: seed * 4 + 101 });
    this.sg2B = new EpochIterator(ds, { batchSize: 2 * B, seed: seed * 4 + 102 });
    this.svrgBatches = new EpochIterator(ds, { batchSize: B, seed: seed * 4 + 103 });
    this.snapGrad = grad.sibling();
    this.mu = sched.alloc(grad.model.layout.total, 'svrg.mu');
    this.est = sched.alloc(grad.model.layout.total, 'svrg.est');
  }

  get P(): number {
    return this.grad.model.layout.total;
  }

  /** The training set the estimators draw from. */
  get dataset(): Dataset {
    return this.ds;
  }

  /** The gradient engine at SVRG's snapshot θ_snap, null before the first snapshot (the
   *  exact SVRG variance compares per-example gradients at θ and θ_snap). */
  get svrgSnapshot(): GradEngine | null {
    return this.svrgReady ? this.snapGrad : null;
  }

  /** GC's stratified sampler (its partition clusterOf, M and batch size), null before the
   *  first GC snapshot. */
  get gcSampler(): StratifiedSampler | null {
    return this.sampler;
  }

  /** Which estimators can draw now (SVRG and GC need their first snapshot). */
  ready(name: EstimatorName): boolean {
    return name === 'SVRG' ? this.svrgReady : name === 'GC' ? this.sampler !== null : true;
  }

  /** SVRG snapshot: θ_snap = θ, μ = ∇L over the whole training set at θ_snap. */
  async snapshotSvrg(passBatch: number): Promise<void> {
    this.sched.copy(this.grad.model.params, this.snapGrad.model.params);
    this.sched.upload(this.mu, new Float32Array(this.P));
    for (let start = 0; start < this.ds.n; start += passBatch) {
      const idx = Uint32Array.from({ length: Math.min(passBatch, this.ds.n - start) }, (_, j) => start + j);
      const { x, y } = gather(this.ds, idx);
      // dscale 1 gives the SUM of per-example gradients; add it with weight 1/N.
      this.snapGrad.compute(x, y, { dscale: 1, ...this.smoothing });
      axpy(this.sched, { x: this.snapGrad.model.grads, y: this.mu }, { a: 1 / this.ds.n });
      this.sched.submit();
    }
    await this.sched.finish();
    this.svrgReady = true;
  }

  /** GC snapshot result: the partition the stratified sampler draws from. */
  setPartition(assign: Uint32Array, seed: number): void {
    this.partition = assign;
    this.sampler = new StratifiedSampler(assign, { batchSize: this.B, seed });
  }

  async state(): Promise<EstimatorsState> {
    return {
      streams: { sgB: this.sgB.state(), sg2B: this.sg2B.state(), svrg: this.svrgBatches.state() },
      svrg: this.svrgReady ? { params: await this.sched.read(this.snapGrad.model.params), mu: await this.sched.read(this.mu) } : null,
      gc: this.sampler && this.partition ? { assign: this.partition, sampler: this.sampler.state() } : null,
    };
  }

  restore(s: EstimatorsState): void {
    this.sgB = EpochIterator.restore(this.ds, s.streams.sgB);
    this.sg2B = EpochIterator.restore(this.ds, s.streams.sg2B);
    this.svrgBatches = EpochIterator.restore(this.ds, s.streams.svrg);
    this.svrgReady = s.svrg !== null;
    if (s.svrg) {
      this.sched.upload(this.snapGrad.model.params, s.svrg.params);
      this.sched.upload(this.mu, s.svrg.mu);
    }
    this.partition = s.gc?.assign ?? null;
    this.sampler = s.gc ? StratifiedSampler.restore(s.gc.assign, s.gc.sampler) : null;
  }

  /** Records one draw of `name` and returns the buffer holding it (valid until the next draw). */
  draw(name: EstimatorName): View {
    const m = this.grad.model;
    switch (name) {
      case 'SG-B':
      case 'SG-2B': {
        const b = (name === 'SG-B' ? this.sgB : this.sg2B).next();
        this.grad.compute(b.x, b.y, this.smoothing);
        return m.grads;
      }
      case 'SVRG': {
        if (!this.svrgReady) throw new Error('SVRG drawn before its first snapshot');
        const b = this.svrgBatches.next();
        this.grad.compute(b.x, b.y, this.smoothing);
        this.sched.copy(m.grads, this.est);
        this.snapGrad.compute(b.x, b.y, this.smoothing);
        axpy(this.sched, { x: this.snapGrad.model.grads, y: this.est }, { a: -1 });
        axpy(this.sched, { x: this.mu, y: this.est }, { a: 1 });
        this.sched.submit();
        return this.est;
      }
      case 'GC': {
        if (!this.sampler) throw new Error('GC drawn before its first snapshot');
        const b = this.sampler.next();
        const { x, y } = gather(this.ds, b.indices);
        this.grad.compute(x, y, { weights: Float32Array.from(b.weights), ...this.smoothing });
        return m.grads;
      }
    }
  }

  destroy(): void {
    this.snapGrad.destroy();
    this.sched.free(this.mu);
    this.sched.free(this.est);
  }
}
