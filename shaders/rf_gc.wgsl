// rf_gc: Gradient Clustering (SPEC 1.5, 1.6) of many random-features students at once, one
// workgroup per student. The clustered parameter is W2 (the bias is not clustered, SPEC 7.5);
// example i's gradient of the batch-mean loss is g_i = δ_i φ_iᵀ with δ_i = (s_i/B_i)·(1, −1)
// (B_i: the size of its batch in the pass, SPEC 7.4) and a centre is rank 1, C_k = d_k c_kᵀ, so
//   ||g_i − C_k||² = ||φ_i||²·||δ_i||² − 2·(c_k·φ_i)(d_k·δ_i) + ||c_k||²·||d_k||²
// with ||δ_i||² = 2 w², d_k·δ_i = w·(d_k0 − d_k1), w = s_i/B_i. s_i = p0 − q0 at the snapshot's
// θ comes from rf_coef (coefs[e], one per data entry), computed once per snapshot.
// Memory, vec4 units (H4 = H/4, H a multiple of 4, padded feature columns are 0):
//   phi4 [R, H4], data [E, 3] u32 (phi row, label, f32 bits of ||φ||²): as in shaders/rf.wgsl
//   centres4  c_k rows [M, C, H4], then d_k [M, C] as (d0, d1, 0, 0)
//   assign [E] u32: the cluster of every entry an A-pass visits
//   gcout [2·M·C]: per model and cluster the A-pass's total distortion, then its size
//   aux [M·C sizes N_k, then one 1/B_i per U-pass item]
//
//   rf_gc_assign  job (m, start, count, 0): model m's A-pass over the entries plan[start ..]
//                 in pass order, batches of B (the last one short): dist to every centre, then
//                 argmin_k of (n_k + 1)·dist with n_k the running count of this pass, updated
//                 after each whole batch as the original code does (SPEC 7.1), rounded to
//                 multiples of quant when quant > 0; writes assign[e], td and sizes.
//   rf_gc_update  job (m, start, count, s0), items (e, k) sorted by cluster: model m's U-pass,
//                 c_k = Σ φ_e / (stable·N_k), d_k = Σ stable·s_e·aux[M·C + s0 + b]·(1, −1) / N_k
//                 (max(N_k, 1): an empty cluster's centre becomes 0).
//
// Thread mappings: rf_gc_assign gives lane l the (example, cluster) pairs p = l, l + WG, ...
// of the batch, each a whole vec4 dot c_k·φ_i (no reduction across lanes); then lane i takes
// example i's argmin; lane 0 moves the counts. rf_gc_update gives lane l the vec4 columns
// q = l, l + WG, ... of every c_k (each written by one lane only; the sum over a cluster's
// items is in item order) and lane 0 the d_k. No workgroup reads what another writes.

struct Params {
  H: u32,      // features per row, a multiple of 4
  M: u32,      // models (rows of the centre tables)
  J: u32,      // jobs
  B: u32,      // rf_gc_assign pass batch
  C: u32,      // clusters
  E: u32,      // data entries (length of coefs and assign)
  stable: f32, // the U-pass rescaling (cancels; the code's 100)
  quant: f32,  // A-pass absolute quantisation; 0 = off
}

@group(0) @binding(0) var<uniform> params: Params;
// Storage bindings: rf_gc_assign  1 phi4 2 data 3 plan 4 coefs 5 centres4 6 assign 7 gcout
//                   rf_gc_update  1 phi4 2 data 3 plan 4 coefs 5 aux 6 centres_rw4
@group(0) @binding(1) var<storage, read> phi4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> data: array<u32>;
@group(0) @binding(3) var<storage, read> plan: array<u32>;
@group(0) @binding(4) var<storage, read> coefs: array<f32>;
@group(0) @binding(5) var<storage, read> centres4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> aux: array<f32>;
@group(0) @binding(6) var<storage, read_write> assign: array<u32>;
@group(0) @binding(6) var<storage, read_write> centres_rw4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> gcout: array<f32>;

override WG: u32 = 16;

// Per example of the batch: feature row (then its chosen cluster), w = s/B_i, ||φ||², best value.
var<workgroup> w_row: array<u32, 64>;
var<workgroup> w_s: array<f32, 64>;
var<workgroup> w_sq: array<f32, 64>;
var<workgroup> w_best: array<f32, 64>;
// [B, C] distances of the batch; per cluster: running count, ||c||²·||d||², d0 − d1, distortion.
var<workgroup> g_dist: array<f32, 1024>;
var<workgroup> g_cnt: array<f32, 64>;
var<workgroup> g_cc: array<f32, 64>;
var<workgroup> g_dd: array<f32, 64>;
var<workgroup> g_td: array<f32, 64>;

const NO_INDEX: u32 = 0xffffffffu; // "no candidate yet": loses to every real one

fn group_index(wg: vec3<u32>, groups: vec3<u32>) -> u32 { return wg.y * groups.x + wg.x; }
fn row_of(e: u32) -> u32 { return data[3u * e]; }

// NaN test on the bits (WGSL has no isNan; `x != x` may be folded away).
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }

