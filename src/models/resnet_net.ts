// A ResNet on the GPU: parameters, gradients and SGD momenta in three flat buffers of one
// ParamLayout (PyTorch names), the BN running statistics in a fourth (runningLayout: one
// [2, C] slot per BN layer), and per-batch-size workspaces. forward/backward only record
// passes (resnet_graph.ts); nothing here waits.
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { badInput } from '../gpu/errors.ts';
import { adapterKind } from '../kernels/matmul.ts';
import { conv2dWeightPartialLength, conv2dWeightSplits } from '../kernels/conv2d.ts';
import type { ParamLayout } from './param_layout.ts';
import type { ParamBuffers, ClusteredLayer } from './grad_engine.ts';
import { resnetArch, resnetLayout, runningLayout, initRunning, convGeometry, type ResNetArch, type ResNetConfig } from './resnet_layout.ts';
import { initResNetParams } from './resnet.ts';
import { ResNetWorkspace } from './resnet_workspace.ts';
import { recordForward, recordBackward, type BnMode, type GraphCtx } from './resnet_graph.ts';
import type { Rng } from '../util/rng.ts';

export class ResNet implements ParamBuffers {
  readonly arch: ResNetArch;
  readonly layout: ParamLayout;
  /** layout of `running`: `${bn}.running` = [2, C] (running_mean; running_var) */
  readonly runLayout: ParamLayout;
  readonly params: View;
  readonly grads: View;
  readonly momenta: View;
  readonly running: View;
  /** BN mode of the next recorded forward (and of its backward) */
  mode: BnMode = 'train';
  /** every conv in module order, then the head (SPEC 7.5: BN and biases are not clustered) */
  readonly clustered: readonly ClusteredLayer[];
  private readonly workspaces = new Map<number, ResNetWorkspace>();

  constructor(private readonly sched: Scheduler, readonly cfg: ResNetConfig) {
    this.arch = resnetArch(cfg);
    this.layout = resnetLayout(this.arch);
    this.runLayout = runningLayout(this.arch);
    this.params = sched.alloc(this.layout.total, 'resnet.params');
    this.grads = sched.alloc(this.layout.total, 'resnet.grads');
    this.momenta = sched.alloc(this.layout.total, 'resnet.momenta');
    this.running = sched.alloc(this.runLayout.total, 'resnet.running');
    sched.upload(this.running, initRunning(this.arch));
    this.clustered = [
      ...this.arch.convs.map((c) => ({
        name: c.name, din: c.Cin * c.k * c.k, dout: c.Cout,
        conv: { Cin: c.Cin, H: c.H, W: c.W, Cout: c.Cout, kh: c.k, kw: c.k, stride: c.stride, pad: c.pad },
      })),
      { name: this.arch.head.name, din: this.arch.head.din, dout: this.arch.head.dout },
    ];
  }

  /** floats per input example: C·H·W */
  get inputSize(): number {
    const { C, H, W } = this.cfg.input;
    return C * H * W;
  }

  /** Uploads PyTorch's initialisation (initResNetParams) and fresh running statistics. */
  init(rng: Rng): void {
    this.sched.upload(this.params, initResNetParams(this.arch, rng));
    this.sched.upload(this.running, initRunning(this.arch));
  }

  /** Activation memory for batch size B, made once and kept (tensors on first use). */
  workspace(B: number): ResNetWorkspace {
    if (!Number.isInteger(B) || B <= 0) badInput('resnet', `batch size must be a positive integer, got ${B}`);
    let ws = this.workspaces.get(B);
    if (!ws) {
      const kind = adapterKind(this.sched.gpu);
      const partial = Math.max(0, ...this.arch.convs.map((c) => {
        const g = convGeometry(c, B);
        return conv2dWeightPartialLength(g, conv2dWeightSplits(g, kind));
      }));
      const bnC = Math.max(1, ...this.arch.bns.map((b) => b.C));
      ws = new ResNetWorkspace(this.sched, B, { 'conv.partial': partial, 'bn.dgamma': bnC, 'bn.dbeta': bnC });
      this.workspaces.set(B, ws);
    }
    return ws;
  }

  private ctx(ws: ResNetWorkspace): GraphCtx {
    const { layout, params, grads, running, runLayout } = this;
    return {
      sched: this.sched, arch: this.arch, ws,
      param: (name) => layout.view(params.buffer, name),
      grad: (name) => layout.view(grads.buffer, name),
      running: (bn) => runLayout.view(running.buffer, `${bn}.running`),
    };
  }

  /** Records the forward of x [B, C, H, W] with BN in this.mode (train: batch statistics,
   *  running statistics updated; eval: running statistics). Returns the logits view [B, K]. */
  forward(x: View, B: number): View {
    const ws = this.workspace(B);
    ws.mode = this.mode;
    ws.convIn.clear();
    return recordForward(this.ctx(ws), x);
  }

  /** Records the backward of the last forward at B, with dlogits(B) already written. Writes
   *  every parameter's gradient into grads unless paramGrads is false (grads untouched; the
   *  layer output gradients are formed either way). */
  backward(B: number, paramGrads = true): void {
    const ws = this.workspace(B);
    if (ws.convIn.size === 0) badInput('resnet', `backward at batch size ${B} before any forward at that size`);
    recordBackward(this.ctx(ws), paramGrads);
  }

  /** [B, K]: where the loss kernel writes its gradient for batch B. */
  dlogits(B: number): View {
    return this.workspace(B).get(`${this.arch.head.name}.dlogits`, B * this.arch.head.dout);
  }

  /** Clustered layer l's input (A) and output gradient (G) after the last forward + backward
   *  at B: NCHW tensors for convs, [B, din] and [B, dout] rows for the head. */
  factors(B: number, l: number): { A: View; G: View } {
    const L = this.clustered[l];
    if (!L) badInput('resnet', `no clustered layer ${l} (have ${this.clustered.length})`);
    const ws = this.workspace(B);
    if (!L.conv) return { A: ws.get(`${L.name}.in`, B * L.din), G: this.dlogits(B) };
    const A = ws.convIn.get(L.name), G = ws.dz.get(L.name);
    if (!A || !G) badInput('resnet', `layer '${L.name}' has no factors at batch size ${B}: run a forward and backward first`);
    return { A, G };
  }

  destroy(): void {
    for (const v of [this.params, this.grads, this.momenta, this.running]) this.sched.free(v);
    for (const ws of this.workspaces.values()) ws.destroy();
    this.workspaces.clear();
  }
}
