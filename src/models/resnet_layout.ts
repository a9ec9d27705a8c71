// The ResNets' architecture as plain data (SPEC 3.2–3.4): every conv, BatchNorm and block with
// its tensor names and spatial geometry at the configured input size, the parameter layout
// (one flat buffer, PyTorch's names and named_parameters order) and the layouts of the BN
// running statistics. Forward/backward (GPU graph and float64 reference) walk this one
// description, so names, shapes and geometry are defined once.
import { ParamLayout, type TensorSpec } from './param_layout.ts';
import { badInput } from '../gpu/errors.ts';

export interface ResNetConfig {
  /** 'cifar': Idelbayev's CIFAR ResNet (3×3 stem, option-A shortcuts, head `linear`);
   *  'imagenet': torchvision's (7×7/2 stem + 3×3/2 max pool, 1×1 conv(+BN) `downsample`
   *  shortcuts, head `fc`) */
  readonly family: 'cifar' | 'imagenet';
  /** BasicBlocks per stage, e.g. [1, 1, 1] (ResNet8), [5, 5, 5] (ResNet32), [2, 2, 2, 2] */
  readonly blocks: readonly number[];
  /** output channels of each stage; the stem has widths[0] channels */
  readonly widths: readonly number[];
  /** BatchNorm after every conv (false: the paper's BN-free ResNet8) */
  readonly bn: boolean;
  readonly classes: number;
  /** one input example: [C, H, W] */
  readonly input: { readonly C: number; readonly H: number; readonly W: number };
}

/** A conv (bias=False) at its place in the net: input [B, Cin, H, W], output [B, Cout, Ho, Wo]. */
export interface ConvSpec {
  readonly name: string;
  readonly Cin: number; readonly H: number; readonly W: number;
  readonly Cout: number; readonly Ho: number; readonly Wo: number;
  readonly k: number; readonly stride: number; readonly pad: number;
}

/** A BatchNorm2d over [B, C, H, W]: parameters `${name}.weight` (γ) and `${name}.bias` (β). */
export interface BnSpec { readonly name: string; readonly C: number; readonly H: number; readonly W: number }

export type Shortcut =
  | { readonly kind: 'identity' }
  /** x[:, :, ::2, ::2], then `pad` zero channels on each side (SPEC 3.2) */
  | { readonly kind: 'optionA'; readonly pad: number }
  /** torchvision's downsample: conv1x1(stride) then BN */
  | { readonly kind: 'conv'; readonly conv: ConvSpec; readonly bn: BnSpec | null };

/** out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); BN absent in BN-free nets. */
export interface BlockSpec {
  readonly name: string;
  readonly conv1: ConvSpec; readonly bn1: BnSpec | null;
  readonly conv2: ConvSpec; readonly bn2: BnSpec | null;
  readonly shortcut: Shortcut;
}

export interface MaxPoolSpec { readonly k: number; readonly s: number; readonly p: number; readonly C: number; readonly H: number; readonly W: number; readonly Ho: number; readonly Wo: number }

export interface ResNetArch {
  readonly cfg: ResNetConfig;
  /** conv1 (+ bn1) + ReLU (+ max pool) */
  readonly stem: { readonly conv: ConvSpec; readonly bn: BnSpec | null; readonly pool: MaxPoolSpec | null };
  readonly blocks: readonly BlockSpec[];
  /** the last block's output [B, C, H, W], global-average-pooled to [B, C] */
  readonly feat: { readonly C: number; readonly H: number; readonly W: number };
  /** the final Linear: weight [classes, din], bias [classes] */
  readonly head: { readonly name: string; readonly din: number; readonly dout: number };
  /** every conv in PyTorch module order (the clustered convs, SPEC 7.5) */
  readonly convs: readonly ConvSpec[];
  /** every BatchNorm in module order */
  readonly bns: readonly BnSpec[];
}

/** A conv's geometry at batch size B, as the conv2d kernels and references take it. */
export function convGeometry(c: ConvSpec, B: number) {
  return { B, Cin: c.Cin, H: c.H, W: c.W, Cout: c.Cout, kh: c.k, kw: c.k, stride: c.stride, pad: c.pad };
}

const outSize = (n: number, k: number, s: number, p: number): number => Math.floor((n + 2 * p - k) / s) + 1;

function conv(name: string, Cin: number, H: number, W: number, Cout: number, k: number, stride: number, pad: number): ConvSpec {
  const Ho = outSize(H, k, stride, pad), Wo = outSize(W, k, stride, pad);
  if (Ho < 1 || Wo < 1) badInput('resnet', `${name}: a ${k}×${k} conv (pad ${pad}) does not fit its ${H}×${W} input`);
  return { name, Cin, H, W, Cout, Ho, Wo, k, stride, pad };
}

