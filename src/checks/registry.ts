// Every kernel family's small, odd-sized checks: what `gradvar doctor` and the browser page
// run. Each family adds its cases here; the unit tests run larger and more varied ones.
import type { KernelCheck } from './check.ts';
import { matmulCheck } from './matmul.ts';
import { elementwiseCheck } from './elementwise.ts';
import { reduceCheck } from './reduce.ts';
import { softmaxXentCheck } from './softmax_xent.ts';
import { sgdCheck } from './sgd.ts';
import { gcCheck, gcLayerCheck } from './gc.ts';
import { gvarCheck, varianceStatsCheck } from './gvar.ts';
import { poolCheck } from './pool.ts';
import { resnetOpsCheck } from './resnet_ops.ts';
import { batchnormCheck } from './batchnorm.ts';
import { augmentCheck } from './augment.ts';
import { convChunkCheck, convLayerCheck, convUstepCheck } from './conv_stats.ts';
import { rfCheck } from './rf.ts';
import { rfGcCheck } from './rf_gc.ts';
import { conv2dCheck } from './conv2d.ts';

export function kernelChecks(): KernelCheck[] {
  const checks: KernelCheck[] = [];
  for (const variant of ['tiled', 'naive'] as const) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
      checks.push(matmulCheck({ M: 13, N: 7, K: 19, transA, transB, variant }, 1));
    }
  }
  checks.push(matmulCheck({ M: 9, N: 17, K: 5, transB: true, bias: true, relu: true }, 2));
  for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
    checks.push(matmulCheck({ M: 12, N: 8, K: 20, transA, transB, variant: 'vec4' }, 1));
  }
  for (const op of ['relu_forward', 'relu_backward', 'axpy', 'scale', 'fill', 'square'] as const) {
    checks.push(elementwiseCheck({ op, n: 301, a: op === 'relu_forward' || op === 'relu_backward' ? undefined : -0.75 }, 3));
  }
  checks.push(reduceCheck({ op: 'colsum', R: 13, Cc: 67, beta: 1 }, 4));
  checks.push(reduceCheck({ op: 'rowsumsq', R: 37, Cc: 19 }, 4));
  checks.push(reduceCheck({ op: 'rowdot', R: 37, Cc: 19, alpha: 2, beta: 1 }, 4));
  checks.push(softmaxXentCheck({ B: 13, K: 10, smoothing: 0.1, weights: true, ties: true }, 5));
  checks.push(softmaxXentCheck({ B: 7, K: 133, badRows: [3] }, 5));
  checks.push(sgdCheck({ n: 301, lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true }, 6));
  checks.push(sgdCheck({ n: 301, lr: 0.1, momentum: 0.9, dampening: 0.1 }, 6));
  for (const op of ['gvar_moments', 'gvar_partials', 'abs_diff_partials'] as const) checks.push(gvarCheck({ op, P: 301 }, 7));
  checks.push(varianceStatsCheck({ P: 301, n: 3 }, 7));
  // gc: each entry point at odd sizes, and the factored A-step against explicit gradients.
  checks.push(gcCheck({ op: 'gc_dist_accum', B: 37, C: 13, beta: 1 }, 7));
  checks.push(gcCheck({ op: 'gc_assign', B: 37, C: 13 }, 7));
  checks.push(gcCheck({ op: 'gc_assign', B: 37, C: 13, quant: 0.25, special: true }, 7));
  checks.push(gcCheck({ op: 'gc_count', B: 37, C: 13, beta: 1, special: true }, 7));
  checks.push(gcCheck({ op: 'gc_scatter', B: 37, C: 13, D: 29, beta: 1, scale: 0.01, special: true }, 7));
  checks.push(gcCheck({ op: 'pe_sqnorm_accum', B: 37, beta: 1, bias: true }, 7));
  checks.push(gcLayerCheck({ B: 9, C: 5, layers: [[7, 3], [3, 2]], bias: true }, 7));
  // augment: random offsets at odd sizes, then every extreme crop corner with and without a flip.
  checks.push(augmentCheck({ B: 3, C: 3, H: 9, W: 9, pad: 2 }, 8));
  checks.push(augmentCheck({ B: 9, C: 3, H: 7, W: 5, pad: 2, offsets: 'extremes' }, 8));
  // ResNet pieces: the two max pools (one with ties), the global average pool, the residual
  // add + ReLU, the option-A shortcut (accumulating backward) and BatchNorm in both modes.
  checks.push(poolCheck({ op: 'max', B: 2, Cch: 3, H: 11, W: 13, k: 3, s: 2, p: 1 }, 9));
  checks.push(poolCheck({ op: 'max', B: 3, Cch: 5, H: 9, W: 7, k: 2, s: 2, p: 0, ties: true }, 9));
  checks.push(poolCheck({ op: 'avg', B: 3, Cch: 5, H: 7, W: 7 }, 9));
  checks.push(resnetOpsCheck({ op: 'add_relu', n: 301, twoGrads: true }, 10));
  checks.push(resnetOpsCheck({ op: 'shortcut_a', B: 3, Cin: 5, H: 9, W: 7, pad: 2, beta: 1 }, 10));
  checks.push(batchnormCheck({ mode: 'train', B: 3, Cch: 5, H: 7, W: 9, relu: true }, 11));
  checks.push(batchnormCheck({ mode: 'eval', B: 3, Cch: 5, H: 7, W: 9, relu: true }, 11));
  // conv_stats: one chunk's unfold / per-example gradients / both GG contractions; two conv
  // layers' A-step terms and norms by each contraction against explicit gradients; U-step rows.
  checks.push(convChunkCheck({ layer: { Cin: 3, H: 9, W: 9, Cout: 5, kh: 3, kw: 3, stride: 2, pad: 1 }, B: 3, n0: 1, nb: 2 }, 12));
  for (const t of ['type1', 'type2'] as const) {
    const layers = [{ Cin: 3, H: 9, W: 9, Cout: 5, kh: 3, kw: 3, stride: 1, pad: 1 }, { Cin: 5, H: 7, W: 7, Cout: 6, kh: 3, kw: 3, stride: 2, pad: 1 }];
    checks.push(convLayerCheck({ layers, B: 3, C: 7, force: { cg: t, gg: t }, bias: true }, 12));
  }
  checks.push(convUstepCheck({ layer: { Cin: 3, H: 9, W: 9, Cout: 5, kh: 5, kw: 5, stride: 1, pad: 0 }, B: 3 }, 12));
  // rf, rf_gc: every entry point on a small random bank of several students.
  checks.push(rfCheck({ op: 'rf_sgd_step', H: 36, M: 3, B: 5, K: 2 }, 13), rfCheck({ op: 'rf_grad', H: 36, M: 3, J: 5, count: 3 }, 13));
  checks.push(rfCheck({ op: 'rf_coef', H: 36, M: 3, J: 9 }, 13), rfCheck({ op: 'rf_scatter', H: 36, M: 2, J: 3, count: 9, C: 3 }, 13));
  checks.push(rfCheck({ op: 'rf_gvar', H: 36, M: 1, J: 3, n: 3 }, 13));
  checks.push(rfGcCheck({ op: 'rf_gc_assign', H: 36, M: 3, per: 13, C: 3, B: 4 }, 13), rfGcCheck({ op: 'rf_gc_update', H: 36, M: 3, per: 13, C: 3 }, 13));
  // conv2d: forward with bias and ReLU, backward-input accumulating (beta 1) at stride 2,
  // backward-weight split in 2, bias gradient; odd sizes.
  const conv = { B: 3, Cin: 5, H: 9, W: 7, Cout: 6, kh: 3, kw: 3, pad: 1 };
  checks.push(conv2dCheck({ op: 'forward', ...conv, stride: 1, bias: true, relu: true }, 14));
  checks.push(conv2dCheck({ op: 'backward_input', ...conv, stride: 2, beta: 1 }, 14));
  checks.push(conv2dCheck({ op: 'backward_weight', ...conv, stride: 2, splits: 2 }, 14));
  checks.push(conv2dCheck({ op: 'bias_grad', ...conv, stride: 1, beta: 1 }, 14));
  return checks;
}
