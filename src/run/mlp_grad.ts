// The gradient of a (weighted) mean cross-entropy of the MLP on one batch, recorded on the
// scheduler into model.grads: upload x, y (and weights), forward, fused softmax +
// cross-entropy, backward, then submit. Training, every estimator draw and every
// statistics pass go through this one function, so they share buffers and pipelines.
//
// Each call submits: the next call's upload must not overtake this call's passes (uploads
// land on the queue immediately, passes only when submitted).
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { Mlp } from '../models/mlp.ts';
import { allocBatchIo, computeBatch, recordLoss } from './engine_io.ts';
import type { TrainableEngine, GradOptions, ClusteredLayer, BatchIo } from '../models/grad_engine.ts';

export type { BatchIo } from '../models/grad_engine.ts';

export type { GradOptions } from '../models/grad_engine.ts';

export class MlpGrad implements TrainableEngine {
  private readonly io = new Map<number, BatchIo>();

  /** ownsModel: destroy() frees the model too (engines made by sibling()). */
  constructor(private readonly sched: Scheduler, readonly model: Mlp, private readonly ownsModel = false) {}

  get classes(): number {
    return this.model.cfg.classes;
  }
  get inputSize(): number {
    return this.model.cfg.inputDim;
  }
  forward(x: View, B: number): View {
    return this.model.forward(x, B);
  }
  dlogits(B: number): View {
    return this.model.dlogits(B);
  }

  /** Every Linear layer's weight is clustered (SPEC 7.5: biases are not). */
  get clustered(): readonly ClusteredLayer[] {
    return this.model.layers;
  }

  sibling(): MlpGrad {
    return new MlpGrad(this.sched, new Mlp(this.sched, this.model.cfg), true);
  }

  buffers(B: number): BatchIo {
    let b = this.io.get(B);
    if (!b) {
      b = allocBatchIo(this.sched, B, this.model.cfg.inputDim);
      this.io.set(B, b);
    }
    return b;
  }

  /** Records forward + loss + backward for (x [B, inputDim], y [B]) into model.grads, and
   *  submits. After it, the model's workspace for B holds every layer's input and output
   *  gradient (what per-example statistics and clustering read). */
  compute(x: Float32Array, y: Uint32Array, o: GradOptions = {}): BatchIo {
    return computeBatch(this.sched, this, x, y, o, 'MlpGrad.compute');
  }

  /** The same as compute() on inputs already in buffers(B) (no upload, no submit). */
  recordFromUploaded(B: number, o: GradOptions = {}): void {
    const io = this.buffers(B);
    const logits = this.model.forward(io.x, B);
    recordLoss(this.sched, io, logits, this.model.dlogits(B), B, this.model.cfg.classes, o);
    this.model.backward(io.x, B, o.paramGrads ?? true);
  }

  /** Layer l's input rows (x for l = 0) and output-gradient rows for the last batch of size B. */
  layerFactors(B: number, l: number): { A: View; G: View } {
    const ws = this.model.workspace(B);
    return { A: l === 0 ? this.buffers(B).x : ws.h[l - 1], G: ws.dz[l] };
  }

  destroy(): void {
    for (const b of this.io.values()) for (const v of Object.values(b)) this.sched.free(v);
    this.io.clear();
    if (this.ownsModel) this.model.destroy();
  }
}
