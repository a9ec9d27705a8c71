// Every kernel descriptor the engine can launch, in every configuration that changes the
// pipeline (entry point × override switches). The shader test compiles each of them and
// checks its bindings against the WGSL; a new family adds its descriptors here.
import type { Kernel } from './kernel.ts';
import { matmulKernel } from './matmul.ts';

export function allKernels(): Kernel<any>[] {
  const ks: Kernel<any>[] = [];
  for (const variant of ['tiled', 'naive'] as const) {
    for (const bias of [false, true]) {
      for (const relu of [false, true]) ks.push(matmulKernel({ variant, bias, relu }));
    }
  }
  return ks;
}