function checkConfig(c: ResNetConfig): void {
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  if (c.family !== 'cifar' && c.family !== 'imagenet') badInput('resnet', `family must be 'cifar' or 'imagenet', got ${c.family}`);
  if (c.blocks.length === 0 || c.blocks.length !== c.widths.length) {
    badInput('resnet', `blocks [${c.blocks}] and widths [${c.widths}] must be non-empty and of equal length`);
  }
  for (const v of [...c.blocks, ...c.widths, c.classes, c.input.C, c.input.H, c.input.W]) {
    if (!posInt(v)) badInput('resnet', `blocks, widths, classes and input sizes must be positive integers (blocks [${c.blocks}], widths [${c.widths}], classes ${c.classes}, input [${c.input.C}, ${c.input.H}, ${c.input.W}])`);
  }
}

/** The option-A shortcut pads planes/4 channels on each side (PyTorch: planes//4), which
 *  reaches planes only when planes = 2·Cin (or planes = Cin with stride 1: identity). */
function optionA(name: string, Cin: number, planes: number, stride: number): Shortcut {
  if (stride === 1 && Cin === planes) return { kind: 'identity' };
  const pad = Math.floor(planes / 4);
  if (Cin + 2 * pad !== planes || stride !== 2) {
    badInput('resnet', `${name}: an option-A shortcut maps ${Cin} channels to ${Cin + 2 * pad} (stride 2 only), not ${planes} (stride ${stride}); widths must double per stage`);
  }
  return { kind: 'optionA', pad };
}

/** Derives every layer's geometry; throws one clear error for an impossible config. */
export function resnetArch(cfg: ResNetConfig): ResNetArch {
  checkConfig(cfg);
  const bnOf = (name: string, C: number, H: number, W: number): BnSpec | null => (cfg.bn ? { name, C, H, W } : null);
  const cifar = cfg.family === 'cifar';
  const { C: C0, H: H0, W: W0 } = cfg.input;
  const sconv = cifar ? conv('conv1', C0, H0, W0, cfg.widths[0], 3, 1, 1) : conv('conv1', C0, H0, W0, cfg.widths[0], 7, 2, 3);
  let C = sconv.Cout, H = sconv.Ho, W = sconv.Wo;
  let pool: MaxPoolSpec | null = null;
  if (!cifar) {
    if (H + 2 < 3 || W + 2 < 3) badInput('resnet', `the stem's max pool does not fit a ${H}×${W} map`);
    pool = { k: 3, s: 2, p: 1, C, H, W, Ho: outSize(H, 3, 2, 1), Wo: outSize(W, 3, 2, 1) };
    H = pool.Ho; W = pool.Wo;
  }
  const stem = { conv: sconv, bn: bnOf('bn1', C, sconv.Ho, sconv.Wo), pool };
  const blocks: BlockSpec[] = [];
  cfg.blocks.forEach((n, s) => {
    for (let i = 0; i < n; i++) {
      const name = `layer${s + 1}.${i}`, planes = cfg.widths[s], stride = i === 0 && s > 0 ? 2 : 1;
      const conv1 = conv(`${name}.conv1`, C, H, W, planes, 3, stride, 1);
      const conv2 = conv(`${name}.conv2`, planes, conv1.Ho, conv1.Wo, planes, 3, 1, 1);
      let shortcut: Shortcut;
      if (cifar) shortcut = optionA(name, C, planes, stride);
      else if (stride === 1 && C === planes) shortcut = { kind: 'identity' };
      else {
        const d = conv(`${name}.downsample.0`, C, H, W, planes, 1, stride, 0);
        shortcut = { kind: 'conv', conv: d, bn: bnOf(`${name}.downsample.1`, planes, d.Ho, d.Wo) };
      }
      blocks.push({
        name, conv1, conv2, shortcut,
        bn1: bnOf(`${name}.bn1`, planes, conv1.Ho, conv1.Wo),
        bn2: bnOf(`${name}.bn2`, planes, conv2.Ho, conv2.Wo),
      });
      C = planes; H = conv2.Ho; W = conv2.Wo;
    }
  });
  const convs: ConvSpec[] = [sconv], bns: BnSpec[] = stem.bn ? [stem.bn] : [];
  for (const b of blocks) {
    convs.push(b.conv1, b.conv2);
    for (const x of [b.bn1, b.bn2]) if (x) bns.push(x);
    if (b.shortcut.kind === 'conv') {
      convs.push(b.shortcut.conv);
      if (b.shortcut.bn) bns.push(b.shortcut.bn);
    }
  }
  const head = { name: cifar ? 'linear' : 'fc', din: C, dout: cfg.classes };
  return { cfg, stem, blocks, feat: { C, H, W }, head, convs, bns };
}

