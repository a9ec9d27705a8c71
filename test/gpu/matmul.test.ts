import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { matmulCheck, type MatmulCase } from '../../src/checks/matmul.ts';
import { matmul } from '../../src/kernels/matmul.ts';
import { matmulRef, matmulBackwardRef } from '../../src/reference/matmul.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { Rng } from '../../src/util/rng.ts';

// Odd sizes that are not multiples of the 32×32 workgroup tile nor of 4.
const odd: Array<Pick<MatmulCase, 'M' | 'N' | 'K'>> = [
  { M: 1, N: 1, K: 1 },
  { M: 37, N: 29, K: 53 },
  { M: 5, N: 130, K: 7 },
  { M: 67, N: 3, K: 101 },
];
for (const variant of ['tiled', 'naive'] as const) {
  for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
    for (const s of odd) {
      const c: MatmulCase = { ...s, transA, transB, variant };
      const check = matmulCheck(c, s.M * 7 + s.N);
      test(check.name, () => expectPass(check));
    }
  }
}
for (const c of [
  { M: 37, N: 29, K: 53, bias: true },
  { M: 37, N: 29, K: 53, bias: true, relu: true },
  { M: 33, N: 65, K: 17, transB: true, bias: true, relu: true },
  { M: 21, N: 19, K: 40, transA: true, beta: 1 },
  { M: 21, N: 19, K: 40, beta: 0.5, alpha: -2 },
  { M: 19, N: 23, K: 9, relu: true, variant: 'naive' as const, bias: true },
] satisfies MatmulCase[]) {
  const check = matmulCheck(c, 3);
  test(check.name, () => expectPass(check));
}
// One large case at the paper MLP's shapes (B=128 → 1024 from 1024 inputs, NT as in the forward).
{
  const check = matmulCheck({ M: 128, N: 1024, K: 1024, transB: true, bias: true, relu: true }, 11);
  test(`${check.name} (large)`, () => expectPass(check));
}

test('matmul backward reference matches central finite differences', () => {
  const rng = new Rng(5);
  for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
    const M = 4, N = 3, K = 5;
    const A = Array.from(rng.uniformArray(M * K), Number);
    const B = Array.from(rng.uniformArray(K * N), Number);
    const dC = Array.from(rng.uniformArray(M * N), Number);
    const loss = (a: number[], b: number[]) => {
      const C = matmulRef(a, b, null, { M, N, K, transA, transB });
      return C.reduce((s, c, i) => s + c * dC[i], 0);
    };
    const { dA, dB } = matmulBackwardRef(A, B, dC, { M, N, K, transA, transB });
    gradcheck((a) => loss(a, B), A, dA, `dA trans=${transA}${transB}`);
    gradcheck((b) => loss(A, b), B, dB, `dB trans=${transA}${transB}`);
  }
});

test('matmul rejects bad shapes and buffers before the GPU', async () => {
  const { sched } = await testGpu();
  const a = sched.alloc(10), b = sched.alloc(10), c = sched.alloc(10);
  assert.throws(() => matmul(sched, { A: a, B: b, C: c }, { M: 4, N: 4, K: 4 }), /binding 'A' holds 10 elements, these params need 16/);
  assert.throws(() => matmul(sched, { A: a, B: b, C: c }, { M: 0, N: 1, K: 1 }), /M must be a positive integer/);
  assert.throws(() => matmul(sched, { A: a, B: b, C: a }, { M: 2, N: 2, K: 2 }), /share one GPUBuffer/);
  for (const v of [a, b, c]) sched.free(v);
});

test.run();
