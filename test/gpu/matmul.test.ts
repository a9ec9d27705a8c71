import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectPass, testGpu } from '../helpers/gpu.ts';
import { matmulCheck, type MatmulCase } from '../../src/checks/matmul.ts';
import { matmul, matmulPlan, matmulKernel, matmulStrides, vec4Layout } from '../../src/kernels/matmul.ts';
import { closeReport } from '../../src/util/close.ts';
import { dotTol } from '../../src/checks/check.ts';
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
const layouts: Array<[boolean, boolean]> = [[false, false], [true, false], [false, true]];
for (const variant of ['tiled', 'naive', 'auto'] as const) {
  for (const [transA, transB] of layouts) {
    for (const s of odd) {
      const c: MatmulCase = { ...s, transA, transB, variant };
      const check = matmulCheck(c, s.M * 7 + s.N);
      test(check.name, () => expectPass(check));
    }
  }
}
// The vec4 path needs the dimension each operand is contiguous in to be a multiple of 4
// (NN: K, N; TN: M, N; NT: K; TT: M, K); every other size stays odd and off the 32×32 tile.
const vec4Sizes: Record<string, Array<Pick<MatmulCase, 'M' | 'N' | 'K'>>> = {
  NN: [{ M: 1, N: 4, K: 4 }, { M: 37, N: 28, K: 52 }, { M: 5, N: 132, K: 8 }, { M: 67, N: 4, K: 100 }],
  TN: [{ M: 4, N: 4, K: 1 }, { M: 36, N: 28, K: 53 }, { M: 8, N: 132, K: 7 }, { M: 68, N: 4, K: 101 }],
  NT: [{ M: 1, N: 1, K: 4 }, { M: 37, N: 29, K: 52 }, { M: 5, N: 130, K: 8 }, { M: 67, N: 3, K: 100 }],
  TT: [{ M: 4, N: 1, K: 4 }, { M: 36, N: 29, K: 52 }, { M: 68, N: 3, K: 8 }],
};
for (const variant of ['vec4', 'auto'] as const) {
  for (const [t, sizes] of Object.entries(vec4Sizes)) {
    for (const s of sizes) {
      const c: MatmulCase = { ...s, transA: t[0] === 'T', transB: t[1] === 'T', variant };
      const check = matmulCheck(c, s.M * 5 + s.K);
      test(check.name, () => expectPass(check));
    }
  }
}
for (const c of [
  { M: 37, N: 28, K: 52, bias: true, variant: 'vec4' },
  { M: 36, N: 28, K: 53, transA: true, bias: true, relu: true, variant: 'vec4' },
  { M: 33, N: 65, K: 20, transB: true, bias: true, relu: true, variant: 'vec4' },
  { M: 20, N: 16, K: 40, transA: true, beta: 1, variant: 'vec4' },
  { M: 21, N: 20, K: 40, beta: 0.5, alpha: -2, variant: 'vec4' },
] satisfies MatmulCase[]) {
  const check = matmulCheck(c, 4);
  test(check.name, () => expectPass(check));
}
// The vec4 kernel at other workgroup shapes and k-tiles than the tuned one (the GPU row of
// MATMUL_TUNING among them), every layout, sizes off every block edge.
for (const [wgX, wgY, tileK] of [[16, 16, 16], [8, 4, 32], [4, 8, 8], [16, 8, 4]]) {
  for (const [t, s] of [['NN', { M: 37, N: 28, K: 52 }], ['TN', { M: 36, N: 132, K: 53 }], ['NT', { M: 67, N: 29, K: 100 }], ['TT', { M: 36, N: 29, K: 52 }]] as const) {
    const transA = t[0] === 'T', transB = t[1] === 'T';
    test(`matmul_vec4 wg${wgX}x${wgY} tileK=${tileK} ${t} M=${s.M} N=${s.N} K=${s.K} bias relu beta`, async () => {
      const { sched } = await testGpu();
      const rng = new Rng(s.M + tileK);
      const a = rng.uniformArray(s.M * s.K), b = rng.uniformArray(s.K * s.N), c0 = rng.uniformArray(s.M * s.N), bias = rng.uniformArray(s.N);
      const p = { ...s, ...matmulStrides({ ...s, transA, transB }), alpha: 0.5, beta: 2 };
      const k = matmulKernel({ variant: 'vec4', bias: true, relu: true, wgX, wgY, tileK, ...vec4Layout(p)! });
      const [A, B, C, bv] = [a, b, c0, bias].map((x) => { const v = sched.alloc(x.length); sched.upload(v, x); return v; });
      sched.record(k, { A4: A, B4: B, C, bias: bv }, p);
      const got = await sched.read(C);
      for (const v of [A, B, C, bv]) sched.free(v);
      const want = matmulRef(a, b, c0, { ...s, transA, transB, alpha: 0.5, beta: 2, bias, relu: true });
      const bad = closeReport(got, want, dotTol(s.K));
      if (bad) throw new Error(bad);
    });
  }
}
test('matmul picks vec4 exactly when the contiguous dimensions are multiples of 4', () => {
  const pick = (a: Parameters<typeof matmulPlan>[0]) => {
    const p = matmulPlan(a);
    return p.variant === 'vec4' ? `vec4_${p.aVecK ? 'k' : 'm'}${p.bVecK ? 'k' : 'n'}` : p.variant;
  };
  assert.is(pick({ M: 3, N: 8, K: 12 }), 'vec4_kn');
  assert.is(pick({ M: 3, N: 8, K: 13 }), 'tiled');
  assert.is(pick({ M: 3, N: 9, K: 12 }), 'tiled');
  assert.is(pick({ M: 8, N: 8, K: 13, transA: true }), 'vec4_mn');
  assert.is(pick({ M: 9, N: 8, K: 12, transA: true }), 'tiled');
  assert.is(pick({ M: 3, N: 9, K: 12, transB: true }), 'vec4_kk');
  assert.is(pick({ M: 3, N: 9, K: 10, transB: true }), 'tiled');
  assert.is(pick({ M: 8, N: 9, K: 12, transA: true, transB: true }), 'vec4_mk');
  assert.is(pick({ M: 3, N: 8, K: 12, variant: 'tiled' }), 'tiled');
  assert.throws(() => pick({ M: 3, N: 8, K: 13, variant: 'vec4' }), /multiple of 4/);
});
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
// Large cases at the paper MLP's shapes (B=128): forward NT, dX = dY·W (NN), dW = dYᵀ·X (TN).
for (const c of [
  { M: 128, N: 1024, K: 1024, transB: true, bias: true, relu: true },
  { M: 128, N: 784, K: 1024 },
  { M: 1024, N: 784, K: 128, transA: true },
] satisfies MatmulCase[]) {
  const check = matmulCheck(c, 11);
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
  assert.throws(() => matmul(sched, { A: a, B: b, C: c }, { M: 4, N: 4, K: 4 }), /binding 'A4' holds 10 elements, these params need 16/);
  assert.throws(() => matmul(sched, { A: a, B: b, C: c }, { M: 4, N: 3, K: 3 }), /binding 'A' holds 10 elements, these params need 12/);
  const nn = { M: 4, N: 4, K: 4, sA_m: 4, sA_k: 1, sB_k: 4, sB_n: 1, alpha: 1, beta: 0 };
  assert.throws(() => sched.record(matmulKernel({ variant: 'vec4', aVecK: true, bVecK: true }), { A4: a, B4: b, C: c, bias: sched.dummy }, nn), /needs A stored M×K with K % 4 == 0 and B stored N×K/);
  assert.throws(() => matmul(sched, { A: a, B: b, C: c }, { M: 0, N: 1, K: 1 }), /M must be a positive integer/);
  assert.throws(() => matmul(sched, { A: a, B: b, C: a }, { M: 2, N: 2, K: 2 }), /share one GPUBuffer/);
  for (const v of [a, b, c]) sched.free(v);
});

test.run();
