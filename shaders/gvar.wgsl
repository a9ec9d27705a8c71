// gvar: the Monte Carlo variance statistics of SPEC 2.5 over one flat gradient vector of P
// parameters (every weight, bias and BN parameter of the model, D = P in the SPEC).
//
//   gvar_moments       S[j] += g[j]²,  V[j] += (E[j] − g[j])²             j < P
//       g: one draw g'^(r) of the estimator [P];  E: the n-draw mean estimate of loop 1 [P];
//       S, V: per-coordinate accumulators over the n draws of loop 2 [P] (zeroed by the host
//       before the first draw). After n draws S_j = Σ_r g'_j², V_j = Σ_r (E_j − g'_j)².
//   gvar_partials      per-workgroup partial sums over j of the four quantities
//       .x  V_j                                   → est_var   = ΣV / (n·D)
//       .y  V_j / (S_j + nvar_eps)                → est_nvar  = (1/D) Σ V/(S + 1e-7)
//       .z  log(S_j + log_eps) − log(V_j + log_eps) → est_snr = (1/D) Σ [...]   (eps 1e-10)
//       .w  S_j                                   → est_gnorm = ΣS / (n·D)
//   abs_diff_partials  per-workgroup partial sums over j of
//       .x  |a_j − b_j|   (grad_bias = mean_j |E_est − E_sgd|, SPEC 2.5)
//       .y  (a_j − b_j)²  .z  a_j²  .w  b_j²   (squared distances and norms, e.g. ||G||²)
//
// Partials layout: partials[4·g + q] holds quantity q of workgroup g, for g < groups (the
// dispatch's workgroup count, at most the host's maxGroups, so the buffer stays small).
// Why partials and not a full sum on the GPU: the host reads this one small buffer back once
// per log interval (it has to read the statistics anyway) and adds the `groups` rows in
// float64. A single f32 total over ~2M terms would lose digits (a serial f32 sum drifts by
// ~P·eps); here each f32 partial covers at most P/groups terms, split further into strided
// per-invocation runs and a balanced tree, so its relative error stays ~1e-6, and the final
// cross-group sum costs nothing in float64. No second reduction pass, no atomics, and the
// result is deterministic for a given (P, WG, groups).
//
// Thread mapping (all entry points): invocation t = (wg.y·groups.x + wg.x)·WG + lid.x.
//   gvar_moments: one invocation per element j = t (grid1d folds > 65535 groups into 2-D);
//     neighbouring invocations touch neighbouring words. Barrier-free.
//   *_partials: a 1-D grid of `groups` workgroups; invocation t sums j = t, t + T, t + 2T, ...
//     with T = groups·WG (a grid-stride loop, so every load of a step is coalesced), keeps
//     its four sums as one vec4 in workgroup memory, then a power-of-two tree (log2 WG
//     barriers) combines them; lane 0 stores the group's row. Invocations with no elements
//     run empty loops but still meet every barrier (uniform control flow).
//
// WG is a power of two ≤ 256 (the host checks): the tree needs it, and the 4 KiB vec4 array
// below is sized for 256 lanes.

struct Params {
  P: u32,
  // gvar_partials only: the SPEC's 1e-7 (nvar denominator) and 1e-10 (inside the logs)
  nvar_eps: f32,
  log_eps: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
// gvar_moments
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> E: array<f32>;
@group(0) @binding(3) var<storage, read_write> S: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;
// gvar_partials (S and V again, read-only: one module cannot declare a name twice)
@group(0) @binding(1) var<storage, read> S_in: array<f32>;
@group(0) @binding(2) var<storage, read> V_in: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
// abs_diff_partials
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;

override WG: u32 = 256;

// acc[lid]: the four running sums of lane lid, combined in place by the tree.
var<workgroup> acc: array<vec4<f32>, 256>;

@compute @workgroup_size(WG, 1, 1)
fn gvar_moments(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = (wg.y * groups.x + wg.x) * WG + lid.x;
  if (j >= params.P) { return; }
  let x = g[j];
  let d = E[j] - x;
  S[j] = S[j] + x * x;
  V[j] = V[j] + d * d;
}

// The tree over acc[0..WG) and the store of the group's row; every lane calls it.
fn combine_and_store(lane: u32, group: u32) {
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    workgroupBarrier();
    if (lane < s) { acc[lane] = acc[lane] + acc[lane + s]; }
  }
  if (lane == 0u) {
    let r = acc[0];
    partials[4u * group] = r.x;
    partials[4u * group + 1u] = r.y;
    partials[4u * group + 2u] = r.z;
    partials[4u * group + 3u] = r.w;
  }
}

@compute @workgroup_size(WG, 1, 1)
fn gvar_partials(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let stride = groups.x * WG;
  var sum = vec4<f32>(0.0);
  for (var j = wg.x * WG + lid.x; j < params.P; j += stride) {
    let s = S_in[j];
    let v = V_in[j];
    sum += vec4<f32>(v, v / (s + params.nvar_eps), log(s + params.log_eps) - log(v + params.log_eps), s);
  }
  acc[lid.x] = sum;
  combine_and_store(lid.x, wg.x);
}

@compute @workgroup_size(WG, 1, 1)
fn abs_diff_partials(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let stride = groups.x * WG;
  var sum = vec4<f32>(0.0);
  for (var j = wg.x * WG + lid.x; j < params.P; j += stride) {
    let x = a[j];
    let y = b[j];
    let d = x - y;
    sum += vec4<f32>(abs(d), d * d, x * x, y * y);
  }
  acc[lid.x] = sum;
  combine_and_store(lid.x, wg.x);
}
