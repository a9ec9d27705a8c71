// A Kernel is a small declarative value: which WGSL entry point, with which override
// constants, which storage buffers in which order, which scalar parameters, how big each
// buffer must be and how many workgroups to dispatch for given parameters. One launcher
// (Scheduler.record) records any kernel; nothing here touches the GPU.
//
// Binding convention, shared by every shader in shaders/:
//   @group(0) @binding(0) var<uniform> params : Params;   // the fields of `params`, in order
//   @group(0) @binding(1..n) storage buffers, in the order of `bindings`
// Every Params field is a 4-byte scalar (u32, i32 or f32), so the struct packs densely.

import type { ShaderName } from '../gpu/shader_source.ts';
import { badInput } from '../gpu/errors.ts';

export type ScalarType = 'u32' | 'i32' | 'f32';
export interface ParamField {
  readonly name: string;
  readonly type: ScalarType;
}
export interface KernelBinding {
  readonly name: string;
  /** 'read' → read-only-storage, 'read_write' → storage */
  readonly access: 'read' | 'read_write';
}

export type Params = Record<string, number>;

/** Params fields of one type, in order: `[...u32('M', 'N'), ...f32('lr')]`. */
export const u32 = (...names: string[]): ParamField[] => names.map((name) => ({ name, type: 'u32' }));
export const f32 = (...names: string[]): ParamField[] => names.map((name) => ({ name, type: 'f32' }));

export interface Kernel<P extends Params = Params> {
  /** Unique, carries its configuration, e.g. 'matmul_tn_tiled_bias_relu'. Used in errors. */
  readonly name: string;
  readonly shader: ShaderName;
  readonly entryPoint: string;
  /** Pipeline-creation constants (workgroup and tile sizes, epilogue switches). */
  readonly overrides: Readonly<Record<string, number>>;
  readonly bindings: readonly KernelBinding[];
  readonly params: readonly ParamField[];
  /** Minimum element count (f32/u32) of each binding for these params. */
  sizes(p: P): Record<string, number>;
  /** Workgroup counts for these params. */
  dispatch(p: P): [number, number, number];
  /** Throws a clear error if the params themselves are inconsistent (zero sizes, ...). */
  check?(p: P): void;
}

/** A range of f32/u32 elements inside a GPUBuffer. `offset` is in elements and must be a
 *  multiple of 64 (256 bytes, the storage-buffer offset alignment on every adapter). */
export interface View {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly length: number;
}

export type Bindable = View | GPUBuffer;

export function asView(b: Bindable): View {
  return 'buffer' in b ? b : { buffer: b, offset: 0, length: b.size / 4 };
}

/** Params packed as the WGSL struct lays them out: 4 bytes per field, in order. */
export function packParams<P extends Params>(k: Kernel<P>, p: P, out: DataView, byteOffset: number): void {
  k.params.forEach((f, i) => {
    const v = p[f.name];
    if (v === undefined || !Number.isFinite(v)) badInput(k.name, `param '${f.name}' is ${v}`);
    const at = byteOffset + 4 * i;
    if (f.type === 'f32') out.setFloat32(at, v, true);
    else {
      const [lo, hi] = f.type === 'u32' ? [0, 0xffffffff] : [-0x80000000, 0x7fffffff];
      if (!Number.isInteger(v) || v < lo || v > hi) badInput(k.name, `param '${f.name}' must be a ${f.type} in [${lo}, ${hi}], got ${v}`);
      if (f.type === 'u32') out.setUint32(at, v, true);
      else out.setInt32(at, v, true);
    }
  });
}

/** Checks, before anything reaches the GPU, that every binding is given, is large enough
 *  for these params and is aligned. Throws one error naming the kernel and the binding. */
export function checkLaunch<P extends Params>(k: Kernel<P>, buffers: Record<string, Bindable>, p: P): View[] {
  k.check?.(p);
  const need = k.sizes(p);
  const views: View[] = [];
  for (const b of k.bindings) {
    const given = buffers[b.name];
    if (!given) badInput(k.name, `binding '${b.name}' was not given (expects ${k.bindings.map((x) => x.name).join(', ')})`);
    const v = asView(given);
    if (v.offset % 64 !== 0) badInput(k.name, `binding '${b.name}' offset ${v.offset} is not a multiple of 64 elements`);
    if ((v.offset + v.length) * 4 > v.buffer.size) {
      badInput(k.name, `binding '${b.name}' view [${v.offset}, +${v.length}) overruns its ${v.buffer.size}-byte buffer`);
    }
    const n = need[b.name] ?? 0;
    if (v.length < n) badInput(k.name, `binding '${b.name}' holds ${v.length} elements, these params need ${n} (${fmt(p)})`);
    views.push(v);
  }
  // WebGPU forbids one buffer as read-only and writable storage in the same dispatch, even
  // at disjoint ranges; Dawn would report it at submit with less context.
  k.bindings.forEach((b, i) => {
    if (b.access !== 'read_write') return;
    k.bindings.forEach((r, j) => {
      if (r.access === 'read' && views[j].buffer === views[i].buffer) {
        badInput(k.name, `'${r.name}' (read) and '${b.name}' (written) share one GPUBuffer; use separate buffers`);
      }
    });
  });
  for (const name of Object.keys(buffers)) {
    if (!k.bindings.some((b) => b.name === name)) badInput(k.name, `unknown binding '${name}'`);
  }
  return views;
}

function fmt(p: Params): string {
  return Object.entries(p).map(([k, v]) => `${k}=${v}`).join(' ');
}

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** Splits a 1-D dispatch of `groups` workgroups into x,y so neither exceeds 65535. */
export function grid1d(groups: number): [number, number, number] {
  if (groups <= 65535) return [Math.max(groups, 1), 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}
