// Node-only: adapters from Dawn (npm `webgpu`). Kept out of device.ts so the browser bundle
// never executes it (esbuild marks `webgpu` external).

import { GpuError } from './errors.ts';
import type { Backend } from './device.ts';

// Dawn aborts in ProcessEvents if the object returned by create() is garbage-collected while
// a device made from it lives (seen in 3 to 5 runs in 10). Every instance stays referenced
// here for the life of the process.
const liveInstances: GPU[] = [];

/** Candidates in order of preference: core feature level first, then OpenGL compat. */
function candidates(): Array<{ backend: Backend; featureLevel: 'core' | 'compatibility' }> {
  const core: Backend[] =
    process.platform === 'darwin' ? ['metal'] : process.platform === 'win32' ? ['d3d12', 'vulkan'] : ['vulkan'];
  return [
    ...core.map((backend) => ({ backend, featureLevel: 'core' as const })),
    { backend: 'opengl', featureLevel: 'compatibility' },
    { backend: 'opengles', featureLevel: 'compatibility' },
  ];
}

function featureLevelOf(backend: Backend): 'core' | 'compatibility' {
  return backend === 'opengl' || backend === 'opengles' ? 'compatibility' : 'core';
}

async function tryBackend(backend: Backend, featureLevel: 'core' | 'compatibility'): Promise<GPUAdapter | null> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, ... as in a browser
  // llvmpipe's EGL needs no display when asked for a surfaceless platform.
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const flags = [`backend=${backend}`];
  // Nanosecond timestamps on Vulkan (Dawn quantizes them by default).
  if (backend === 'vulkan') flags.push('disable-dawn-features=timestamp_quantization');
  const gpu = create(flags);
  liveInstances.push(gpu);
  return gpu.requestAdapter({ featureLevel } as GPURequestAdapterOptions);
}

const INSTALL_HINT =
  'No WebGPU adapter. On Debian/Ubuntu the OpenGL compat path needs Mesa (libegl1, libgl1-mesa-dri); ' +
  'for Vulkan core on a CPU install Mesa >= 24 lavapipe (Debian 12: bash scripts/setup_system.sh, which ' +
  'adds bookworm-backports and installs mesa-vulkan-drivers). On a GPU machine install the vendor driver ' +
  'and libvulkan1. GRADVAR_BACKEND=null gives a validation-only device.';

export async function nodeAdapter(forced?: Backend): Promise<{ adapter: GPUAdapter; backend: Backend }> {
  if (forced) {
    if (forced === 'browser') throw new GpuError('no-adapter', "backend 'browser' exists only in a page");
    const adapter = await tryBackend(forced, featureLevelOf(forced));
    if (!adapter) throw new GpuError('no-adapter', `GRADVAR_BACKEND=${forced} gave no adapter. ${INSTALL_HINT}`);
    return { adapter, backend: forced };
  }
  // A software core adapter (lavapipe reports isFallbackAdapter) is kept as a last resort:
  // on a CPU, llvmpipe through OpenGL compat runs our kernels faster (DESIGN section 7,
  // and scripts/bench/step_profile.ts), while a hardware core adapter always wins.
  let fallback: { adapter: GPUAdapter; backend: Backend } | null = null;
  for (const c of candidates()) {
    const adapter = await tryBackend(c.backend, c.featureLevel);
    if (!adapter) continue;
    if (!(adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter) return { adapter, backend: c.backend };
    fallback ??= { adapter, backend: c.backend };
  }
  if (fallback) return fallback;
  throw new GpuError('no-adapter', INSTALL_HINT);
}
