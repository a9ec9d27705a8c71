// matmul: C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C  (+ bias[N]) (then ReLU)
//
// Transposes are strides, so one body serves C = A·B, Aᵀ·B and A·Bᵀ:
//   op(A)[m,k] = A[m*sA_m + k*sA_k]     A·B : sA_m = K, sA_k = 1     Aᵀ·B: sA_m = 1, sA_k = M
//   op(B)[k,n] = B[k*sB_k + n*sB_n]     A·B : sB_k = N, sB_n = 1     A·Bᵀ: sB_k = 1, sB_n = K
// All matrices are dense row-major f32; C has row stride N.
//
// Epilogue switches are override constants (one pipeline per combination, never per shape):
//   HAS_BIAS = 1 adds bias[n] to every row, RELU = 1 applies max(., 0) last.
// beta = 0 never reads C (so C may hold garbage or NaN beforehand, as in BLAS).
//
// Three entry points, all computing the same thing:
//
// matmul_vec4: the fast path, chosen per call (src/kernels/matmul.ts) when the dimension
// each operand is contiguous in is a multiple of 4. A and B are then read as
// array<vec4<f32>> (A4, B4 alias bindings 1 and 2; no entry point uses both views), one
// vec4 = four consecutive floats along that dimension:
//   A_VEC_K = 0: A stored K×M (Aᵀ·B),   a vec4 is A[k, m..m+3]  (needs M % 4 == 0)
//   A_VEC_K = 1: A stored M×K,          a vec4 is A[m, k..k+3]  (needs K % 4 == 0)
//   B_VEC_K = 0: B stored K×N,          a vec4 is B[k, n..n+3]  (needs N % 4 == 0)
//   B_VEC_K = 1: B stored N×K (A·Bᵀ),   a vec4 is B[n, k..k+3]  (needs K % 4 == 0)
// Each invocation owns an 8×8 block of C (16 vec4 accumulators) and, per k, reads 8 values
// of op(A) down a column (two vec4 along m) and 8 of op(B) along a row (two vec4 along n):
// 4 vector loads for 64 multiply-adds (the old 4×4 kernel needed 8 scalar loads for 16).
// An operand stored along m / n (A_VEC_K = 0, B_VEC_K = 0) is read straight from global
// memory. An operand stored along k is first staged, TILE_K k-steps at a time, in workgroup
// memory (As, Bs) re-laid out along m / n: each unit of staging reads a 4×4 block as four
// vec4 along k and writes it transposed as four vec4 along m / n; a barrier before and after
// the k-steps that read it. A workgroup of WG_X×WG_Y invocations owns an (8·WG_Y)×(8·WG_X)
// block; thread (x, y) → rows 8y .. 8y+7 and columns 8x .. 8x+7 of it, so the 8 invocations
// with the same y (one AVX2 vector on CPU drivers, adjacent lanes of a GPU warp) read the
// same As entries and neighbouring B vec4s. Rows and columns past the edge are clamped on
// load and never stored; k past K reads as zero so the inner loop has a constant trip count.
// Why this shape on CPU drivers (llvmpipe/lavapipe, Mesa 25): a buffer or workgroup load whose
// address is not a compile-time constant becomes a loop over the 8 SIMD lanes with a bounds
// check per component, a few cycles per float per lane, and that, not the arithmetic, is the
// cost. So loads per multiply-add are what to minimise: 8×8 per invocation with one k per
// step keeps 16 accumulators + 4 operands live (spills are tolerable); unrolling k by 4 with
// vec4 loads along k (more live values) measured slower, as did 4×4 blocks at any workgroup
// shape. On GPUs this is the usual 2-D register blocking with workgroup-memory staging.
//
// matmul_tiled: any strides and sizes (the fallback when a contiguous dimension is not a
// multiple of 4). Each invocation owns a 4×4 block (thread (x, y) of workgroup (gx, gy) →
// rows (gy*WG_Y + y)*4 .. +3, columns (gx*WG_X + x)*4 .. +3) and reads four scalars of op(A)
// and four of op(B) per k; no workgroup memory, no barriers.
//
// matmul_naive: one invocation per element of C, the plain triple loop: the GPU-side oracle.

