// Activation memory of a ResNet for one batch size: every named tensor (see resnet_graph.ts
// for the names) in its own pooled buffer, allocated the first time a recording asks for it
// and kept, so a forward-only evaluation never allocates the backward's tensors and a repeated
// step allocates nothing. Two shared scratch buffers serve passes whose outputs are consumed
// at once: BN's dγ/dβ when parameter gradients are off, and conv2d's backward-weight partial
// sums; each is sized once for the largest layer.
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { badInput } from '../gpu/errors.ts';
import type { BnMode } from './resnet_graph.ts';

export class ResNetWorkspace {
  /** BN mode of the last forward recorded here; the backward of the same batch uses it */
  mode: BnMode = 'train';
  /** each conv's input of the last forward (GC's factor A), by conv name */
  readonly convIn = new Map<string, View>();
  /** each conv's output gradient of the last backward (GC's factor G), by conv name */
  readonly dz = new Map<string, View>();
  private readonly tensors = new Map<string, View>();

  /** maxScratch: the largest length each scratch key is ever asked for */
  constructor(private readonly sched: Scheduler, readonly B: number, private readonly maxScratch: Readonly<Record<string, number>>) {}

  /** The tensor `key` of `length` floats (allocated on first use; later asks must agree). */
  get(key: string, length: number): View {
    let v = this.tensors.get(key);
    if (!v) {
      v = this.sched.alloc(length, `resnet.${key}`);
      this.tensors.set(key, v);
    } else if (v.length !== length) {
      badInput('resnet workspace', `tensor '${key}' was made with ${v.length} floats, now asked for ${length}`);
    }
    return v;
  }

  /** The first `length` floats of the shared scratch buffer `key`. */
  scratch(key: string, length: number): View {
    const max = this.maxScratch[key];
    if (max === undefined || length > max) badInput('resnet workspace', `scratch '${key}' holds ${max ?? 0} floats, asked for ${length}`);
    return { ...this.get(key, max), length };
  }

  /** conv2d backward-weight's partial sums, or undefined when the layer uses one split. */
  partial(length: number): View | undefined {
    return length > 0 ? this.scratch('conv.partial', length) : undefined;
  }

  /** floats held (for memory reports and tests) */
  get floats(): number {
    let n = 0;
    for (const v of this.tensors.values()) n += v.length;
    return n;
  }

  destroy(): void {
    for (const v of this.tensors.values()) this.sched.free(v);
    this.tensors.clear();
    this.convIn.clear();
    this.dz.clear();
  }
}
