// The ResNet forward and backward as recorded passes (no waiting, no readback), block by block
// as src/reference/resnet.ts computes them in float64:
//   stem   conv1 (fused ReLU when there is no BN) → bn1+ReLU (fused) → maxpool (ImageNet)
//   block  conv1 → bn1+ReLU → conv2 → bn2 ; shortcut ; out = relu(· + shortcut)  (add_relu)
//   head   global avg pool → Linear (matmul with bias)
// Backward mirrors it. The gradient reaching a block's output arrives in up to two parts: the
// next block's conv path (dx) and, through an identity shortcut, the next block's pre-ReLU
// gradient (ds); add_relu_backward sums both and applies the ReLU mask in one pass.
//
// Memory: every tensor is its own pooled buffer in the per-batch-size workspace (a dispatch may
// not read and write one buffer), named `${module}.${role}`:
//   `${conv}.out` conv output [B, Cout, Ho, Wo] (ReLU applied when fused)  `${conv}.dz` its
//   output gradient (GC's factor G; BN-free: the next gradient itself, not a copy)
//   `${bn}.y` BN output, `${bn}.saved` [2, C] batch (mean, invstd) of the last train forward
//   `${block}.sc` option-A shortcut, `${block}.out` relu(sum), `${block}.ds` d(sum),
//   `${block}.dh1` d(relu1 output), `${block}.dx` d(block input) from the conv path
//   (+ a non-identity shortcut)
//   `stem.pool` / `stem.pool_idx` max pool output and argmax (u32), `stem.dpool` d(pool input),
//   `stem.dh` d(stem output) when two parts meet there
//   `${head}.in` pooled features [B, din] (the head's factor A), `${head}.logits`,
//   `${head}.dlogits` (the loss kernel writes it; factor G), `${head}.dx` d(pooled),
//   `head.dfeat` d(last block output) [B, C, H, W]
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { adapterKind, matmul } from '../kernels/matmul.ts';
import { conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dWeightSplits, conv2dWeightPartialLength } from '../kernels/conv2d.ts';
import { bnTrainForward, bnEvalForward, bnTrainBackward, bnEvalBackward } from '../kernels/batchnorm.ts';
import { globalAvgPool, globalAvgPoolBackward, maxPool, maxPoolBackward } from '../kernels/pool.ts';
import { addRelu, addReluBackward, shortcutA, shortcutABackward } from '../kernels/resnet_ops.ts';
import { reluBackward, axpy } from '../kernels/elementwise.ts';
import { colsum } from '../kernels/reduce.ts';
import { convGeometry, type BlockSpec, type BnSpec, type ConvSpec, type ResNetArch } from './resnet_layout.ts';
import type { ResNetWorkspace } from './resnet_workspace.ts';

export type BnMode = 'train' | 'eval';

/** What one recording needs: the net, its parameter views, where gradients go. */
export interface GraphCtx {
  readonly sched: Scheduler;
  readonly arch: ResNetArch;
  readonly ws: ResNetWorkspace;
  /** a parameter tensor's view in the params buffer */
  param(name: string): View;
  /** its view in the grads buffer */
  grad(name: string): View;
  /** a BN layer's [2, C] running statistics */
  running(bn: string): View;
}

const n4 = (C: number, H: number, W: number, B: number) => B * C * H * W;

function convF(ctx: GraphCtx, c: ConvSpec, x: View, relu: boolean): View {
  const { ws } = ctx;
  const out = ws.get(`${c.name}.out`, n4(c.Cout, c.Ho, c.Wo, ws.B));
  ws.convIn.set(c.name, x);
  conv2dForward(ctx.sched, { x, w: ctx.param(`${c.name}.weight`), out }, convGeometry(c, ws.B), { relu });
  return out;
}

function bnF(ctx: GraphCtx, b: BnSpec, x: View, relu: boolean): View {
  const { ws, sched } = ctx;
  const y = ws.get(`${b.name}.y`, n4(b.C, b.H, b.W, ws.B));
  const common = { x, gamma: ctx.param(`${b.name}.weight`), beta: ctx.param(`${b.name}.bias`), y, running: ctx.running(b.name) };
  const shape = { B: ws.B, Cch: b.C, H: b.H, W: b.W };
  if (ws.mode === 'train') bnTrainForward(sched, { ...common, saved: ws.get(`${b.name}.saved`, 2 * b.C) }, shape, { relu });
  else bnEvalForward(sched, common, shape, { relu });
  return y;
}

/** conv (+ BN) (+ ReLU): the ReLU is fused into the BN, or into the conv without BN. */
function convBnF(ctx: GraphCtx, c: ConvSpec, b: BnSpec | null, x: View, relu: boolean): View {
  const z = convF(ctx, c, x, relu && !b);
  return b ? bnF(ctx, b, z, relu) : z;
}

