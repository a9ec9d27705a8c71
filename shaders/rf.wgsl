// rf: many random-features students at once (SPEC 3.5, 4.4). A student is a frozen ReLU
// feature map φ = relu(W1 x) followed by a trainable 2-class linear layer (W2 [2, H], b2 [2]).
// Every example's features are computed once (matmul) into `phi`, so a student is a linear
// classifier on rows of phi, and for 2-class cross-entropy (with any label smoothing: the
// target q sums to 1) the logit gradient of example i is s_i·(1, −1) with
//   s_i = p0_i − q0_i,  p0 = sigmoid(zd),  zd = z0 − z1 = (W2[0] − W2[1])·φ_i + (b0 − b1),
// so its parameter gradient is s_i·(φ_i, −φ_i, 1, −1). Gradients are kept in that REDUCED form
// r = (u [H], σ), u = Σ c_i φ_i, σ = Σ c_i; the full one is (u, −u, σ, −σ). Mirrored
// coordinates have equal squares, so per-coordinate statistics over the D = 2H + 2 parameters
// equal those over the H + 1 reduced ones, and squared norms are twice theirs.
//
// H is a multiple of 4 (the host pads features with zero columns; padded parameters and
// reduced coordinates stay exactly 0 and add nothing to any sum) and everything is read as
// vec4: on CPU adapters a load costs per instruction and lane, so vec4 loads are ~2× faster
// (measured on llvmpipe, rf_sgd_step at H = 1000, B = 10: 150 → 75 µs per model-step).
// Memory, in vec4 units (H4 = H/4, PS4 = 2·H4 + 1, RS4 = H4 + 1):
//   phi4   [R, H4]       feature rows, shared by every student whose data uses them
//   data   [E, 3] u32    one entry e per example of some student's train or test set:
//                        (phi row, label, f32 bits of ||φ_row||²); a duplicate is an entry
//                        with the same phi row
//   theta4 [M, PS4]      per model: W2[0] [H4], W2[1] [H4], (b0, b1, 0, 0)
//   snap4  [M, PS4] then [M, RS4]   SVRG: every model's snapshot θ̃, then its μ (reduced)
//   out4, sums4 [.., RS4]           reduced gradients: u [H4], then (σ, 0, 0, 0)
//   plan   u32           jobs [J, 4] then items (see each entry point)
//
// Entry points (one WORKGROUP per job unless said otherwise):
//   rf_sgd_step  job = model m: K SGD steps in one dispatch, step k on the B entries
//                plan[item0 + (k·M + m)·B ..]: mean CE, weight decay wd on W2 and b2 (torch's
//                weight_decay), momentum 0, learning rate lrs[m]; stats[2m] += the batch's
//                mean loss, stats[2m + 1] += its accuracy.
//   rf_grad      job (m, start, count, svrg) over entries plan[start ..]:
//                out[j] = base + (1/count)·Σ_b c_b·(φ_b, 1), c_b = wts[item]·(s_b(θ) − svrg·s_b(θ̃)),
//                base = svrg ? μ_m : 0. One draw of SG-B, SG-2B (w = 1), GC (w = M·N_k/N) or SVRG.
//   rf_coef      ONE INVOCATION per item (m, e) of plan: coef[e] = s_e, coef[E + e] = loss_e,
//                coef[2E + e] = correct_e under model m's θ (bind the snapshot for θ̃).
//   rf_scatter   job (start, count, row0, scale bits), items (e, k): sums row (row0 + k) +=
//                scale·coefs[e]·(φ_e, 1). The host zeroes sums. Full gradients, cluster sums.
//   rf_gvar      job = 2n consecutive draws of one (model, estimator): SPEC 2.5's sums
//                [ΣV, ΣV/(S + nvar_eps), Σ log(S + log_eps) − log(V + log_eps), ΣS] over the
//                coordinates (E from draws 0..n−1, S and V over draws n..2n−1).
//
// Thread mapping: a job has few rows (a batch of 10–20) that are long (H ≈ 1000), and one
// output vector over h. Lane l owns the vec4 columns q = l, l + WG, ...: phase 1 adds up each
// row's partial dot over its columns (W2[0] − W2[1] of those columns kept in registers), the
// WG partials of a row meet in `red` and one lane adds them in lane order (deterministic);
// phase 2 accumulates Σ_b c_b φ_b over its own columns and writes them (no atomics: every
// output has one owner). A workgroup reads nothing another writes, so a model's trajectory
// does not depend on which other models share the dispatch. Rows beyond RED/(2·WG) per job
// are taken in chunks. rf_coef is one long dot per invocation (items are many, independent).

