// gc: Gradient Clustering's A-step and U-step (SPEC 1.1, 1.3, 1.5, 1.6) and per-example
// squared gradient norms for fully-connected layers, without ever forming a per-example
// gradient. For a Linear layer with input rows a_i (A [B, din]) and output-gradient rows δ_i
// (G [B, dout]) the per-example weight gradient is g_i = δ_i a_iᵀ; a centre is rank 1,
// C_k = d_k c_kᵀ (Ci [C, din] rows c_k, Co [C, dout] rows d_k), and
//   ||g_i − C_k||² = ||a_i||²·||δ_i||² − 2·<c_k, a_i>·<d_k, δ_i> + ||c_k||²·||d_k||².
// The host forms the dots P = A·Ciᵀ, Q = G·Coᵀ ([B, C], matmul) and the row norms (rowsumsq);
// what is left is pointwise or a short loop, done here. Memory (all dense row-major):
//   aa [B], gg [B]      ||a_i||², ||δ_i||²  of one layer
//   P, Q [B, C]         <c_k, a_i>, <d_k, δ_i>  of one layer
//   ci2, co2 [C]        ||c_k||², ||d_k||²  of one layer
//   dist [B, C]         Σ over layers of ||g_i − C_k||²
//   counts [C] f32      cluster sizes: the multiplier is m_k = counts[k] + 1
//   assign [B] u32      the chosen cluster of each example; best [B] its m_k·dist (quantised)
//   X [B, D], S [C, D]  per-example rows and their per-cluster sums
//
//   gc_dist_accum    dist[i,k] = beta·dist[i,k] + ci2[k]·co2[k] − 2·P[i,k]·Q[i,k] + aa[i]·gg[i]
//                    called once per layer (beta = 0 first, then 1): the code sums the terms
//                    over layers before the argmin, there are no per-layer clusters (SPEC 1.1).
//   gc_assign        assign[i] = argmin_k v[i,k], best[i] = min_k v[i,k] with
//                    v = (counts[k] + 1)·dist[i,k], then, if quant > 0, v = round(v/quant)·quant
//                    (the code's absolute eps_td quantisation, SPEC 7.3; WGSL round() is
//                    half-to-even, as torch.round). Ties go to the lowest k. NaN sorts after
//                    every number (+inf included), so a NaN entry never wins while any k has a
//                    number; a row that is all NaN gets k = 0 and best = NaN, which then shows
//                    in the per-cluster distortion. (torch.min instead returns a NaN's index.)
//   gc_count         counts[k] = beta·counts[k] + #{i : assign[i] = k}
//   gc_scatter       S[k,j] = beta·S[k,j] + scale·Σ_{i : assign[i] = k} X[i,j]
//                    (U-step sums Σ a_i/stable and Σ δ_i·stable; with D = 1, X = best: the
//                    per-cluster distortion)
//   pe_sqnorm_accum  out[i] = beta·out[i] + aa[i]·gg[i] + bias·gg[i]   (bias ∈ {0, 1}: the
//                    bias gradient of a Linear layer is δ_i, its squared norm ||δ_i||²)
// beta = 0 never reads the output (it may hold garbage or NaN, as in BLAS). An assign value
// ≥ C (e.g. 0xffffffff for "no cluster") is skipped by gc_count and gc_scatter.
//
// Thread mappings:
//   gc_dist_accum, pe_sqnorm_accum: one invocation per output element, e = g·WG + lid.x over
//     the flat [B, C] (or [B]) array (i = e / C, k = e % C), so neighbours touch neighbouring
//     words of P, Q and dist; the group index g = wg.y·groups.x + wg.x lets the host fold
//     more than 65535 groups into 2-D (grid1d). B·C passes 65535·256 at B = C = 4096.
//   gc_assign: WG_X lanes per row × WG_Y rows per workgroup; lane x scans k = x, x + WG_X, …
//     keeping its first minimum, then lane 0 combines the WG_X partials in lane order with the
//     same order (number < NaN, then value, then lower k), so the result does not depend on
//     the lane count. WG_X = 1 is the plain one-invocation-per-row loop.
//   gc_count: one invocation per cluster k, looping over all B assignments. Every invocation
//     reads the same assign[i] at the same step (a broadcast), owns its counts[k] alone, and
//     counts in a u32 register: no atomics, no races, exact and deterministic; B·C compares
//     (16 K at B = C = 128) cost less than one dispatch's overhead.
//   gc_scatter: one invocation per column j, looping over the B rows in order: only that
//     invocation ever touches column j of S, so S[assign[i], j] += scale·X[i, j] needs no
//     atomics, and each sum is taken in example order (deterministic). It does B·D + C·D
//     work, where a one-hot [B, C] matrix and a TN matmul would do 2·B·C·D (and need the
//     one-hot built first); measured in src/kernels/gc.ts.
//   Rows, columns and clusters past the edge return at once (no barrier follows), except in
//   gc_assign, where they run empty loops and meet the barrier.

