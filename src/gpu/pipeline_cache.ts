// Pipelines and bind-group layouts, compiled once per (shader, entry point, overrides) and
// never keyed by concrete shapes: sizes travel in the Params uniform, so a handful of
// pipelines serve every layer of every model.

import type { Kernel } from '../kernels/kernel.ts';
import { SHADERS } from './shader_source.ts';
import { GpuError } from './errors.ts';

export interface CompiledKernel {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** 256-aligned size of the Params struct slot in the uniform ring */
  readonly paramBytes: number;
}

export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly pipelines = new Map<string, CompiledKernel>();
  /** how many pipelines were created (a test checks this stays flat across steps) */
  created = 0;

  constructor(private readonly device: GPUDevice) {}

  static keyOf(k: Kernel<any>): string {
    const ov = Object.keys(k.overrides).sort().map((n) => `${n}=${k.overrides[n]}`).join(',');
    return `${k.shader}:${k.entryPoint}:${ov}`;
  }

  module(shader: keyof typeof SHADERS): GPUShaderModule {
    let m = this.modules.get(shader);
    if (!m) {
      m = this.device.createShaderModule({ code: SHADERS[shader], label: shader });
      this.modules.set(shader, m);
    }
    return m;
  }

  get(k: Kernel<any>): CompiledKernel {
    const key = PipelineCache.keyOf(k);
    let c = this.pipelines.get(key);
    if (c) return c;
    const layout = this.layout(k);
    // createComputePipeline reports errors asynchronously; the scheduler's error scope
    // around the submission turns them into a GpuError naming this kernel's label.
    const pipeline = this.device.createComputePipeline({
      label: k.name,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout], label: k.name }),
      compute: { module: this.module(k.shader), entryPoint: k.entryPoint, constants: { ...k.overrides } },
    });
    const align = this.device.limits.minUniformBufferOffsetAlignment;
    const paramBytes = Math.max(align, Math.ceil((4 * Math.max(k.params.length, 1)) / align) * align);
    c = { pipeline, layout, paramBytes };
    this.pipelines.set(key, c);
    this.created++;
    return c;
  }

  /** Compiles a kernel now and waits for the verdict (used by tests and `doctor`). */
  async compile(k: Kernel<any>): Promise<CompiledKernel> {
    this.device.pushErrorScope('validation');
    const c = this.get(k);
    const err = await this.device.popErrorScope();
    if (err) throw new GpuError('validation', err.message, k.name);
    return c;
  }

  private layout(k: Kernel<any>): GPUBindGroupLayout {
    const sig = k.bindings.map((b) => b.access).join(',');
    let l = this.layouts.get(sig);
    if (!l) {
      l = this.device.createBindGroupLayout({
        label: `layout[${sig}]`,
        entries: [
          { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
          ...k.bindings.map((b, i) => ({
            binding: i + 1,
            visibility: GPUShaderStage.COMPUTE,
            buffer: { type: b.access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
          })),
        ],
      });
      this.layouts.set(sig, l);
    }
    return l;
  }
}