// The A-step order of shaders/gc.wgsl: a number before NaN, then the smaller value, then the lower k.
fn before(v: f32, k: u32, bv: f32, bk: u32) -> bool {
  if (bk == NO_INDEX) { return true; }
  let vn = is_nan(v);
  let bn = is_nan(bv);
  if (vn != bn) { return bn; }
  if (!vn && v != bv) { return v < bv; }
  return k < bk;
}

@compute @workgroup_size(WG, 1, 1)
fn rf_gc_assign(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let live = group_index(wg, groups) < params.J;
  let j = min(group_index(wg, groups), params.J - 1u);
  let H4 = params.H / 4u;
  let C = params.C;
  let m = plan[4u * j];
  let start = plan[4u * j + 1u];
  let count = plan[4u * j + 2u];
  let cb = m * C * H4;
  let db = params.M * C * H4 + m * C;
  let lane = lid.x;
  for (var k = lane; k < C; k += WG) {
    var c2 = 0.0;
    for (var q = 0u; q < H4; q++) { let v = centres4[cb + k * H4 + q]; c2 += dot(v, v); }
    let d = centres4[db + k];
    g_cc[k] = c2 * (d.x * d.x + d.y * d.y);
    g_dd[k] = d.x - d.y;
    g_cnt[k] = 0.0;
    g_td[k] = 0.0;
  }
  workgroupBarrier();
  for (var b0 = 0u; b0 < count; b0 += params.B) {
    let nb = min(params.B, count - b0);
    for (var i = lane; i < nb; i += WG) {
      let e = plan[start + b0 + i];
      w_row[i] = row_of(e);
      w_s[i] = coefs[e] / f32(nb);
      w_sq[i] = bitcast<f32>(data[3u * e + 2u]);
    }
    workgroupBarrier();
    for (var p = lane; p < nb * C; p += WG) {
      let i = p / C;
      let k = p - i * C;
      let rb = w_row[i] * H4;
      var dot4 = 0.0;
      for (var q = 0u; q < H4; q++) { dot4 += dot(centres4[cb + k * H4 + q], phi4[rb + q]); }
      let w = w_s[i];
      g_dist[p] = (w_sq[i] * 2.0 * w * w - (2.0 * dot4 * w * g_dd[k])) + g_cc[k];
    }
    workgroupBarrier();
    for (var i = lane; i < nb; i += WG) {
      var bv = 0.0;
      var bk = NO_INDEX;
      for (var k = 0u; k < C; k++) {
        var v = (g_cnt[k] + 1.0) * g_dist[i * C + k];
        if (params.quant > 0.0) { v = round(v / params.quant) * params.quant; }
        if (before(v, k, bv, bk)) { bv = v; bk = k; }
      }
      if (live) { assign[plan[start + b0 + i]] = bk; }
      w_best[i] = bv;
      w_row[i] = bk;
    }
    workgroupBarrier();
    if (lane == 0u) {
      for (var i = 0u; i < nb; i++) { g_cnt[w_row[i]] += 1.0; g_td[w_row[i]] += w_best[i]; }
    }
    workgroupBarrier();
  }
  if (live) {
    for (var k = lane; k < C; k += WG) {
      gcout[m * C + k] = g_td[k];
      gcout[params.M * C + m * C + k] = g_cnt[k];
    }
  }
}

@compute @workgroup_size(WG, 1, 1)
fn rf_gc_update(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = group_index(wg, groups);
  if (j >= params.J) { return; }
  let H4 = params.H / 4u;
  let C = params.C;
  let MC = params.M * C;
  let m = plan[4u * j];
  let start = plan[4u * j + 1u];
  let count = plan[4u * j + 2u];
  let s0 = plan[4u * j + 3u];
  let cb = m * C * H4;
  let db = MC * H4 + m * C;
  for (var q = lid.x; q < H4; q += WG) {
    for (var k = 0u; k < C; k++) { centres_rw4[cb + k * H4 + q] = vec4<f32>(0.0); }
    if (count == 0u) { continue; }
    var acc = vec4<f32>(0.0);
    var cur = plan[start + 1u];
    for (var b = 0u; b < count; b++) {
      let k = plan[start + 2u * b + 1u];
      if (k != cur) {
        centres_rw4[cb + cur * H4 + q] += acc / (params.stable * max(aux[m * C + cur], 1.0));
        acc = vec4<f32>(0.0);
        cur = k;
      }
      acc += phi4[row_of(plan[start + 2u * b]) * H4 + q];
    }
    centres_rw4[cb + cur * H4 + q] += acc / (params.stable * max(aux[m * C + cur], 1.0));
  }
  if (lid.x == 0u) {
    for (var k = 0u; k < C; k++) { centres_rw4[db + k] = vec4<f32>(0.0); }
    for (var b = 0u; b < count; b++) {
      let k = plan[start + 2u * b + 1u];
      let v = coefs[plan[start + 2u * b]] * aux[MC + s0 + b] * params.stable / max(aux[m * C + k], 1.0);
      centres_rw4[db + k] += vec4<f32>(v, -v, 0.0, 0.0);
    }
  }
}