struct Params {
  B: u32,      // examples (rows of dist, P, Q, X; length of aa, gg, assign, best, out)
  C: u32,      // clusters (columns of dist, P, Q; rows of S; length of counts, ci2, co2)
  D: u32,      // gc_scatter: row length of X and S
  bias: u32,   // pe_sqnorm_accum: 1 adds the bias gradient's ||δ_i||²
  beta: f32,   // out = beta·out + new; 0 never reads out
  scale: f32,  // gc_scatter: multiplies every X row
  quant: f32,  // gc_assign: absolute quantisation step; 0 = off
}

@group(0) @binding(0) var<uniform> params: Params;
// Binding numbers are re-used by different variables in different entry points (only the
// variables one entry point uses must have distinct bindings). A buffer that one entry point
// writes and another reads appears twice, the reading one with an `_in` suffix.
//   gc_dist_accum    1 aa  2 gg  3 P  4 Q  5 ci2  6 co2  7 dist (rw)
//   pe_sqnorm_accum  1 aa  2 gg  3 out (rw)
//   gc_assign        1 dist_in  2 counts_in  3 assign (rw)  4 best (rw)
//   gc_count         1 assign_in  2 counts (rw)
//   gc_scatter       1 assign_in  2 X  3 S (rw)
@group(0) @binding(1) var<storage, read> aa: array<f32>;
@group(0) @binding(2) var<storage, read> gg: array<f32>;
@group(0) @binding(3) var<storage, read> P: array<f32>;
@group(0) @binding(4) var<storage, read> Q: array<f32>;
@group(0) @binding(5) var<storage, read> ci2: array<f32>;
@group(0) @binding(6) var<storage, read> co2: array<f32>;
@group(0) @binding(7) var<storage, read_write> dist: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> dist_in: array<f32>;
@group(0) @binding(2) var<storage, read> counts_in: array<f32>;
@group(0) @binding(3) var<storage, read_write> assign: array<u32>;
@group(0) @binding(4) var<storage, read_write> best: array<f32>;
@group(0) @binding(1) var<storage, read> assign_in: array<u32>;
@group(0) @binding(2) var<storage, read_write> counts: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read_write> S: array<f32>;

// invocations per workgroup of the flat entry points
override WG: u32 = 256;
// gc_assign: lanes per row × rows per workgroup (≤ 256 together, the host checks)
override WG_X: u32 = 1;
override WG_Y: u32 = 64;

// gc_assign partials, slot y·WG_X + x: lane x's minimum of row y and its index.
var<workgroup> part_v: array<f32, 256>;
var<workgroup> part_k: array<u32, 256>;

const NO_INDEX: u32 = 0xffffffffu; // "no candidate yet": loses to every real one

fn flat(wg: vec3<u32>, groups: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.y * groups.x + wg.x) * WG + lid.x;
}

