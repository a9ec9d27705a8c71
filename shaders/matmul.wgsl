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
// matmul_tiled: each invocation owns a TM×4 block of C (TM = 4 rows by default), a
// workgroup of WG_X×WG_Y invocations owns (WG_Y*TM)×(WG_X*4). No shared memory and no
// barriers: on CPU adapters (llvmpipe, lavapipe, SwiftShader) invocations run as SIMD lanes
// and barriers split the program, which costs far more than the extra loads. Rows and
// columns past the edge are clamped on load (their values are never stored), so the k-loop
// has no branches. thread (x, y) of workgroup (gx, gy) → rows gy*WG_Y*4 + y*4 .. +3,
// columns gx*WG_X*4 + x*4 .. +3.
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

override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override HAS_BIAS: u32 = 0;
override RELU: u32 = 0;

fn epilogue(m: u32, n: u32, acc: f32) -> f32 {
  var v = params.alpha * acc;
  if (params.beta != 0.0) { v += params.beta * C[m * params.N + n]; }
  if (HAS_BIAS != 0u) { v += bias[n]; }
  if (RELU != 0u) { v = max(v, 0.0); }
  return v;
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
  let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let m = row0 + i;
    if (m >= M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = col0 + j;
      if (n < N) { C[m * N + n] = epilogue(m, n, accs[i][j]); }
    }
  }
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