/** Parameter tensors in PyTorch's named_parameters order: per module conv weight
 *  [Cout, Cin, k, k], BN weight/bias [C], and the head's weight [classes, din] and bias. */
export function resnetTensorSpecs(arch: ResNetArch): TensorSpec[] {
  const specs: TensorSpec[] = [];
  const convW = (c: ConvSpec) => specs.push({ name: `${c.name}.weight`, shape: [c.Cout, c.Cin, c.k, c.k] });
  const bn = (b: BnSpec | null) => {
    if (b) specs.push({ name: `${b.name}.weight`, shape: [b.C] }, { name: `${b.name}.bias`, shape: [b.C] });
  };
  convW(arch.stem.conv);
  bn(arch.stem.bn);
  for (const b of arch.blocks) {
    convW(b.conv1); bn(b.bn1); convW(b.conv2); bn(b.bn2);
    if (b.shortcut.kind === 'conv') { convW(b.shortcut.conv); bn(b.shortcut.bn); }
  }
  specs.push({ name: `${arch.head.name}.weight`, shape: [arch.head.dout, arch.head.din] }, { name: `${arch.head.name}.bias`, shape: [arch.head.dout] });
  return specs;
}

export function resnetLayout(arch: ResNetArch): ParamLayout {
  return new ParamLayout(resnetTensorSpecs(arch));
}

/** The BN running statistics as the batchnorm kernels bind them: one `${bn}.running` slot
 *  [2, C] per BN layer (row 0 running_mean, row 1 running_var), each 64-aligned. Empty
 *  (64 zero floats) for a BN-free net. */
export function runningLayout(arch: ResNetArch): ParamLayout {
  return new ParamLayout(arch.bns.map((b) => ({ name: `${b.name}.running`, shape: [2, b.C] })));
}

/** The same statistics under PyTorch's buffer names (`bn1.running_mean`, `bn1.running_var`,
 *  ... [C]), for checkpoints. PyTorch's `num_batches_tracked` is not kept (it only matters
 *  for momentum=None, which the paper's models do not use). */
export function bufferLayout(arch: ResNetArch): ParamLayout {
  return new ParamLayout(arch.bns.flatMap((b) => [
    { name: `${b.name}.running_mean`, shape: [b.C] },
    { name: `${b.name}.running_var`, shape: [b.C] },
  ]));
}

/** Fresh running statistics in runningLayout: mean 0, var 1 (PyTorch's reset). */
export function initRunning(arch: ResNetArch): Float32Array {
  const lay = runningLayout(arch);
  const flat = new Float32Array(lay.total);
  for (const b of arch.bns) flat.fill(1, lay.entry(`${b.name}.running`).offset + b.C, lay.entry(`${b.name}.running`).offset + 2 * b.C);
  return flat;
}

/** runningLayout → bufferLayout (flat, PyTorch names), e.g. to write a checkpoint. */
export function runningToBuffers(arch: ResNetArch, running: Float32Array): Float32Array {
  const src = runningLayout(arch), dst = bufferLayout(arch);
  if (running.length !== src.total) badInput('runningToBuffers', `expected ${src.total} floats, got ${running.length}`);
  const out = new Float32Array(dst.total);
  for (const b of arch.bns) {
    const at = src.entry(`${b.name}.running`).offset;
    out.set(running.subarray(at, at + b.C), dst.entry(`${b.name}.running_mean`).offset);
    out.set(running.subarray(at + b.C, at + 2 * b.C), dst.entry(`${b.name}.running_var`).offset);
  }
  return out;
}

/** bufferLayout → runningLayout, e.g. after reading a checkpoint. */
export function buffersToRunning(arch: ResNetArch, buffers: Float32Array): Float32Array {
  const src = bufferLayout(arch), dst = runningLayout(arch);
  if (buffers.length !== src.total) badInput('buffersToRunning', `expected ${src.total} floats, got ${buffers.length}`);
  const out = new Float32Array(dst.total);
  for (const b of arch.bns) {
    const at = dst.entry(`${b.name}.running`).offset;
    const m = src.entry(`${b.name}.running_mean`).offset, v = src.entry(`${b.name}.running_var`).offset;
    out.set(buffers.subarray(m, m + b.C), at);
    out.set(buffers.subarray(v, v + b.C), at + b.C);
  }
  return out;
}
