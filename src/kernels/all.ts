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
import { allConvStatsKernels } from './conv_stats.ts';
import { allRfKernels } from './rf.ts';
import { allRfGcKernels } from './rf_gc.ts';
import { allConv2dKernels } from './conv2d.ts';

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
  // conv_stats: every entry point at its default workgroup size.
  ks.push(...allConvStatsKernels());
  // rf, rf_gc: many random-features students per dispatch, every entry point.
  ks.push(...allRfKernels(), ...allRfGcKernels());
  // conv2d: every entry point and forward epilogue at the default 8×8 workgroup.
  ks.push(...allConv2dKernels());
  return ks;
}
