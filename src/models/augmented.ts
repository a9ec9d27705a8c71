// A TrainableEngine that augments every gradient's inputs on the GPU (SPEC 3.2: RandomCrop
// with 4-pixel padding, then RandomHorizontalFlip): the batch is uploaded into a raw buffer,
// the augment kernel writes the inner engine's input buffer, and the inner engine records
// the rest. Training steps, estimator draws, SVRG's full-gradient pass and the GC passes all
// see fresh random augmentations, as the original's loaders give them (SPEC 7.14, 7.24);
// evaluation (forward alone) sees the clean images.
//
// One augmentation per batch array: SVRG evaluates the same batch at θ and at θ_snap (one
// loader batch in the original), so compute() remembers the offsets it drew for an input
// array (a WeakMap shared by an engine and its siblings) and reuses them when the same
// array comes again.
//
// GPU memory per batch size B: raw [B, inputSize] f32 and offsets [B, 3] u32 (dy, dx, flip).
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { augment, augmentFill, drawAugmentOffsets, AUGMENT_STRIDE } from '../kernels/augment.ts';
import type { TrainableEngine, GradOptions, BatchIo, ClusteredLayer, ParamBuffers, EngineState } from './grad_engine.ts';
import { Rng } from '../util/rng.ts';

export interface AugmentSpec {
  /** input shape [C, H, W] */
  shape: readonly [number, number, number];
  /** zero-padding width of the crop (4 in the paper) */
  pad: number;
  /** a padded pixel's value per channel: the normalised raw 0 (Dataset.padValue) */
  padValue: readonly number[];
}

interface Shared { rng: Rng; memo: WeakMap<Float32Array, Uint32Array> }

export class AugmentedEngine<E extends TrainableEngine = TrainableEngine> implements TrainableEngine {
  private readonly raw = new Map<number, { x: View; offsets: View }>();
  private readonly fill: View;
  private pending: Uint32Array | null = null;

  constructor(private readonly sched: Scheduler, readonly inner: E, private readonly spec: AugmentSpec, rng: Rng, private readonly shared: Shared = { rng, memo: new WeakMap() }) {
    const [C, H, W] = spec.shape;
    if (C * H * W !== inner.inputSize) throw new RangeError(`AugmentedEngine: shape ${spec.shape.join('×')} does not match the model's ${inner.inputSize} inputs`);
    this.fill = sched.alloc(C, 'augment.fill');
    sched.upload(this.fill, augmentFill(spec.padValue, C));
  }

  get model(): ParamBuffers { return this.inner.model; }
  get clustered(): readonly ClusteredLayer[] { return this.inner.clustered; }
  get classes(): number { return this.inner.classes; }
  get inputSize(): number { return this.inner.inputSize; }
  get evalBatch(): number | undefined { return this.inner.evalBatch; }

  private rawFor(B: number): { x: View; offsets: View } {
    let r = this.raw.get(B);
    if (!r) this.raw.set(B, (r = { x: this.sched.alloc(B * this.inner.inputSize, 'augment.raw'), offsets: this.sched.alloc(B * AUGMENT_STRIDE, 'augment.offsets') }));
    return r;
  }

  /** The inner engine's buffers, except x: the raw (un-augmented) input buffer. */
  buffers(B: number): BatchIo {
    return { ...this.inner.buffers(B), x: this.rawFor(B).x };
  }

  recordFromUploaded(B: number, o?: GradOptions): void {
    const r = this.rawFor(B);
    const offsets = this.pending ?? drawAugmentOffsets(this.shared.rng, B, this.spec.pad);
    this.pending = null;
    this.sched.upload(r.offsets, offsets);
    const [C, H, W] = this.spec.shape;
    augment(this.sched, { x: r.x, offsets: r.offsets, fill: this.fill, out: this.inner.buffers(B).x }, { B, C, H, W, pad: this.spec.pad });
    this.inner.recordFromUploaded(B, o);
  }

  compute(x: Float32Array, y: Uint32Array, o: GradOptions = {}): void {
    const B = y.length;
    const io = this.buffers(B);
    this.sched.upload(io.x, x);
    this.sched.upload(io.y, y);
    if (o.weights) this.sched.upload(io.w, o.weights);
    let offsets = this.shared.memo.get(x);
    if (!offsets) this.shared.memo.set(x, (offsets = drawAugmentOffsets(this.shared.rng, B, this.spec.pad)));
    this.pending = offsets;
    this.recordFromUploaded(B, o);
    this.sched.submit();
  }

  forward(x: View, B: number): View { return this.inner.forward(x, B); }
  dlogits(B: number): View { return this.inner.dlogits(B); }
  layerFactors(B: number, l: number): { A: View; G: View } { return this.inner.layerFactors(B, l); }
  setMode(mode: 'train' | 'eval'): void { this.inner.setMode?.(mode); }

  /** The shared Rng (the memo only pairs SVRG's two gradients of one draw: it never spans a
   *  checkpoint) and the inner engine's state. */
  async saveState(): Promise<EngineState> {
    const inner = (await this.inner.saveState?.()) ?? { meta: null, tensors: {} };
    return { meta: { augmentRng: this.shared.rng.state(), inner: inner.meta }, tensors: inner.tensors };
  }

  loadState(s: EngineState): void {
    const meta = s.meta as { augmentRng: number[]; inner: unknown };
    this.shared.rng = Rng.fromState(meta.augmentRng);
    this.inner.loadState?.({ meta: meta.inner, tensors: s.tensors });
  }

  sibling(): AugmentedEngine {
    return new AugmentedEngine(this.sched, this.inner.sibling(), this.spec, this.shared.rng, this.shared);
  }

  destroy(): void {
    for (const r of this.raw.values()) {
      this.sched.free(r.x);
      this.sched.free(r.offsets);
    }
    this.sched.free(this.fill);
    this.inner.destroy();
  }
}
