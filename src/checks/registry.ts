// Every kernel family's small, odd-sized checks: what `gradvar doctor` and the browser page
// run. Each family adds its cases here; the unit tests run larger and more varied ones.
import type { KernelCheck } from './check.ts';
import { matmulCheck } from './matmul.ts';
import { elementwiseCheck } from './elementwise.ts';
import { reduceCheck } from './reduce.ts';
import { softmaxXentCheck } from './softmax_xent.ts';
import { sgdCheck } from './sgd.ts';

export function kernelChecks(): KernelCheck[] {
  const checks: KernelCheck[] = [];
  for (const variant of ['tiled', 'naive'] as const) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
      checks.push(matmulCheck({ M: 13, N: 7, K: 19, transA, transB, variant }, 1));
    }
  }
  checks.push(matmulCheck({ M: 9, N: 17, K: 5, transB: true, bias: true, relu: true }, 2));
  for (const op of ['relu_forward', 'relu_backward', 'axpy', 'scale', 'fill'] as const) {
    checks.push(elementwiseCheck({ op, n: 301, a: op === 'relu_forward' || op === 'relu_backward' ? undefined : -0.75 }, 3));
  }
  checks.push(reduceCheck({ op: 'colsum', R: 13, Cc: 67, beta: 1 }, 4));
  checks.push(reduceCheck({ op: 'rowsumsq', R: 37, Cc: 19 }, 4));
  checks.push(softmaxXentCheck({ B: 13, K: 10, smoothing: 0.1, weights: true, ties: true }, 5));
  checks.push(softmaxXentCheck({ B: 7, K: 133, badRows: [3] }, 5));
  checks.push(sgdCheck({ n: 301, lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true }, 6));
  checks.push(sgdCheck({ n: 301, lr: 0.1, momentum: 0.9, dampening: 0.1 }, 6));
  return checks;
}
