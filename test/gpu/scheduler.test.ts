// The scheduler: passes run in recorded order inside one submission, the uniform ring keeps
// each dispatch's params apart (also past its initial size), a repeated step allocates no
// buffers, pipelines or bind groups, and GPU-side errors come back naming the kernel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testGpu } from '../helpers/gpu.ts';
import { assertClose } from '../helpers/close.ts';
import { matmul, matmulKernel } from '../../src/kernels/matmul.ts';
import { matmulRef } from '../../src/reference/matmul.ts';
import { Rng } from '../../src/util/rng.ts';
import { GpuError } from '../../src/gpu/errors.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { packParams, type View } from '../../src/kernels/kernel.ts';

function put(sched: Scheduler, data: Float32Array): View {
  const v = sched.alloc(data.length);
  sched.upload(v, data);
  return v;
}

test('dependent passes in one submission run in recorded order', async () => {
  const { sched } = await testGpu();
  const rng = new Rng(21);
  const n = 9;
  const A = rng.uniformArray(n * n), B = rng.uniformArray(n * n);
  const vA = put(sched, A), vB = put(sched, B), v1 = sched.alloc(n * n), v2 = sched.alloc(n * n), v3 = sched.alloc(n * n);
  // v1 = A·B; v2 = v1·B; v3 = v2ᵀ·A — each reads the previous pass's output.
  matmul(sched, { A: vA, B: vB, C: v1 }, { M: n, N: n, K: n });
  matmul(sched, { A: v1, B: vB, C: v2 }, { M: n, N: n, K: n });
  matmul(sched, { A: v2, B: vA, C: v3 }, { M: n, N: n, K: n, transA: true });
  const got = await sched.read(v3);
  const r1 = matmulRef(A, B, null, { M: n, N: n, K: n });
  const r2 = matmulRef(r1, B, null, { M: n, N: n, K: n });
  const r3 = matmulRef(r2, A, null, { M: n, N: n, K: n, transA: true });
  assertClose(got, r3, { atol: 1e-4, rtol: 1e-4 }, 'chained products');
  for (const v of [vA, vB, v1, v2, v3]) sched.free(v);
});

test('600 dispatches in one submission keep their own params (ring grows)', async () => {
  const { sched } = await testGpu();
  // C_i = alpha_i · A·B with a different alpha per dispatch, accumulated with beta = 1:
  // C = (Σ alpha_i) A·B only if every dispatch saw its own alpha.
  const rng = new Rng(3);
  const M = 3, N = 5, K = 2;
  const A = rng.uniformArray(M * K), B = rng.uniformArray(K * N);
  const vA = put(sched, A), vB = put(sched, B), vC = sched.alloc(M * N);
  let sum = 0;
  for (let i = 0; i < 600; i++) {
    const alpha = (i % 7) - 3;
    sum += alpha;
    matmul(sched, { A: vA, B: vB, C: vC }, { M, N, K, alpha, beta: i === 0 ? 0 : 1 });
  }
  const got = await sched.read(vC);
  assertClose(got, matmulRef(A, B, null, { M, N, K, alpha: sum }), { atol: 1e-4, rtol: 1e-5 }, 'accumulated');
  for (const v of [vA, vB, vC]) sched.free(v);
});

test('a repeated step creates no buffers, pipelines or bind groups after warm-up', async () => {
  const { sched } = await testGpu();
  const rng = new Rng(4);
  const vA = put(sched, rng.uniformArray(64 * 48)), vB = put(sched, rng.uniformArray(48 * 40)), vC = sched.alloc(64 * 40), vD = sched.alloc(64 * 48);
  const step = () => {
    matmul(sched, { A: vA, B: vB, C: vC }, { M: 64, N: 40, K: 48, relu: true });
    matmul(sched, { A: vC, B: vB, C: vD }, { M: 64, N: 48, K: 40, transB: true });
    sched.submit();
  };
  step();
  await sched.read(vD);
  const pool0 = sched.pool.stats(), pipes0 = sched.pipelines.created, bgs0 = sched.bindGroupCount;
  for (let i = 0; i < 50; i++) {
    step();
    if (i % 10 === 9) await sched.read(vD);
  }
  assert.equal(sched.pool.stats().created, pool0.created, 'buffers created');
  assert.equal(sched.pool.stats().bytes, pool0.bytes, 'bytes held');
  assert.is(sched.pipelines.created, pipes0, 'pipelines created');
  assert.is(sched.bindGroupCount, bgs0, 'bind groups created');
  for (const v of [vA, vB, vC, vD]) sched.free(v);
});