// NaN test on the bits: WGSL has no isNan, and `x != x` may be folded away by a compiler
// that assumes finite math. Exponent all ones with a non-zero mantissa.
fn is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// The A-step order: does candidate (v, k) come before (bv, bk)? A number before NaN, then the
// smaller value, then the lower index. bk = NO_INDEX (no candidate yet) comes after all.
fn before(v: f32, k: u32, bv: f32, bk: u32) -> bool {
  if (bk == NO_INDEX) { return k != NO_INDEX; }
  if (k == NO_INDEX) { return false; }
  let vn = is_nan(v);
  let bn = is_nan(bv);
  if (vn != bn) { return bn; }
  if (!vn && v != bv) { return v < bv; }
  return k < bk;
}

@compute @workgroup_size(WG, 1, 1)
fn gc_dist_accum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  let C = params.C;
  if (e >= params.B * C) { return; }
  let i = e / C;
  let k = e - i * C;
  // The parentheses around 2·P·Q are for wgsl_reflect (the shader test's parser): it lexes
  // `]-2.0`, which the minifier makes of `] - 2.0`, as `]` and a literal −2.0.
  var v = (ci2[k] * co2[k] - (2.0 * P[e] * Q[e])) + aa[i] * gg[i];
  if (params.beta != 0.0) { v += params.beta * dist[e]; }
  dist[e] = v;
}

@compute @workgroup_size(WG, 1, 1)
fn pe_sqnorm_accum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flat(wg, groups, lid);
  if (i >= params.B) { return; }
  let g = gg[i];
  var v = aa[i] * g;
  if (params.bias != 0u) { v += g; }
  if (params.beta != 0.0) { v += params.beta * out[i]; }
  out[i] = v;
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn gc_assign(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_id) lid: vec3<u32>) {
  let C = params.C;
  let q = params.quant;
  let i = (wg.y * groups.x + wg.x) * WG_Y + lid.y;
  let kEnd = select(0u, C, i < params.B);
  let row = i * C;
  // Scanning k upwards with a strict `before` keeps this lane's first minimum.
  var bv = 0.0;
  var bk = NO_INDEX;
  for (var k = lid.x; k < kEnd; k += WG_X) {
    var v = (counts_in[k] + 1.0) * dist_in[row + k];
    if (q > 0.0) { v = round(v / q) * q; }
    if (before(v, k, bv, bk)) { bv = v; bk = k; }
  }
  let slot = lid.y * WG_X;
  part_v[slot + lid.x] = bv;
  part_k[slot + lid.x] = bk;
  workgroupBarrier();
  if (lid.x != 0u || i >= params.B) { return; }
  for (var l = 1u; l < WG_X; l++) {
    let v = part_v[slot + l];
    let k = part_k[slot + l];
    if (before(v, k, bv, bk)) { bv = v; bk = k; }
  }
  assign[i] = bk;
  best[i] = bv;
}

@compute @workgroup_size(WG, 1, 1)
fn gc_count(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
  let k = flat(wg, groups, lid);
  if (k >= params.C) { return; }
  var n = 0u;
  for (var i = 0u; i < params.B; i++) {
    if (assign_in[i] == k) { n++; }
  }
  // f32 holds every count exactly up to 2^24 = 16,777,216.
  var v = f32(n);
  if (params.beta != 0.0) { v += params.beta * counts[k]; }
  counts[k] = v;
}

@compute @workgroup_size(WG, 1, 1)
fn gc_scatter(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = flat(wg, groups, lid);
  let C = params.C;
  let D = params.D;
  if (j >= D) { return; }
  for (var k = 0u; k < C; k++) {
    var s = 0.0;
    if (params.beta != 0.0) { s = params.beta * S[k * D + j]; }
    S[k * D + j] = s;
  }
  let scale = params.scale;
  for (var i = 0u; i < params.B; i++) {
    let k = assign_in[i];
    if (k < C) { S[k * D + j] += scale * X[i * D + j]; }
  }
}
