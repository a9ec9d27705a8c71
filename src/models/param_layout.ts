// The layout of a model's parameters inside one flat buffer: each named tensor at an
// offset aligned to 64 elements (256 bytes, the storage-binding offset alignment), so
// every tensor can be bound on its own. Parameters, gradients and momenta share one
// layout, each in its own GPUBuffer (WebGPU forbids reading and writing one buffer in
// a dispatch, and the optimiser reads gradients while writing parameters).
import type { View } from '../kernels/kernel.ts';

export interface TensorSpec {
  readonly name: string;
  /** PyTorch order, e.g. [out, in] for a Linear weight */
  readonly shape: readonly number[];
}

export interface LayoutEntry extends TensorSpec {
  /** first element, a multiple of 64 */
  readonly offset: number;
  readonly length: number;
}

export class ParamLayout {
  readonly entries: readonly LayoutEntry[];
  /** elements in the flat buffer, padding included (padding stays zero) */
  readonly total: number;
  private readonly byName = new Map<string, LayoutEntry>();

  constructor(specs: readonly TensorSpec[]) {
    let at = 0;
    this.entries = specs.map((s) => {
      const length = s.shape.reduce((a, b) => a * b, 1);
      const e = { ...s, offset: at, length };
      at += Math.ceil(length / 64) * 64;
      return e;
    });
    this.total = Math.max(at, 64);
    for (const e of this.entries) {
      if (this.byName.has(e.name)) throw new Error(`ParamLayout: duplicate tensor name '${e.name}'`);
      this.byName.set(e.name, e);
    }
  }

  entry(name: string): LayoutEntry {
    const e = this.byName.get(name);
    if (!e) throw new Error(`ParamLayout: no tensor '${name}' (have ${[...this.byName.keys()].join(', ')})`);
    return e;
  }

  /** The view of tensor `name` inside a buffer laid out by this layout. */
  view(buffer: GPUBuffer, name: string): View {
    const e = this.entry(name);
    return { buffer, offset: e.offset, length: e.length };
  }

  /** Number of real parameters (padding excluded). */
  get count(): number {
    return this.entries.reduce((s, e) => s + e.length, 0);
  }

  /** Copies the named tensors out of a flat host array. */
  split(flat: Float32Array): Map<string, Float32Array> {
    return new Map(this.entries.map((e) => [e.name, flat.slice(e.offset, e.offset + e.length)]));
  }

  /** Builds a flat host array (zero padding) from named tensors; every tensor is required. */
  join(tensors: ReadonlyMap<string, ArrayLike<number>>): Float32Array {
    const flat = new Float32Array(this.total);
    for (const e of this.entries) {
      const t = tensors.get(e.name);
      if (!t) throw new Error(`missing tensor '${e.name}'`);
      if (t.length !== e.length) throw new Error(`tensor '${e.name}' has ${t.length} elements, expected ${e.length} (shape [${e.shape.join(', ')}])`);
      flat.set(t, e.offset);
    }
    return flat;
  }
}