function blockF(ctx: GraphCtx, k: BlockSpec, x: View): View {
  const { ws, sched } = ctx;
  const h1 = convBnF(ctx, k.conv1, k.bn1, x, true);
  const b2 = convBnF(ctx, k.conv2, k.bn2, h1, false);
  const s = k.shortcut;
  let sc = x;
  if (s.kind === 'optionA') {
    sc = ws.get(`${k.name}.sc`, n4(k.conv2.Cout, k.conv2.Ho, k.conv2.Wo, ws.B));
    shortcutA(sched, { x, y: sc }, { B: ws.B, Cin: k.conv1.Cin, H: k.conv1.H, W: k.conv1.W, pad: s.pad });
  } else if (s.kind === 'conv') sc = convBnF(ctx, s.conv, s.bn, x, false);
  const out = ws.get(`${k.name}.out`, n4(k.conv2.Cout, k.conv2.Ho, k.conv2.Wo, ws.B));
  addRelu(sched, { a: b2, b: sc, out });
  return out;
}

/** Records the forward pass of x [B, C, H, W] in ws.mode; returns the logits view [B, K]. */
export function recordForward(ctx: GraphCtx, x: View): View {
  const { ws, sched, arch } = ctx;
  const { stem, head, feat } = arch;
  let h = convBnF(ctx, stem.conv, stem.bn, x, true);
  if (stem.pool) {
    const p = stem.pool;
    const out = ws.get('stem.pool', n4(p.C, p.Ho, p.Wo, ws.B));
    maxPool(sched, { x: h, out, idx: ws.get('stem.pool_idx', out.length) }, { B: ws.B, Cch: p.C, H: p.H, W: p.W, k: p.k, s: p.s, p: p.p });
    h = out;
  }
  for (const k of arch.blocks) h = blockF(ctx, k, h);
  const pooled = ws.get(`${head.name}.in`, ws.B * head.din);
  globalAvgPool(sched, { x: h, out: pooled }, { B: ws.B, Cch: feat.C, H: feat.H, W: feat.W });
  const logits = ws.get(`${head.name}.logits`, ws.B * head.dout);
  matmul(sched, { A: pooled, B: ctx.param(`${head.name}.weight`), bias: ctx.param(`${head.name}.bias`), C: logits }, { M: ws.B, N: head.dout, K: head.din, transB: true });
  return logits;
}

// ---- backward ------------------------------------------------------------------------------

/** Backward of the whole net, given dlogits in ws (`${head}.dlogits`, where the loss kernel
 *  wrote it) and the forward's tensors. paramGrads false: every output gradient (dz) is formed
 *  but nothing is written to the grads buffer (BN's dγ, dβ, which its dx needs, go to scratch). */
export function recordBackward(ctx: GraphCtx, paramGrads: boolean): void {
  const { ws, sched, arch } = ctx;
  const { head, feat } = arch;
  const g = new Grads(ctx, paramGrads);
  const dl = ws.get(`${head.name}.dlogits`, ws.B * head.dout);
  const pooled = ws.get(`${head.name}.in`, ws.B * head.din);
  if (paramGrads) {
    matmul(sched, { A: dl, B: pooled, C: ctx.grad(`${head.name}.weight`) }, { M: head.dout, N: head.din, K: ws.B, transA: true });
    colsum(sched, { X: dl, out: ctx.grad(`${head.name}.bias`) }, { R: ws.B, Cc: head.dout });
  }
  const dpooled = ws.get(`${head.name}.dx`, ws.B * head.din);
  matmul(sched, { A: dl, B: ctx.param(`${head.name}.weight`), C: dpooled }, { M: ws.B, N: head.din, K: head.dout });
  let d: { dx: View; dx2?: View } = { dx: ws.get('head.dfeat', n4(feat.C, feat.H, feat.W, ws.B)) };
  globalAvgPoolBackward(sched, { dout: dpooled, dx: d.dx }, { B: ws.B, Cch: feat.C, H: feat.H, W: feat.W });
  for (let i = arch.blocks.length - 1; i >= 0; i--) d = g.block(arch.blocks[i], d.dx, d.dx2);
  g.stem(d.dx, d.dx2);
}

class Grads {
  constructor(private readonly ctx: GraphCtx, private readonly paramGrads: boolean) {}

  /** dW of conv c from its output gradient dz; dx (into `into`, or a fresh `${c}.dx`) unless
   *  skipDx; beta 1 adds to what `into` holds (a second path into the same input). */
  conv(c: ConvSpec, dz: View, o: { into?: View; beta?: number; skipDx?: boolean } = {}): View | null {
    const { ws, sched } = this.ctx;
    const geo = convGeometry(c, ws.B);
    ws.dz.set(c.name, dz);
    if (this.paramGrads) {
      const splits = conv2dWeightSplits(geo, adapterKind(sched.gpu));
      const partial = ws.partial(conv2dWeightPartialLength(geo, splits));
      conv2dBackwardWeight(sched, { x: ws.convIn.get(c.name)!, dy: dz, dW: this.ctx.grad(`${c.name}.weight`), partial }, geo, { splits });
    }
    if (o.skipDx) return null;
    const dx = o.into ?? ws.get(`${c.name}.dx`, n4(c.Cin, c.H, c.W, ws.B));
    conv2dBackwardInput(sched, { dy: dz, w: this.ctx.param(`${c.name}.weight`), dx }, geo, { beta: o.beta ?? 0 });
    return dx;
  }