test('a GPU-side validation error surfaces as one GpuError naming the kernel', async () => {
  const { sched } = await testGpu();
  // 32×32 = 1024 invocations per workgroup exceeds the 256 we request: pipeline creation
  // fails on the GPU side, past every TypeScript check.
  const bad = { ...matmulKernel(), name: 'matmul_oversized_workgroup', overrides: { WG_X: 32, WG_Y: 32, HAS_BIAS: 0, RELU: 0 } };
  const v = sched.alloc(16);
  sched.record(bad, { A: sched.alloc(16), B: sched.alloc(16), bias: sched.dummy, C: v }, { M: 4, N: 4, K: 4, sA_m: 4, sA_k: 1, sB_k: 4, sB_n: 1, alpha: 1, beta: 0 });
  try {
    await sched.read(v);
    assert.unreachable('expected a GpuError');
  } catch (e) {
    assert.instance(e, GpuError);
    assert.is((e as GpuError).kind, 'validation');
    assert.match((e as Error).message, /matmul_oversized_workgroup/);
  }
  // the scheduler stays usable afterwards
  const rng = new Rng(1);
  const A = rng.uniformArray(4), B = rng.uniformArray(4);
  const a = put(sched, A), b = put(sched, B), c = sched.alloc(4);
  matmul(sched, { A: a, B: b, C: c }, { M: 2, N: 2, K: 2 });
  assertClose(await sched.read(c), matmulRef(A, B, null, { M: 2, N: 2, K: 2 }), {}, 'after error');
});

test('non-finite or mistyped params are rejected before the GPU', async () => {
  const { sched } = await testGpu();
  const a = sched.alloc(4), b = sched.alloc(4), c = sched.alloc(4);
  assert.throws(() => matmul(sched, { A: a, B: b, C: c }, { M: 2, N: 2, K: 2, alpha: NaN }), /param 'alpha' is NaN/);
  assert.throws(() => matmul(sched, { A: a, B: b, C: c }, { M: 1.5, N: 2, K: 2 }), /M must be a positive integer/);
  assert.throws(() => sched.record(matmulKernel(), { A: a, B: b, C: c }, { M: 1, N: 1, K: 1, sA_m: 1, sA_k: 1, sB_k: 1, sB_n: 1, alpha: 1, beta: 0 }), /binding 'bias' was not given/);
  assert.throws(() => sched.upload(a, new Float32Array(5)), /upload of 5 elements into a view of 4/);
  const dv = new DataView(new ArrayBuffer(64));
  const p = { M: 2 ** 32, N: 1, K: 1, sA_m: 1, sA_k: 1, sB_k: 1, sB_n: 1, alpha: 1, beta: 0 };
  assert.throws(() => packParams(matmulKernel(), p, dv, 0), /param 'M' must be a u32 in \[0, 4294967295\], got 4294967296/);
  for (const v of [a, b, c]) sched.free(v);
});

test('work recorded on a lost device fails with a device-lost GpuError', async () => {
  const { gpu: shared } = await testGpu();
  const gpu = await requestGpu({ backend: shared.backend });
  const sched = new Scheduler(gpu);
  const a = sched.alloc(4), b = sched.alloc(4), c = sched.alloc(4);
  gpu.destroy();
  await gpu.device.lost;
  try {
    matmul(sched, { A: a, B: b, C: c }, { M: 2, N: 2, K: 2 });
    assert.unreachable('expected device-lost');
  } catch (e) {
    assert.instance(e, GpuError);
    assert.is((e as GpuError).kind, 'device-lost');
  }
});

test.run();
