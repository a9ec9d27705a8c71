// float64 reference of a whole ResNet (SPEC 3.2–3.4), forward and backward, composed from the
// per-kernel references (conv2d, batchnorm, pool, resnet_ops, matmul): the executable spec the
// GPU graph (src/models/resnet_graph.ts) is checked against, itself checked by central finite
// differences. Written as PyTorch's forward reads, block by block:
//   stem   h = relu(bn1(conv1(x))) (then maxpool 3/2/1 for the ImageNet net)
//   block  out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
//   head   logits = avgpool(out)·Wᵀ + b
// Tensors are NCHW Float64Arrays; parameters by PyTorch name; running statistics by
// `${bn}.running` = [2, C] (running_mean, running_var), as in runningLayout.
import { convGeometry as geom, type ResNetArch, type ConvSpec, type BnSpec, type BlockSpec } from '../models/resnet_layout.ts';
import { conv2dRef, conv2dDxRef, conv2dDwRef } from './conv2d.ts';
import { bnTrainForwardRef, bnEvalForwardRef, bnTrainBackwardRef, bnEvalBackwardRef } from './batchnorm.ts';
import { globalAvgPoolRef, globalAvgPoolBackwardRef, maxPoolRef, maxPoolBackwardRef } from './pool.ts';
import { addReluRef, addReluBackwardRef, shortcutARef, shortcutABackwardRef } from './resnet_ops.ts';
import { reluRef, reluBackwardRef } from './elementwise.ts';
import { matmulRef } from './matmul.ts';

type Arr = ArrayLike<number>;
export type BnMode = 'train' | 'eval';

/** What the forward keeps for the backward, by tensor: conv inputs (GC's factor A), BN
 *  inputs and batch statistics, ReLU outputs, block outputs, the pooled features. */
export interface ResNetTape {
  readonly B: number;
  readonly mode: BnMode;
  readonly convIn: Map<string, Float64Array>;
  readonly bn: Map<string, { x: Float64Array; mean: Float64Array; invstd: Float64Array }>;
  readonly relu: Map<string, Float64Array>;
  readonly out: Map<string, Float64Array>;
  stemPoolIdx: Uint32Array | null;
  pooled: Float64Array;
}

export interface ResNetForwardRef {
  logits: Float64Array;
  /** the running statistics after this forward (updated in train mode, copied in eval) */
  running: Map<string, Float64Array>;
  tape: ResNetTape;
}

export interface ResNetGradsRef {
  /** d(Σ logits·dlogits)/d(parameter), by PyTorch name */
  grads: Map<string, Float64Array>;
  /** per clustered layer (every conv, then the head): input A and output gradient G */
  factors: Map<string, { A: Float64Array; G: Float64Array }>;
}

