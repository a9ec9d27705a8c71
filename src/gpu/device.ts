// One function that gives a WebGPU device, in Node (Dawn through the npm package `webgpu`)
// and in a browser (navigator.gpu). Everything above this file is environment-agnostic.
//
// Adapter choice in Node: a hardware core adapter first (Vulkan on Linux, Metal, D3D12),
// then OpenGL compat (the stock Mesa llvmpipe runs it with no install at all), then a
// software core adapter such as lavapipe (slower than llvmpipe's GL here). GRADVAR_BACKEND
// forces one: vulkan | opengl | opengles | metal | d3d12 | null. `null` validates shaders
// and pipelines but executes nothing.

import { GpuError } from './errors.ts';

export type Backend = 'vulkan' | 'opengl' | 'opengles' | 'metal' | 'd3d12' | 'null' | 'browser';
export const NODE_BACKENDS: readonly Backend[] = ['vulkan', 'opengl', 'opengles', 'metal', 'd3d12', 'null'];

export interface Gpu {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly backend: Backend;
  readonly featureLevel: 'core' | 'compatibility';
  readonly info: GPUAdapterInfo;
  /** Set once the device is lost; every later submit throws a 'device-lost' GpuError. */
  lostReason: string | null;
  /** First error raised outside any error scope (e.g. by a queue write), not yet reported. */
  uncaptured: string | null;
  destroy(): void;
}

export interface GpuOptions {
  /** Force a backend (Node only); default: GRADVAR_BACKEND, else the best available. */
  backend?: Backend;
}

/** Limits we ask for explicitly. Kernels fit WebGPU's defaults; buffer sizes are raised to
 *  what the adapter allows because parameter and activation buffers can exceed 128 MiB. */
function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const a = adapter.limits;
  return {
    maxBufferSize: a.maxBufferSize,
    maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
    maxStorageBuffersPerShaderStage: Math.min(a.maxStorageBuffersPerShaderStage, 8),
    maxComputeInvocationsPerWorkgroup: Math.min(a.maxComputeInvocationsPerWorkgroup, 256),
    maxComputeWorkgroupSizeX: Math.min(a.maxComputeWorkgroupSizeX, 256),
    maxComputeWorkgroupSizeY: Math.min(a.maxComputeWorkgroupSizeY, 256),
    maxComputeWorkgroupStorageSize: Math.min(a.maxComputeWorkgroupStorageSize, 16384),
  };
}

async function deviceFrom(adapter: GPUAdapter, backend: Backend): Promise<Gpu> {
  const features: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) features.push('timestamp-query');
  const device = await adapter.requestDevice({
    label: `gradvar:${backend}`,
    requiredLimits: requiredLimits(adapter),
    requiredFeatures: features,
  });
  const gpu: Gpu = {
    device,
    adapter,
    backend,
    featureLevel: adapter.features.has('core-features-and-limits') ? 'core' : 'compatibility',
    info: adapter.info,
    lostReason: null,
    uncaptured: null,
    destroy: () => device.destroy(),
  };
  device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
    gpu.uncaptured ??= ev.error.message;
  };
  device.lost.then((info) => {
    gpu.lostReason = info.reason === 'destroyed' ? 'the device was destroyed (Gpu.destroy() was called)' : `device lost: ${info.message || info.reason}`;
  });
  return gpu;
}

/** Reads GRADVAR_BACKEND (Node) and checks it names a backend. */
export function backendFromEnv(): Backend | undefined {
  const env = typeof process !== 'undefined' ? process.env?.GRADVAR_BACKEND : undefined;
  if (!env || env === 'auto') return undefined;
  if (!(NODE_BACKENDS as readonly string[]).includes(env)) {
    throw new GpuError('no-adapter', `GRADVAR_BACKEND='${env}' is not one of ${NODE_BACKENDS.join(', ')}, auto`);
  }
  return env as Backend;
}

export async function requestGpu(opts: GpuOptions = {}): Promise<Gpu> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) {
    if (!nav?.gpu) {
      throw new GpuError('no-adapter', 'this browser has no navigator.gpu (WebGPU disabled or unsupported)');
    }
    const adapter =
      (await nav.gpu.requestAdapter({ powerPreference: 'high-performance' })) ??
      (await nav.gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions));
    if (!adapter) throw new GpuError('no-adapter', 'navigator.gpu.requestAdapter() returned null');
    return deviceFrom(adapter, 'browser');
  }
  const { nodeAdapter } = await import('./node_adapter.ts');
  const { adapter, backend } = await nodeAdapter(opts.backend ?? backendFromEnv());
  return deviceFrom(adapter, backend);
}

/** A one-line description of the adapter for logs and `gradvar doctor`. */
export function describeGpu(gpu: Gpu): string {
  const i = gpu.info;
  const name = [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(' ');
  return `${gpu.backend} (${gpu.featureLevel}) ${name || 'unknown adapter'}`;
}
