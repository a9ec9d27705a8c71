// The paper's ResNets (SPEC 3.2–3.4) as configs, and their PyTorch initialisations:
//   resnet8   CIFAR-10, Idelbayev's ResNet with option-A shortcuts, [1,1,1], no BatchNorm
//   resnet32  CIFAR-100, the same family with [5,5,5] and BatchNorm
//   resnet18  torchvision's ImageNet ResNet18 (BN, 1×1 conv+BN downsample shortcuts)
// The architecture as data (names, geometry, layouts) is in resnet_layout.ts; the GPU graph in
// resnet_graph.ts / resnet_net.ts; the gradient engine in src/run/resnet_grad.ts; the float64
// reference in src/reference/resnet.ts.
import { badInput } from '../gpu/errors.ts';
import type { Rng } from '../util/rng.ts';
import { resnetArch, resnetLayout, type ResNetArch, type ResNetConfig } from './resnet_layout.ts';

export * from './resnet_layout.ts';

export interface CifarResNetOptions {
  classes?: number;
  /** input channels (default 3) */
  C?: number;
  /** input side (a multiple of 4 keeps every map even; default 32) */
  H?: number;
  W?: number;
  bn?: boolean;
  /** BasicBlocks per stage (e.g. [1,1,1] for a shallow test variant of ResNet32) */
  blocks?: readonly number[];
}

export interface ImageNetResNetOptions {
  classes?: number;
  /** input channels (default 3) */
  C?: number;
  H?: number;
  W?: number;
  bn?: boolean;
  /** multiplies the stage widths [64, 128, 256, 512] (tests use a fraction; default 1) */
  width?: number;
}

/** SPEC 3.2: ResNet8 without BN, 10 classes, 3×32×32 inputs (74,810 parameters). */
export function resnet8(o: CifarResNetOptions = {}): ResNetConfig {
  return cifar(o.blocks ?? [1, 1, 1], o.bn ?? false, o.classes ?? 10, o);
}

/** SPEC 3.3: ResNet32 with BN, 100 classes (470,004 parameters). */
export function resnet32(o: CifarResNetOptions = {}): ResNetConfig {
  return cifar(o.blocks ?? [5, 5, 5], o.bn ?? true, o.classes ?? 100, o);
}

function cifar(blocks: readonly number[], bn: boolean, classes: number, o: CifarResNetOptions): ResNetConfig {
  return { family: 'cifar', blocks: [...blocks], widths: [16, 32, 64], bn, classes, input: { C: o.C ?? 3, H: o.H ?? 32, W: o.W ?? o.H ?? 32 } };
}

/** SPEC 3.4: torchvision resnet18, 1000 classes, 3×224×224 inputs (11,689,512 parameters). */
export function resnet18(o: ImageNetResNetOptions = {}): ResNetConfig {
  const m = o.width ?? 1;
  if (!(m > 0 && Number.isFinite(m))) badInput('resnet18', `width multiplier must be a positive number, got ${m}`);
  const widths = [64, 128, 256, 512].map((w) => Math.max(1, Math.round(w * m)));
  return { family: 'imagenet', blocks: [2, 2, 2, 2], widths, bn: o.bn ?? true, classes: o.classes ?? 1000, input: { C: o.C ?? 3, H: o.H ?? 224, W: o.W ?? o.H ?? 224 } };
}

export const RESNETS = { resnet8, resnet32, resnet18 } as const;
export type ResNetName = keyof typeof RESNETS;

/** A named config with options, e.g. resnetConfig('resnet32', { blocks: [1, 1, 1] }). */
export function resnetConfig(name: string, o: CifarResNetOptions & ImageNetResNetOptions = {}): ResNetConfig {
  const make = (RESNETS as Record<string, (o: object) => ResNetConfig>)[name];
  if (!make) badInput('resnet', `unknown model '${name}' (have ${Object.keys(RESNETS).join(', ')})`);
  return make(o);
}

/** PyTorch's initialisation, drawn tensor by tensor in module order from `rng`:
 *  - CIFAR (Idelbayev's `_weights_init`): kaiming_normal_(fan_in, gain √2) on every conv and
 *    Linear weight, N(0, 2/fan_in); the Linear bias keeps its default U(±1/√fan_in);
 *  - torchvision: kaiming_normal_(mode='fan_out', relu) on convs, N(0, 2/(Cout·k·k)); the fc
 *    keeps PyTorch's Linear default, weight and bias U(±1/√fan_in);
 *  - BN (both): γ = 1, β = 0. */
export function initResNetParams(arch: ResNetArch, rng: Rng): Float32Array {
  const layout = resnetLayout(arch);
  const flat = new Float32Array(layout.total);
  const normal = (name: string, std: number) => {
    const e = layout.entry(name);
    for (let i = 0; i < e.length; i++) flat[e.offset + i] = std * rng.normal();
  };
  const uniform = (name: string, bound: number) => {
    const e = layout.entry(name);
    for (let i = 0; i < e.length; i++) flat[e.offset + i] = (2 * rng.uniform() - 1) * bound;
  };
  const fanOut = arch.cfg.family === 'imagenet';
  for (const e of layout.entries) {
    const [out, ...rest] = e.shape;
    if (e.name === `${arch.head.name}.weight`) {
      if (fanOut) uniform(e.name, 1 / Math.sqrt(arch.head.din));
      else normal(e.name, Math.sqrt(2 / arch.head.din));
    } else if (e.name === `${arch.head.name}.bias`) uniform(e.name, 1 / Math.sqrt(arch.head.din));
    else if (e.shape.length === 4) {
      const fanIn = rest.reduce((a, b) => a * b, 1);
      normal(e.name, Math.sqrt(2 / (fanOut ? out * e.shape[2] * e.shape[3] : fanIn)));
    } else if (e.name.endsWith('.weight')) flat.fill(1, e.offset, e.offset + e.length); // BN γ
    // BN β stays 0
  }
  return flat;
}