struct Params {
  H: u32,      // features per row, a multiple of 4
  M: u32,      // models in the bank (theta rows)
  J: u32,      // jobs, or items for rf_coef
  B: u32,      // rf_sgd_step batch
  E: u32,      // entries of the data table (rf_coef's output stride)
  K: u32,      // rf_sgd_step: steps in this dispatch
  n: u32,      // rf_gvar: draws per loop
  item0: u32,  // rf_sgd_step: offset of this dispatch's items in plan
  wd: f32,     // weight decay
  eps: f32,    // label smoothing: q0 = 1 − eps for label 0, eps for label 1
  nvar_eps: f32,
  log_eps: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Storage bindings per entry point (consecutive from 1; a number is re-used by different
// variables in different entry points):
//   rf_sgd_step  1 phi4 2 data 3 plan 4 theta_rw4 5 lrs 6 stats
//   rf_grad      1 phi4 2 data 3 plan 4 theta4 5 snap4 6 wts 7 out4
//   rf_coef      1 phi4 2 data 3 plan 4 theta4 5 coef_out
//   rf_scatter   1 phi4 2 data 3 plan 4 coefs 5 sums4
//   rf_gvar      1 draws4 2 gv_out
@group(0) @binding(1) var<storage, read> phi4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> draws4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> gv_out: array<f32>;
@group(0) @binding(3) var<storage, read> plan: array<u32>;
@group(0) @binding(4) var<storage, read> theta4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> theta_rw4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> coefs: array<f32>;
@group(0) @binding(5) var<storage, read> lrs: array<f32>;
@group(0) @binding(5) var<storage, read> snap4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> coef_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> sums4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> stats: array<f32>;
@group(0) @binding(6) var<storage, read> wts: array<f32>;
@group(0) @binding(7) var<storage, read_write> out4: array<vec4<f32>>;

override WG: u32 = 16;

const RED: u32 = 1024;   // `red` slots: rows per chunk × WG (× 2 with SVRG's second dot)
const WCACHE: u32 = 16;  // vec4 columns of W2[0] − W2[1] a lane keeps in registers

// Per row of the current chunk: feature row, label, weight; its coefficient, loss, correct.
var<workgroup> w_row: array<u32, 64>;
var<workgroup> w_lab: array<u32, 64>;
var<workgroup> w_w: array<f32, 64>;
var<workgroup> w_c: array<f32, 64>;
var<workgroup> w_l: array<f32, 64>;
var<workgroup> w_a: array<f32, 64>;
// Lane partials of the chunk's row dots, slot b·WG + lane; rf_gvar's vec4 sums (first WG·4).
var<workgroup> red: array<f32, RED>;

fn group_index(wg: vec3<u32>, groups: vec3<u32>) -> u32 { return wg.y * groups.x + wg.x; }
fn row_of(e: u32) -> u32 { return data[3u * e]; }
fn label_of(e: u32) -> u32 { return data[3u * e + 1u]; }

// (s, loss, correct) of one example from its logit difference zd and label; a label ≥ 2 has
// no target: NaN everywhere (as softmax_xent). Stable for any |zd|: exp(−|zd|) ≤ 1.
fn coef_loss(zd: f32, label: u32) -> vec3<f32> {
  if (label > 1u) {
    var nan_bits = 0x7fc00000u; // a var: the NaN is made at run time, not folded as a constant
    let nan = bitcast<f32>(nan_bits);
    return vec3<f32>(nan, nan, nan);
  }
  let q0 = select(params.eps, 1.0 - params.eps, label == 0u);
  let t = exp(-abs(zd));
  let p0 = select(t / (1.0 + t), 1.0 / (1.0 + t), zd >= 0.0);
  // −log p0 = softplus(−zd), −log p1 = softplus(zd), softplus(x) = max(x, 0) + log(1 + e^−|x|)
  let l1p = log(1.0 + t);
  let loss = q0 * (max(-zd, 0.0) + l1p) + (1.0 - q0) * (max(zd, 0.0) + l1p);
  let pred = select(1u, 0u, zd >= 0.0); // argmax, the first index on a tie
  return vec3<f32>(p0 - q0, loss, select(0.0, 1.0, pred == label));
}

// Σ over the WG lane partials of row slot b (in lane order).
fn row_sum(b: u32) -> f32 {
  var z = 0.0;
  for (var l = 0u; l < WG; l++) { z += red[b * WG + l]; }
  return z;
}

// Σ_b w_c[b]·φ_b over the nb rows of the chunk, vec4 column q.
fn chunk_dot4(q: u32, nb: u32, H4: u32) -> vec4<f32> {
  var u = vec4<f32>(0.0);
  for (var b = 0u; b < nb; b++) { u += w_c[b] * phi4[w_row[b] * H4 + q]; }
  return u;
}

@compute @workgroup_size(WG, 1, 1)
fn rf_sgd_step(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let live = group_index(wg, groups) < params.M;
  let m = min(group_index(wg, groups), params.M - 1u);
  let H4 = params.H / 4u;
  let B = params.B;
  let pb = m * (2u * H4 + 1u);
  let lr = lrs[m];
  let lane = lid.x;
  var wdc: array<vec4<f32>, WCACHE>;
  for (var k = 0u; k < params.K; k++) {
    for (var i = lane; i < B; i += WG) {
      let e = plan[params.item0 + (k * params.M + m) * B + i];
      w_row[i] = row_of(e);
      w_lab[i] = label_of(e);
    }
    workgroupBarrier();
    var t = 0u;
    for (var q = lane; q < H4 && t < WCACHE; q += WG) { wdc[t] = theta_rw4[pb + q] - theta_rw4[pb + H4 + q]; t++; }
    for (var b = 0u; b < B; b++) {
      let rb = w_row[b] * H4;
      var acc = 0.0;
      t = 0u;
      for (var q = lane; q < H4; q += WG) {
        var d = vec4<f32>(0.0);
        if (t < WCACHE) { d = wdc[t]; } else { d = theta_rw4[pb + q] - theta_rw4[pb + H4 + q]; }
        acc += dot(d, phi4[rb + q]);
        t++;
      }
      red[b * WG + lane] = acc;
    }
    workgroupBarrier();
    for (var i = lane; i < B; i += WG) {
      let bias = theta_rw4[pb + 2u * H4];
      let cl = coef_loss(row_sum(i) + (bias.x - bias.y), w_lab[i]);
      w_c[i] = cl.x / f32(B);
      w_l[i] = cl.y;
      w_a[i] = cl.z;
    }
    workgroupBarrier();
    storageBarrier();
    if (live) {
      for (var q = lane; q < H4; q += WG) {
        let u = chunk_dot4(q, B, H4);
        let w0 = theta_rw4[pb + q];
        let w1 = theta_rw4[pb + H4 + q];
        theta_rw4[pb + q] = w0 - lr * (u + params.wd * w0);
        theta_rw4[pb + H4 + q] = w1 - lr * (-u + params.wd * w1);
      }
      if (lane == 0u) {
        var sg = 0.0;
        var l = 0.0;
        var a = 0.0;
        for (var b = 0u; b < B; b++) { sg += w_c[b]; l += w_l[b]; a += w_a[b]; }
        var bias = theta_rw4[pb + 2u * H4];
        bias.x = bias.x - lr * (sg + params.wd * bias.x);
        bias.y = bias.y - lr * (-sg + params.wd * bias.y);
        theta_rw4[pb + 2u * H4] = bias;
        stats[2u * m] += l / f32(B);
        stats[2u * m + 1u] += a / f32(B);
      }
    }
    workgroupBarrier();
    storageBarrier();
  }
}

@compute @workgroup_size(WG, 1, 1)
fn rf_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  // Groups past J (a folded 2-D grid) redo the last job's reads and store nothing.
  let live = group_index(wg, groups) < params.J;
  let j = min(group_index(wg, groups), params.J - 1u);
  let H4 = params.H / 4u;
  let m = plan[4u * j];
  let start = plan[4u * j + 1u];
  let count = plan[4u * j + 2u];
  let svrg = plan[4u * j + 3u] != 0u;
  let pb = m * (2u * H4 + 1u);
  let o = j * (H4 + 1u);
  let lane = lid.x;
  let rc = min(RED / (2u * WG), 64u); // rows per chunk: two partial dots each (θ and θ̃)
  var wdc: array<vec4<f32>, WCACHE>;
  var wds: array<vec4<f32>, WCACHE>;
  var t = 0u;
  for (var q = lane; q < H4 && t < WCACHE; q += WG) {
    wdc[t] = theta4[pb + q] - theta4[pb + H4 + q];
    wds[t] = snap4[pb + q] - snap4[pb + H4 + q];
    t++;
  }
  if (live) {
    let mu = params.M * (2u * H4 + 1u) + m * (H4 + 1u);
    for (var q = lane; q <= H4; q += WG) { out4[o + q] = select(vec4<f32>(0.0), snap4[mu + q], svrg); }
  }
  storageBarrier();
  let bt = theta4[pb + 2u * H4];
  let bs = snap4[pb + 2u * H4];
  for (var c0 = 0u; c0 < count; c0 += rc) {
    let nb = min(rc, count - c0);
    for (var i = lane; i < nb; i += WG) {
      let it = start + c0 + i;
      let e = plan[it];
      w_row[i] = row_of(e);
      w_lab[i] = label_of(e);
      w_w[i] = wts[it];
    }
    workgroupBarrier();
    for (var b = 0u; b < nb; b++) {
      let rb = w_row[b] * H4;
      var acc = 0.0;
      var accs = 0.0;
      t = 0u;
      for (var q = lane; q < H4; q += WG) {
        let f = phi4[rb + q];
        if (t < WCACHE) {
          acc += dot(wdc[t], f);
          if (svrg) { accs += dot(wds[t], f); }
        } else {
          acc += dot(theta4[pb + q] - theta4[pb + H4 + q], f);
          if (svrg) { accs += dot(snap4[pb + q] - snap4[pb + H4 + q], f); }
        }
        t++;
      }
      red[b * WG + lane] = acc;
      red[(rc + b) * WG + lane] = accs;
    }
    workgroupBarrier();
    for (var i = lane; i < nb; i += WG) {
      var s = coef_loss(row_sum(i) + (bt.x - bt.y), w_lab[i]).x;
      if (svrg) { s -= coef_loss(row_sum(rc + i) + (bs.x - bs.y), w_lab[i]).x; }
      w_c[i] = w_w[i] * s / f32(count);
    }
    workgroupBarrier();
    if (live) {
      for (var q = lane; q < H4; q += WG) { out4[o + q] += chunk_dot4(q, nb, H4); }
      if (lane == WG - 1u) {
        var sg = 0.0;
        for (var b = 0u; b < nb; b++) { sg += w_c[b]; }
        out4[o + H4].x += sg;
      }
    }
    workgroupBarrier();
    storageBarrier();
  }
}

@compute @workgroup_size(WG, 1, 1)
fn rf_coef(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = group_index(wg, groups) * WG + lid.x;
  if (t >= params.J) { return; }
  let m = plan[2u * t];
  let e = plan[2u * t + 1u];
  let H4 = params.H / 4u;
  let pb = m * (2u * H4 + 1u);
  let rb = row_of(e) * H4;
  var z = 0.0;
  for (var q = 0u; q < H4; q++) { z += dot(theta4[pb + q] - theta4[pb + H4 + q], phi4[rb + q]); }
  let bias = theta4[pb + 2u * H4];
  let cl = coef_loss(z + (bias.x - bias.y), label_of(e));
  let E = params.E;
  coef_out[e] = cl.x;
  coef_out[E + e] = cl.y;
  coef_out[2u * E + e] = cl.z;
}

@compute @workgroup_size(WG, 1, 1)
fn rf_scatter(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = group_index(wg, groups);
  if (j >= params.J) { return; }
  let H4 = params.H / 4u;
  let start = plan[4u * j];
  let count = plan[4u * j + 1u];
  let row0 = plan[4u * j + 2u];
  let scale = bitcast<f32>(plan[4u * j + 3u]);
  if (count == 0u) { return; }
  // Lane-owned vec4 columns, the σ column H4 included; one register sum per run of equal k.
  for (var q = lid.x; q <= H4; q += WG) {
    var acc = vec4<f32>(0.0);
    var cur = plan[start + 1u];
    for (var b = 0u; b < count; b++) {
      let e = plan[start + 2u * b];
      let k = plan[start + 2u * b + 1u];
      if (k != cur) {
        sums4[(row0 + cur) * (H4 + 1u) + q] += scale * acc;
        acc = vec4<f32>(0.0);
        cur = k;
      }
      var f = vec4<f32>(1.0, 0.0, 0.0, 0.0);
      if (q < H4) { f = phi4[row_of(e) * H4 + q]; }
      acc += coefs[e] * f;
    }
    sums4[(row0 + cur) * (H4 + 1u) + q] += scale * acc;
  }
}

@compute @workgroup_size(WG, 1, 1)
fn rf_gvar(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = min(group_index(wg, groups), params.J - 1u);
  let RS4 = params.H / 4u + 1u;
  let n = params.n;
  let base = j * 2u * n * RS4;
  let inv = 1.0 / f32(n);
  let one = vec4<f32>(1.0);
  var sum = vec4<f32>(0.0);
  for (var q = lid.x; q < RS4; q += WG) {
    var E = vec4<f32>(0.0);
    for (var r = 0u; r < n; r++) { E += draws4[base + r * RS4 + q] * inv; }
    var S = vec4<f32>(0.0);
    var V = vec4<f32>(0.0);
    for (var r = n; r < 2u * n; r++) {
      let g = draws4[base + r * RS4 + q];
      let d = E - g;
      S += g * g;
      V += d * d;
    }
    let lr = log(S + vec4<f32>(params.log_eps)) - log(V + vec4<f32>(params.log_eps));
    sum += vec4<f32>(dot(V, one), dot(V / (S + vec4<f32>(params.nvar_eps)), one), dot(lr, one), dot(S, one));
  }
  // Lane sums meet in red (4 per lane), lane 0 adds them in lane order.
  for (var c = 0u; c < 4u; c++) { red[4u * lid.x + c] = sum[c]; }
  workgroupBarrier();
  if (lid.x == 0u && group_index(wg, groups) < params.J) {
    var s = vec4<f32>(0.0);
    for (var l = 0u; l < WG; l++) { s += vec4<f32>(red[4u * l], red[4u * l + 1u], red[4u * l + 2u], red[4u * l + 3u]); }
    gv_out[4u * j] = s.x;
    gv_out[4u * j + 1u] = s.y;
    gv_out[4u * j + 2u] = s.z;
    gv_out[4u * j + 3u] = s.w;
  }
}