  /** The gradient w.r.t. conv c's output from dy, the gradient w.r.t. the BN (+ReLU) output;
   *  without BN: dy through the ReLU mask (relu) or dy itself. `${c}.dz` holds it. */
  bn(c: ConvSpec, b: BnSpec | null, dy: View, relu: boolean): View {
    const { ws, sched } = this.ctx;
    if (!b && !relu) return dy;
    const dz = ws.get(`${c.name}.dz`, n4(c.Cout, c.Ho, c.Wo, ws.B));
    const x = ws.get(`${c.name}.out`, dz.length);
    if (!b) {
      reluBackward(sched, { y: x, dy, dx: dz });
      return dz;
    }
    const dgamma = this.paramGrads ? this.ctx.grad(`${b.name}.weight`) : ws.scratch('bn.dgamma', b.C);
    const dbeta = this.paramGrads ? this.ctx.grad(`${b.name}.bias`) : ws.scratch('bn.dbeta', b.C);
    const bufs = { x, dy, gamma: this.ctx.param(`${b.name}.weight`), beta: this.ctx.param(`${b.name}.bias`), dx: dz, dgamma, dbeta };
    const shape = { B: ws.B, Cch: b.C, H: b.H, W: b.W };
    if (ws.mode === 'train') bnTrainBackward(sched, { ...bufs, saved: ws.get(`${b.name}.saved`, 2 * b.C) }, shape, { relu });
    else bnEvalBackward(sched, { ...bufs, running: this.ctx.running(b.name) }, shape, { relu });
    return dz;
  }

  /** dout (+ dout2): the gradient w.r.t. the block's output. Returns the gradient w.r.t. its
   *  input as dx (+ dx2 = ds through an identity shortcut, summed by the consumer). */
  block(k: BlockSpec, dout: View, dout2?: View): { dx: View; dx2?: View } {
    const { ws, sched } = this.ctx;
    const out = ws.get(`${k.name}.out`, dout.length);
    const ds = ws.get(`${k.name}.ds`, dout.length);
    addReluBackward(sched, { out, dout, dout2, dsum: ds });
    const dh1 = ws.get(`${k.name}.dh1`, n4(k.conv1.Cout, k.conv1.Ho, k.conv1.Wo, ws.B));
    this.conv(k.conv2, this.bn(k.conv2, k.bn2, ds, false), { into: dh1 });
    const dx = ws.get(`${k.name}.dx`, n4(k.conv1.Cin, k.conv1.H, k.conv1.W, ws.B));
    this.conv(k.conv1, this.bn(k.conv1, k.bn1, dh1, true), { into: dx });
    const s = k.shortcut;
    if (s.kind === 'identity') return { dx, dx2: ds };
    if (s.kind === 'optionA') shortcutABackward(sched, { dy: ds, dx }, { B: ws.B, Cin: k.conv1.Cin, H: k.conv1.H, W: k.conv1.W, pad: s.pad, beta: 1 });
    else this.conv(s.conv, this.bn(s.conv, s.bn, ds, false), { into: dx, beta: 1 });
    return { dx };
  }

  /** The stem from the gradient w.r.t. its output (the first block's input). */
  stem(d: View, d2?: View): void {
    const { ws, sched, arch } = this.ctx;
    const { conv, bn, pool } = arch.stem;
    const h = ws.get(bn ? `${bn.name}.y` : `${conv.name}.out`, n4(conv.Cout, conv.Ho, conv.Wo, ws.B));
    let dh: View;
    if (pool) {
      if (d2) axpy(sched, { x: d2, y: d }, { a: 1 });
      dh = ws.get('stem.dpool', h.length);
      maxPoolBackward(sched, { dout: d, idx: ws.get('stem.pool_idx', d.length), dx: dh }, { B: ws.B, Cch: pool.C, H: pool.H, W: pool.W, k: pool.k, s: pool.s, p: pool.p });
    } else if (d2) {
      // both parts summed and masked by relu(h) > 0 (⇔ pre-activation > 0) in one pass
      dh = ws.get(bn ? 'stem.dh' : `${conv.name}.dz`, h.length);
      addReluBackward(sched, { out: h, dout: d, dout2: d2, dsum: dh });
      this.conv(conv, bn ? this.bn(conv, bn, dh, false) : dh, { skipDx: true });
      return;
    } else dh = d;
    this.conv(conv, this.bn(conv, bn, dh, true), { skipDx: true });
  }
}