class Fwd {
  readonly tape: ResNetTape;
  readonly running = new Map<string, Float64Array>();
  constructor(readonly p: ReadonlyMap<string, Arr>, run: ReadonlyMap<string, Arr>, B: number, mode: BnMode, readonly momentum: number) {
    this.tape = { B, mode, convIn: new Map(), bn: new Map(), relu: new Map(), out: new Map(), stemPoolIdx: null, pooled: new Float64Array(0) };
    for (const [k, v] of run) this.running.set(k, Float64Array.from(v));
  }
  conv(c: ConvSpec, x: Float64Array): Float64Array {
    this.tape.convIn.set(c.name, x);
    return conv2dRef(x, this.p.get(`${c.name}.weight`)!, null, geom(c, this.tape.B));
  }
  /** BN (+ ReLU when relu); without a BN layer, just the ReLU (or nothing). */
  bn(b: BnSpec | null, x: Float64Array, relu: boolean, name: string): Float64Array {
    if (!b) {
      const y = relu ? reluRef(x) : x;
      if (relu) this.tape.relu.set(name, y);
      return y;
    }
    const sh = { B: this.tape.B, Cch: b.C, H: b.H, W: b.W };
    const [gamma, beta] = [this.p.get(`${b.name}.weight`)!, this.p.get(`${b.name}.bias`)!];
    const run = this.running.get(`${b.name}.running`)!;
    if (this.tape.mode === 'eval') {
      const mean = run.slice(0, b.C), invstd = run.slice(b.C).map((v) => 1 / Math.sqrt(v + 1e-5));
      this.tape.bn.set(b.name, { x, mean, invstd });
      return bnEvalForwardRef(x, gamma, beta, run, sh, { relu });
    }
    const r = bnTrainForwardRef(x, gamma, beta, run, sh, { relu, momentum: this.momentum });
    this.tape.bn.set(b.name, { x, mean: r.mean, invstd: r.invstd });
    this.running.set(`${b.name}.running`, r.running);
    return r.y;
  }
  block(k: BlockSpec, x: Float64Array): Float64Array {
    const h1 = this.bn(k.bn1, this.conv(k.conv1, x), true, `${k.name}.relu1`);
    const b2 = this.bn(k.bn2, this.conv(k.conv2, h1), false, '');
    const s = k.shortcut;
    const sc = s.kind === 'identity' ? x
      : s.kind === 'optionA' ? shortcutARef(x, { B: this.tape.B, Cin: k.conv1.Cin, H: k.conv1.H, W: k.conv1.W, pad: s.pad })
        : this.bn(s.bn, this.conv(s.conv, x), false, '');
    const out = addReluRef(b2, sc);
    this.tape.out.set(k.name, out);
    return out;
  }
}

/** Forward of x [B, C, H, W]; BN in `mode` (train: batch statistics, running stats updated
 *  with `momentum`; eval: running statistics). */
export function resnetForwardRef(
  arch: ResNetArch, params: ReadonlyMap<string, Arr>, running: ReadonlyMap<string, Arr>, x: Arr, B: number, mode: BnMode = 'train', momentum = 0.1,
): ResNetForwardRef {
  const f = new Fwd(params, running, B, mode, momentum);
  const { stem, head } = arch;
  let h = f.bn(stem.bn, f.conv(stem.conv, Float64Array.from(x)), true, 'relu');
  if (stem.pool) {
    const { k, s, p, C, H, W } = stem.pool;
    const r = maxPoolRef(h, { B, Cch: C, H, W, k, s, p });
    f.tape.stemPoolIdx = r.idx;
    h = r.out;
  }
  for (const k of arch.blocks) h = f.block(k, h);
  f.tape.pooled = globalAvgPoolRef(h, { B, Cch: arch.feat.C, H: arch.feat.H, W: arch.feat.W });
  const logits = matmulRef(f.tape.pooled, params.get(`${head.name}.weight`)!, null, { M: B, N: head.dout, K: head.din, transB: true, bias: params.get(`${head.name}.bias`)! });
  return { logits, running: f.running, tape: f.tape };
}

