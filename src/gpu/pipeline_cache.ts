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
  /** the first pipeline-creation error not yet raised (creation reports asynchronously) */
  private failure: GpuError | null = null;
  private readonly verdicts = new Map<string, Promise<void>>();

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
    // createComputePipeline reports errors asynchronously: catch them in a scope of their
    // own and hold the first one for the scheduler to raise, naming this kernel.
    this.device.pushErrorScope('validation');
    const pipeline = this.device.createComputePipeline({
      label: k.name,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout], label: k.name }),
      compute: { module: this.module(k.shader), entryPoint: k.entryPoint, constants: { ...k.overrides } },
    });
    const verdict = this.device.popErrorScope().then((err) => {
      if (err && !this.failure) this.failure = new GpuError('validation', err.message.split('\n')[0], k.name);
    });
    this.verdicts.set(key, verdict);
    const align = this.device.limits.minUniformBufferOffsetAlignment;
    const paramBytes = Math.max(align, Math.ceil((4 * Math.max(k.params.length, 1)) / align) * align);
    c = { pipeline, layout, paramBytes };
    this.pipelines.set(key, c);
    this.created++;
    return c;
  }

  /** Compiles a kernel now and waits for the verdict (used by tests and `doctor`). */
  async compile(k: Kernel<any>): Promise<CompiledKernel> {
    const c = this.get(k);
    await this.verdicts.get(PipelineCache.keyOf(k));
    this.raiseFailure();
    return c;
  }

  /** Throws (once) the first pipeline-creation error seen so far. */
  raiseFailure(): void {
    const f = this.takeFailure();
    if (f) throw f;
  }

  /** Returns and clears the first pipeline-creation error seen so far. */
  takeFailure(): GpuError | null {
    const f = this.failure;
    this.failure = null;
    return f;
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
