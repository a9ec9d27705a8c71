// Every kernel descriptor the engine can launch, in every configuration that changes the
// pipeline (entry point × override switches). The shader test compiles each of them and
// checks its bindings against the WGSL; a new family adds its descriptors here.
import type { Kernel } from './kernel.ts';
import { allMatmulKernels } from './matmul.ts';
import { elementwiseKernel } from './elementwise.ts';
import { reduceKernel } from './reduce.ts';
import { softmaxXentKernel, lanesFor } from './softmax_xent.ts';
import { sgdKernel } from './sgd.ts';
import { allGcKernels } from './gc.ts';
import { gvarKernel } from './gvar.ts';
import { augmentKernel } from './augment.ts';
import { allPoolKernels } from './pool.ts';
import { allResnetOpsKernels } from './resnet_ops.ts';
import { allBatchnormKernels } from './batchnorm.ts';

export function allKernels(): Kernel<any>[] {
  const ks: Kernel<any>[] = [];
  ks.push(...allMatmulKernels());
  for (const op of ['relu_forward', 'relu_backward', 'axpy', 'scale', 'fill', 'square'] as const) ks.push(elementwiseKernel(op));
  for (const op of ['colsum', 'rowsumsq', 'rowdot'] as const) ks.push(reduceKernel(op));
  // softmax_xent: with and without weights, at each lane count softmaxXent() picks from K.
  for (const weights of [false, true]) {
    for (const lanes of new Set([1, 128, 512].map(lanesFor))) ks.push(softmaxXentKernel({ weights, lanes }));
  }
  ks.push(sgdKernel());
  // gc: every entry point at the workgroup shape its call launches by default.
  ks.push(...allGcKernels());
  for (const op of ['gvar_moments', 'gvar_partials', 'abs_diff_partials'] as const) ks.push(gvarKernel(op));
  ks.push(augmentKernel());
  ks.push(...allPoolKernels(), ...allResnetOpsKernels(), ...allBatchnormKernels());
  return ks;
}