struct Params {
  M: u32, N: u32, K: u32,
  sA_m: u32, sA_k: u32, sB_k: u32, sB_n: u32,
  alpha: f32, beta: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
// The same buffers as A and B, four floats per element (matmul_vec4 only).
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;

override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override HAS_BIAS: u32 = 0;
override RELU: u32 = 0;
override A_VEC_K: u32 = 1;
override B_VEC_K: u32 = 0;
override TILE_K: u32 = 16;

// matmul_vec4 only: the TILE_K-long k-slices of the operands that are stored along k,
// re-laid out along m / n (see stage_a, stage_b). 16 bytes × TILE_K × 2 × (WG_X + WG_Y) in
// all: 8 KiB at 8×8 and TILE_K 16, the 16 KiB limit at 16×16 and TILE_K 16.
var<workgroup> As: array<vec4<f32>, TILE_K * WG_Y * 2u>;
var<workgroup> Bs: array<vec4<f32>, TILE_K * WG_X * 2u>;

fn epilogue(m: u32, n: u32, acc: f32) -> f32 {
  var v = params.alpha * acc;
  if (params.beta != 0.0) { v += params.beta * C[m * params.N + n]; }
  if (HAS_BIAS != 0u) { v += bias[n]; }
  if (RELU != 0u) { v = max(v, 0.0); }
  return v;
}

// Copies the slice op(A)[m0 .. m0 + 4*WG_Y*2, k0 .. k0 + TILE_K] into As, re-laid out along
// m (A_VEC_K = 1 only: A is stored M×K and read as vec4 along k). One unit of work is a 4×4
// block: four vec4 loads (4 rows × 4 k), a register transpose, four vec4 stores (4 k × 4 rows).
// Rows past M are clamped (valid memory, never stored); k past K is stored as zeros, so the
// inner loop can always run TILE_K steps (a constant trip count the compiler unrolls).
fn stage_a(k0: u32, mq0: u32, li: u32) {
  let M = params.M; let K4 = params.K / 4u;
  let QA = WG_Y * 2u;
  for (var u = li; u < QA * (TILE_K / 4u); u += WG_X * WG_Y) {
    let q = u % QA; let kq = u / QA;
    let r = min(vec4<u32>((mq0 + q) * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(M - 1u)) * K4;
    let kc = min(k0 / 4u + kq, K4 - 1u);
    let t = transpose(mat4x4<f32>(A4[r.x + kc], A4[r.y + kc], A4[r.z + kc], A4[r.w + kc]));
    let live = k0 / 4u + kq < K4;
    for (var kk = 0u; kk < 4u; kk++) { As[(kq * 4u + kk) * QA + q] = select(vec4<f32>(0.0), t[kk], live); }
  }
}

// The same for op(B)[k0 .. k0 + TILE_K, n0 .. n0 + 4*WG_X*2] into Bs (B_VEC_K = 1 only).
fn stage_b(k0: u32, nq0: u32, li: u32) {
  let N = params.N; let K4 = params.K / 4u;
  let QB = WG_X * 2u;
  for (var u = li; u < QB * (TILE_K / 4u); u += WG_X * WG_Y) {
    let q = u % QB; let kq = u / QB;
    let c = min(vec4<u32>((nq0 + q) * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(N - 1u)) * K4;
    let kc = min(k0 / 4u + kq, K4 - 1u);
    let t = transpose(mat4x4<f32>(B4[c.x + kc], B4[c.y + kc], B4[c.z + kc], B4[c.w + kc]));
    let live = k0 / 4u + kq < K4;
    for (var kk = 0u; kk < 4u; kk++) { Bs[(kq * 4u + kk) * QB + q] = select(vec4<f32>(0.0), t[kk], live); }
  }
}

// Stores 4 consecutive outputs of row m from column n0, skipping the edge.
fn store4(m: u32, n0: u32, v: vec4<f32>) {
  if (m >= params.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n < params.N) { C[m * params.N + n] = epilogue(m, n, v[j]); }
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn matmul_vec4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = params.M; let N = params.N; let K = params.K;
  let M4 = M / 4u; let N4 = N / 4u;
  let QA = WG_Y * 2u; let QB = WG_X * 2u;
  let mq0 = wg.y * QA; let nq0 = wg.x * QB; // first row quad and column quad of the block
  let li = lid.y * WG_X + lid.x;
  // This invocation's rows: quads ya, ya + 1 of the block; columns: quads xb, xb + 1.
  let ya = 2u * lid.y; let xb = 2u * lid.x;
  // Quad offsets for operands read straight from global memory (clamped, never stored).
  let a0q = min(mq0 + ya, M4 - 1u); let a1q = min(mq0 + ya + 1u, M4 - 1u);
  let b0q = min(nq0 + xb, N4 - 1u); let b1q = min(nq0 + xb + 1u, N4 - 1u);
  // c_i / d_i: row 4*(mq0 + ya) + i of the 8×8 block, columns of quad xb / xb + 1.
  var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0); var c5 = vec4<f32>(0.0); var c6 = vec4<f32>(0.0); var c7 = vec4<f32>(0.0);
  var d0 = vec4<f32>(0.0); var d1 = vec4<f32>(0.0); var d2 = vec4<f32>(0.0); var d3 = vec4<f32>(0.0);
  var d4 = vec4<f32>(0.0); var d5 = vec4<f32>(0.0); var d6 = vec4<f32>(0.0); var d7 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < K; k0 += TILE_K) {
    if (A_VEC_K != 0u) { stage_a(k0, mq0, li); }
    if (B_VEC_K != 0u) { stage_b(k0, nq0, li); }
    if (A_VEC_K != 0u || B_VEC_K != 0u) { workgroupBarrier(); }
    for (var k = 0u; k < TILE_K; k++) {
      // a0, a1: op(A)[8 rows, k0 + k]; b0, b1: op(B)[k0 + k, 8 columns]; zero past K.
      let kk = k0 + k; let live = kk < K; let kr = min(kk, K - 1u);
      var a0: vec4<f32>; var a1: vec4<f32>; var b0: vec4<f32>; var b1: vec4<f32>;
      if (A_VEC_K != 0u) { a0 = As[k * QA + ya]; a1 = As[k * QA + ya + 1u]; }
      else {
        a0 = select(vec4<f32>(0.0), A4[kr * M4 + a0q], live); a1 = select(vec4<f32>(0.0), A4[kr * M4 + a1q], live);
      }
      if (B_VEC_K != 0u) { b0 = Bs[k * QB + xb]; b1 = Bs[k * QB + xb + 1u]; }
      else {
        b0 = select(vec4<f32>(0.0), B4[kr * N4 + b0q], live); b1 = select(vec4<f32>(0.0), B4[kr * N4 + b1q], live);
      }
      c0 += a0.x * b0; c1 += a0.y * b0; c2 += a0.z * b0; c3 += a0.w * b0;
      c4 += a1.x * b0; c5 += a1.y * b0; c6 += a1.z * b0; c7 += a1.w * b0;
      d0 += a0.x * b1; d1 += a0.y * b1; d2 += a0.z * b1; d3 += a0.w * b1;
      d4 += a1.x * b1; d5 += a1.y * b1; d6 += a1.z * b1; d7 += a1.w * b1;
    }
    if (A_VEC_K != 0u || B_VEC_K != 0u) { workgroupBarrier(); }
  }
  let row0 = (mq0 + ya) * 4u; let col0 = (nq0 + xb) * 4u;
  let cs = array<vec4<f32>, 8>(c0, c1, c2, c3, c4, c5, c6, c7);
  let ds = array<vec4<f32>, 8>(d0, d1, d2, d3, d4, d5, d6, d7);
  for (var i = 0u; i < 8u; i++) {
    store4(row0 + i, col0, cs[i]);
    store4(row0 + i, col0 + 4u, ds[i]);
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn matmul_tiled(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = params.M; let N = params.N; let K = params.K;
  let row0 = (wg.y * WG_Y + lid.y) * 4u;
  let col0 = (wg.x * WG_X + lid.x) * 4u;
  if (row0 >= M || col0 >= N) { return; }
  // Element offsets of the four rows of op(A) and the four columns of op(B), clamped.
  let a0 = min(row0, M - 1u) * params.sA_m; let a1 = min(row0 + 1u, M - 1u) * params.sA_m;
  let a2 = min(row0 + 2u, M - 1u) * params.sA_m; let a3 = min(row0 + 3u, M - 1u) * params.sA_m;
  let b0 = min(col0, N - 1u) * params.sB_n; let b1 = min(col0 + 1u, N - 1u) * params.sB_n;
  let b2 = min(col0 + 2u, N - 1u) * params.sB_n; let b3 = min(col0 + 3u, N - 1u) * params.sB_n;
  let sAk = params.sA_k; let sBk = params.sB_k;
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < K; k++) {
    let ak = k * sAk; let bk = k * sBk;
    let b = vec4<f32>(B[bk + b0], B[bk + b1], B[bk + b2], B[bk + b3]);
    acc0 += A[ak + a0] * b; acc1 += A[ak + a1] * b;
    acc2 += A[ak + a2] * b; acc3 += A[ak + a3] * b;
  }
  store4(row0, col0, acc0); store4(row0 + 1u, col0, acc1);
  store4(row0 + 2u, col0, acc2); store4(row0 + 3u, col0, acc3);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn matmul_naive(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m = gid.y; let n = gid.x;
  if (m >= params.M || n >= params.N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < params.K; k++) {
    acc += A[m * params.sA_m + k * params.sA_k] * B[k * params.sB_k + n * params.sB_n];
  }
  C[m * params.N + n] = epilogue(m, n, acc);
}
