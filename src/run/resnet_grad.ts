// The gradient of a (weighted) mean cross-entropy of a ResNet on one batch, the ResNets'
// GradEngine (the counterpart of MlpGrad): upload x, y (and weights), forward, fused softmax +
// cross-entropy, backward, then submit. BN runs in the engine's mode: 'train' (batch
// statistics, running statistics updated by every forward, as PyTorch does during training
// and variance estimation) or 'eval' (running statistics; GC passes, SPEC 7.13).
//
// Each call submits: the next call's upload must not overtake this call's passes.
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { badInput } from '../gpu/errors.ts';
import { ResNet } from '../models/resnet_net.ts';
import { allocBatchIo, computeBatch, recordLoss } from './engine_io.ts';
import type { TrainableEngine, GradOptions, ClusteredLayer, BatchIo, EngineState } from '../models/grad_engine.ts';
import type { BnMode } from '../models/resnet_graph.ts';
import { resnetConfig } from '../models/resnet.ts';
import type { Rng } from '../util/rng.ts';

/** Activation floats evaluate() may spend per batch (the forward's tensors only). */
const EVAL_BUDGET_FLOATS = 32 * 1024 * 1024;

export class ResNetGrad implements TrainableEngine {
  private readonly io = new Map<number, BatchIo>();

  /** ownsModel: destroy() frees the model too (engines made by sibling()). */
  constructor(private readonly sched: Scheduler, readonly model: ResNet, private readonly ownsModel = false) {}

  get classes(): number {
    return this.model.cfg.classes;
  }
  get inputSize(): number {
    return this.model.inputSize;
  }
  get clustered(): readonly ClusteredLayer[] {
    return this.model.clustered;
  }
  get mode(): BnMode {
    return this.model.mode;
  }

  /** The largest evaluation batch whose forward tensors fit EVAL_BUDGET_FLOATS, a multiple of
   *  64 (at least 64). */
  get evalBatch(): number {
    const a = this.model.arch;
    let perExample = 0;
    for (const c of a.convs) perExample += c.Cout * c.Ho * c.Wo;
    for (const b of a.bns) perExample += b.C * b.H * b.W;
    for (const k of a.blocks) perExample += 2 * k.conv2.Cout * k.conv2.Ho * k.conv2.Wo; // shortcut, out
    return Math.max(64, Math.floor(EVAL_BUDGET_FLOATS / perExample / 64) * 64);
  }

  /** 'train': BN normalises with batch statistics and updates the running ones; 'eval': BN
   *  uses the running statistics. Applies to every later forward (compute, forward). */
  setMode(mode: BnMode): void {
    if (mode !== 'train' && mode !== 'eval') badInput('ResNetGrad.setMode', `mode must be 'train' or 'eval', got ${mode}`);
    this.model.mode = mode;
  }

  /** Records the forward of x [B, C, H, W] in the current mode (PyTorch's model(x)); returns
   *  the logits view [B, K]. Evaluation wants setMode('eval') first, else BN normalises with
   *  the evaluation batch's statistics and updates the running ones. */
  forward(x: View, B: number): View {
    return this.model.forward(x, B);
  }
  dlogits(B: number): View {
    return this.model.dlogits(B);
  }

  /** A new engine of the same architecture and mode with its own parameters, gradients,
   *  momenta and running statistics (fresh: mean 0, var 1); parameters start at zero. */
  sibling(): ResNetGrad {
    const m = new ResNet(this.sched, this.model.cfg);
    m.mode = this.model.mode;
    return new ResNetGrad(this.sched, m, true);
  }

  buffers(B: number): BatchIo {
    let b = this.io.get(B);
    if (!b) {
      b = allocBatchIo(this.sched, B, this.inputSize);
      this.io.set(B, b);
    }
    return b;
  }

  /** Records forward + loss + backward of (x [B, C, H, W], y [B]) into model.grads, and
   *  submits. After it the workspace for B holds every clustered layer's factors. */
  compute(x: Float32Array, y: Uint32Array, o: GradOptions = {}): BatchIo {
    return computeBatch(this.sched, this, x, y, o, 'ResNetGrad.compute');
  }

  /** compute() on inputs already in buffers(B): records, does not upload or submit. */
  recordFromUploaded(B: number, o: GradOptions = {}): void {
    const io = this.buffers(B);
    const logits = this.model.forward(io.x, B);
    recordLoss(this.sched, io, logits, this.model.dlogits(B), B, this.classes, o);
    this.model.backward(B, o.paramGrads ?? true);
  }

  /** Clustered layer l's input (A) and output gradient (G) of the last compute at B. The first
   *  conv's A is buffers(B).x. */
  layerFactors(B: number, l: number): { A: View; G: View } {
    return this.model.factors(B, l);
  }

  /** The BN running statistics (all of the model's state beyond parameters and momenta), so a
   *  resumed run normalises evaluation and GC passes exactly as the uninterrupted one. */
  async saveState(): Promise<EngineState> {
    return { meta: null, tensors: { 'bn.running': await this.sched.read(this.model.running) } };
  }

  loadState(s: EngineState): void {
    const r = s.tensors['bn.running'];
    const n = this.model.runLayout.total;
    if (!r || r.length !== n) badInput('ResNetGrad.loadState', `'bn.running' must hold ${n} floats, got ${r ? r.length : 'none'}`);
    this.sched.upload(this.model.running, r);
  }

  destroy(): void {
    for (const b of this.io.values()) for (const v of Object.values(b)) this.sched.free(v);
    this.io.clear();
    if (this.ownsModel) this.model.destroy();
  }
}

/** A ResNet engine for a run: `arch` one of resnet8 / resnet32 / resnet18 at the data's input
 *  shape and classes, PyTorch's init drawn from rng, BN in train mode. */
export function createResNetEngine(
  sched: Scheduler, arch: string, input: { channels: number; height: number; width: number; classes: number }, rng: Rng,
): { engine: ResNetGrad; describe: string } {
  const cfg = resnetConfig(arch, { C: input.channels, H: input.height, W: input.width, classes: input.classes });
  const model = new ResNet(sched, cfg);
  model.init(rng);
  const { C, H, W } = cfg.input;
  const describe = `${arch} (${cfg.bn ? "BN" : "no BN"}, input ${C}×${H}×${W}, ${cfg.classes} classes)`;
  return { engine: new ResNetGrad(sched, model, true), describe };
}