class Bwd {
  readonly grads = new Map<string, Float64Array>();
  readonly factors = new Map<string, { A: Float64Array; G: Float64Array }>();
  constructor(readonly p: ReadonlyMap<string, Arr>, readonly t: ResNetTape, readonly running: ReadonlyMap<string, Arr>) {}
  /** dW from the output gradient dz; returns dx (the gradient w.r.t. the conv's input). */
  conv(c: ConvSpec, dz: Float64Array): Float64Array {
    const x = this.t.convIn.get(c.name)!;
    this.factors.set(c.name, { A: x, G: dz });
    this.grads.set(`${c.name}.weight`, conv2dDwRef(x, dz, geom(c, this.t.B)));
    return conv2dDxRef(dz, this.p.get(`${c.name}.weight`)!, geom(c, this.t.B));
  }
  /** Through BN (+ its fused ReLU) or, without BN, through the ReLU named `name` (or nothing). */
  bn(b: BnSpec | null, dy: Float64Array, relu: boolean, name: string): Float64Array {
    if (!b) return relu ? reluBackwardRef(this.t.relu.get(name)!, dy) : dy;
    const sh = { B: this.t.B, Cch: b.C, H: b.H, W: b.W };
    const [gamma, beta] = [this.p.get(`${b.name}.weight`)!, this.p.get(`${b.name}.bias`)!];
    const s = this.t.bn.get(b.name)!;
    const r = this.t.mode === 'eval'
      ? bnEvalBackwardRef(s.x, dy, gamma, beta, this.running.get(`${b.name}.running`)!, sh, { relu })
      : bnTrainBackwardRef(s.x, dy, gamma, beta, s.mean, s.invstd, sh, { relu });
    this.grads.set(`${b.name}.weight`, r.dgamma);
    this.grads.set(`${b.name}.bias`, r.dbeta);
    return r.dx;
  }
  /** dout: the gradient w.r.t. the block's output; returns the gradient w.r.t. its input. */
  block(k: BlockSpec, dout: Float64Array): Float64Array {
    const ds = addReluBackwardRef(this.t.out.get(k.name)!, dout);
    const dh1 = this.conv(k.conv2, this.bn(k.bn2, ds, false, ''));
    const dx = this.conv(k.conv1, this.bn(k.bn1, dh1, true, `${k.name}.relu1`));
    const s = k.shortcut;
    const dsc = s.kind === 'identity' ? ds
      : s.kind === 'optionA' ? shortcutABackwardRef(ds, { B: this.t.B, Cin: k.conv1.Cin, H: k.conv1.H, W: k.conv1.W, pad: s.pad })
        : this.conv(s.conv, this.bn(s.bn, ds, false, ''));
    for (let i = 0; i < dx.length; i++) dx[i] += dsc[i];
    return dx;
  }
}

/** The gradients of Σ logits·dlogits (dlogits: the loss's gradient w.r.t. the logits) after
 *  resnetForwardRef; `running` is the statistics the forward READ (eval mode uses them). */
export function resnetBackwardRef(
  arch: ResNetArch, params: ReadonlyMap<string, Arr>, running: ReadonlyMap<string, Arr>, fwd: ResNetForwardRef, dlogits: Arr,
): ResNetGradsRef {
  const t = fwd.tape, B = t.B, { head, stem, feat } = arch;
  const b = new Bwd(params, t, running);
  const dl = Float64Array.from(dlogits);
  b.grads.set(`${head.name}.weight`, matmulRef(dl, t.pooled, null, { M: head.dout, N: head.din, K: B, transA: true }));
  const db = new Float64Array(head.dout);
  for (let i = 0; i < B; i++) for (let o = 0; o < head.dout; o++) db[o] += dl[i * head.dout + o];
  b.grads.set(`${head.name}.bias`, db);
  const dpooled = matmulRef(dl, params.get(`${head.name}.weight`)!, null, { M: B, N: head.din, K: head.dout });
  let d = globalAvgPoolBackwardRef(dpooled, { B, Cch: feat.C, H: feat.H, W: feat.W });
  for (let i = arch.blocks.length - 1; i >= 0; i--) d = b.block(arch.blocks[i], d);
  if (stem.pool) {
    const { k, s, p, C, H, W } = stem.pool;
    d = maxPoolBackwardRef(d, t.stemPoolIdx!, { B, Cch: C, H, W, k, s, p });
  }
  b.conv(stem.conv, b.bn(stem.bn, d, true, 'relu'));
  // module order for the factors: the convs as arch.convs lists them, then the head
  const factors = new Map(arch.convs.map((c) => [c.name, b.factors.get(c.name)!]));
  factors.set(head.name, { A: t.pooled, G: dl });
  return { grads: b.grads, factors };
}

/** Mean cross-entropy of logits [B, K] against labels and its gradient (dscale 1/B). */
export function meanXentRef(logits: Arr, labels: ArrayLike<number>, B: number, K: number): { loss: number; dlogits: Float64Array } {
  const dlogits = new Float64Array(B * K);
  let loss = 0;
  for (let i = 0; i < B; i++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits[i * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[i * K + k] - m);
    const lse = m + Math.log(s);
    loss += (lse - logits[i * K + labels[i]]) / B;
    for (let k = 0; k < K; k++) dlogits[i * K + k] = (Math.exp(logits[i * K + k] - lse) - (k === labels[i] ? 1 : 0)) / B;
  }
  return { loss, dlogits };
}
