// Every kernel family's small, odd-sized checks: what `gradvar doctor` and the browser page
// run. Each family adds its cases here; the unit tests run larger and more varied ones.
import type { KernelCheck } from './check.ts';
import { matmulCheck } from './matmul.ts';

export function kernelChecks(): KernelCheck[] {
  const checks: KernelCheck[] = [];
  for (const variant of ['tiled', 'naive'] as const) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
      checks.push(matmulCheck({ M: 13, N: 7, K: 19, transA, transB, variant }, 1));
    }
  }
  checks.push(matmulCheck({ M: 9, N: 17, K: 5, transB: true, bias: true, relu: true }, 2));
  return checks;
}
