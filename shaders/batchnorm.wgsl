// batchnorm: PyTorch BatchNorm2d on dense NCHW f32 tensors, forward and backward, train
// and eval mode, with an optional ReLU fused on the output.
//   x, y, dy, dx [B, Cch, H, W]   (HW = H·W; channel c's n = B·HW elements are B runs of HW
//                                  words, run b at (b·Cch + c)·HW)
//   gamma, beta, dgamma, dbeta [Cch]    the affine weight and bias and their gradients
//   saved [2, Cch]    train forward → backward: row 0 batch mean, row 1 invstd = 1/√(var + eps)
//                     with the biased batch variance
//   running [2, Cch]  row 0 running_mean, row 1 running_var (PyTorch's buffers, one view)
//   stats [2, Cch]    what the other kernels read as row 0 mean, row 1 invstd (FROM_VAR = 0:
//                     `saved`) or row 1 variance, invstd then taken as 1/√(v + eps) (FROM_VAR
//                     = 1: `running`, eval mode)
//
//   bn_stats        per channel: mean, biased var → saved; running ← (1 − momentum)·running
//                   + momentum·batch, with the UNBIASED variance Σ(x − mean)²/(n − 1) (PyTorch;
//                   momentum 0 leaves running untouched). The variance is two-pass, Σ(x − mean)²
//                   after the mean, not E[x²] − mean², which cancels badly in f32.
//   bn_apply        y = γ·(x − mean)·invstd + β, then max(·, 0) if RELU. Train forward after
//                   bn_stats (stats = saved), or the whole eval forward (stats = running).
//   bn_grad_stats   per channel: with g = dy·1[pre > 0] (RELU; pre = the forward's output before
//                   the ReLU, recomputed from x with the same expression as bn_apply) or g = dy,
//                   and x̂ = (x − mean)·invstd: dbeta = Σ g, dgamma = Σ g·x̂. Both modes.
//   bn_backward_dx  train mode (batch statistics):
//                   dx = γ·invstd·(g − dbeta/n − x̂·dgamma/n)   (after bn_grad_stats)
//   bn_backward_dx_eval  eval mode (fixed statistics): dx = g·γ·invstd
//
// Thread mappings:
//   bn_stats, bn_grad_stats: one workgroup of WG_C lanes per channel (workgroup c = channel c).
//     Lane l visits the channel's elements j = l, l + WG_C, … in order, j ↔ (b, hw) = (j / HW,
//     j % HW), the pair advanced incrementally (no division per element), so neighbouring
//     lanes read neighbouring words of a run however short HW is (7×7 maps) and a lane moves
//     to the next run on its own. Each lane sums in f32 (n/WG_C terms: 2048 for CIFAR's 16
//     channels at B = 128, WG_C = 64), then the WG_C partials meet in workgroup memory and
//     are added in lane order (sum_partials): deterministic. One workgroup per channel gives
//     Cch workgroups (16–512 for these ResNets): plenty for a CPU adapter, and it needs no second pass or
//     partials buffer; a real GPU would want a two-stage split of each channel (noted in
//     src/kernels/batchnorm.ts).
//   bn_apply, bn_backward_dx, bn_backward_dx_eval (per element): tiles of WG_Y planes (plane
//     q = b·Cch + c, so one channel per plane) × WG_X·PER positions along them. Invocation
//     (x, y) loads its channel's mean, invstd, γ, β (and dγ, dβ) once, then handles positions
//     x, x + WG_X, … of its chunk: up to PER elements. WG_X neighbouring lanes touch WG_X
//     neighbouring words. Measured on llvmpipe GL (B=128, Cch=16, 32×32, ReLU; machine shared
//     with other jobs, so rough): one invocation per element with its channel from
//     (e / HW) % Cch and four per-channel loads each took 35–44 ms, this 8×32 tile with PER = 8
//     18–27 ms, a plain ReLU over as many elements 22 ms: per-invocation overhead and loads
//     with varying addresses are what cost on a CPU adapter. The grid is (chunks per plane,
//     plane groups folded into y and z by 65535), so no size exceeds a dispatch limit.

struct Params {
  B: u32,
  Cch: u32,
  HW: u32,
  eps: f32,
  momentum: f32,   // bn_stats only
}

@group(0) @binding(0) var<uniform> params: Params;
// Binding numbers are re-used by different variables in different entry points:
//   bn_stats             1 x  2 saved (rw)  3 running (rw)
//   bn_apply             1 x  2 stats  3 gamma  4 beta  5 y (rw)
//   bn_grad_stats        1 x  2 stats  3 gamma  4 beta  5 dy  6 dgamma (rw)  7 dbeta (rw)
//   bn_backward_dx       1 x  2 stats  3 gamma  4 beta  5 dy  6 dgamma_in  7 dbeta_in  8 dx (rw)
//   bn_backward_dx_eval  1 x  2 stats  3 gamma  4 beta  5 dy  6 dx_eval (rw)
// (x and beta only serve the ReLU mask in bn_backward_dx_eval; they are bound regardless.)
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> saved: array<f32>;
@group(0) @binding(3) var<storage, read_write> running: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(7) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(6) var<storage, read> dgamma_in: array<f32>;
@group(0) @binding(7) var<storage, read> dbeta_in: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx_eval: array<f32>;

// tile kernels: lanes along a plane × planes per workgroup (≤ 256 together, the host checks),
// and chunks of WG_X·PER positions: each invocation handles up to PER elements
override WG_X: u32 = 8;
override WG_Y: u32 = 32;
override PER: u32 = 8;
// per-channel kernels: lanes per channel, a power of two ≤ 256 (the host checks)
override WG_C: u32 = 64;
// 1: ReLU on the output (forward) / its mask on the gradient (backward)
override RELU: u32 = 0;
// 1: stats row 1 holds a variance (running_var), else invstd (see the header)
override FROM_VAR: u32 = 0;

// Per-channel partials, slot l = lane l's sums. bn_stats's second sum has an array of its
// own, so no barrier is needed between reading the first and writing the second.
var<workgroup> part: array<vec2<f32>, 256>;
var<workgroup> part2: array<f32, 256>;

// Every lane adds the WG_C partials in lane order after one barrier: all lanes get the same
// total (no broadcast step), and the order is fixed, so the result is deterministic. The
// partials are a few hundred workgroup reads against the n/WG_C + … global reads per lane.
// A halving tree would need log2(WG_C) + 2 barriers; lavapipe splits a shader at every
// barrier, and with two trees bn_stats took 2.2 s to compile there (grad_stats 0.8 s; now
// 0.4 and 0.25 s), paid once per pipeline on a machine with a cold shader cache (CI).
fn sum_partials(l: u32, v: vec2<f32>) -> vec2<f32> {
  part[l] = v;
  workgroupBarrier();
  var s = vec2(0.0, 0.0);
  for (var i = 0u; i < WG_C; i++) { s += part[i]; }
  return s;
}
fn sum_partials2(l: u32, v: f32) -> f32 {
  part2[l] = v;
  workgroupBarrier();
  var s = 0.0;
  for (var i = 0u; i < WG_C; i++) { s += part2[i]; }
  return s;
}

// Position of element j of a channel: run b, offset hw in the run.
struct Cursor { b: u32, hw: u32 }

fn cursor_start(l: u32) -> Cursor {
  return Cursor(l / params.HW, l % params.HW);
}

// j → j + WG_C
fn cursor_next(cur: Cursor) -> Cursor {
  var hw = cur.hw + WG_C % params.HW;
  var b = cur.b + WG_C / params.HW;
  if (hw >= params.HW) {
    hw -= params.HW;
    b += 1u;
  }
  return Cursor(b, hw);
}

fn cursor_index(cur: Cursor, c: u32) -> u32 {
  return (cur.b * params.Cch + c) * params.HW + cur.hw;
}

fn invstd_of(c: u32) -> f32 {
  let v = stats[params.Cch + c];
  if (FROM_VAR != 0u) { return 1.0 / sqrt(v + params.eps); }
  return v;
}

// The affine output before the ReLU: the one expression bn_apply and the backward masks use.
fn affine(xh: f32, g: f32, bt: f32) -> f32 {
  return xh * g + bt;
}

// Whether the fused ReLU lets the gradient through at this pre-activation.
fn passes(xh: f32, g: f32, bt: f32) -> bool {
  return RELU == 0u || affine(xh, g, bt) > 0.0;
}

// Tile kernels: the plane q = b·Cch + c this invocation works on (≥ B·Cch past the end) and
// the span [t0, t1) of positions its chunk covers; the invocation takes t0 + lid.x, then
// steps by WG_X.
fn tile_plane(wg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.z * 65535u + wg.y) * WG_Y + lid.y;
}
fn tile_end(wg: vec3<u32>) -> u32 {
  return min((wg.x + 1u) * WG_X * PER, params.HW);
}

@compute @workgroup_size(WG_C, 1, 1)
fn bn_stats(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let c = wg.x;
  let n = params.B * params.HW;
  var s = 0.0;
  for (var cur = cursor_start(l); cur.b < params.B; cur = cursor_next(cur)) { s += x[cursor_index(cur, c)]; }
  let mean = sum_partials(l, vec2(s, 0.0)).x / f32(n);
  var q = 0.0;
  for (var cur = cursor_start(l); cur.b < params.B; cur = cursor_next(cur)) {
    let d = x[cursor_index(cur, c)] - mean;
    q += d * d;
  }
  let m2 = sum_partials2(l, q);
  if (l == 0u) {
    let Cch = params.Cch;
    let mom = params.momentum;
    saved[c] = mean;
    saved[Cch + c] = 1.0 / sqrt(m2 / f32(n) + params.eps);
    running[c] = (1.0 - mom) * running[c] + mom * mean;
    running[Cch + c] = (1.0 - mom) * running[Cch + c] + mom * (m2 / f32(n - 1u));
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn bn_apply(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let q = tile_plane(wg, lid);
  if (q >= params.B * params.Cch) { return; }
  let c = q % params.Cch;
  let mean = stats[c];
  let inv = invstd_of(c);
  let g = gamma[c];
  let bt = beta[c];
  let base = q * params.HW;
  let t1 = tile_end(wg);
  for (var t = wg.x * WG_X * PER + lid.x; t < t1; t += WG_X) {
    var v = affine((x[base + t] - mean) * inv, g, bt);
    if (RELU != 0u) { v = max(v, 0.0); }
    y[base + t] = v;
  }
}

@compute @workgroup_size(WG_C, 1, 1)
fn bn_grad_stats(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let c = wg.x;
  let mean = stats[c];
  let inv = invstd_of(c);
  let g = gamma[c];
  let bt = beta[c];
  var acc = vec2(0.0, 0.0);
  for (var cur = cursor_start(l); cur.b < params.B; cur = cursor_next(cur)) {
    let e = cursor_index(cur, c);
    let xh = (x[e] - mean) * inv;
    let d = select(0.0, dy[e], passes(xh, g, bt));
    acc += vec2(d, d * xh);
  }
  let t = sum_partials(l, acc);
  if (l == 0u) {
    dbeta[c] = t.x;
    dgamma[c] = t.y;
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn bn_backward_dx(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let q = tile_plane(wg, lid);
  if (q >= params.B * params.Cch) { return; }
  let c = q % params.Cch;
  let mean = stats[c];
  let inv = invstd_of(c);
  let g = gamma[c];
  let bt = beta[c];
  let inv_n = 1.0 / f32(params.B * params.HW);
  let k = g * inv;
  let mean_d = dbeta_in[c] * inv_n;
  let mean_dxh = dgamma_in[c] * inv_n;
  let base = q * params.HW;
  let t1 = tile_end(wg);
  for (var t = wg.x * WG_X * PER + lid.x; t < t1; t += WG_X) {
    let xh = (x[base + t] - mean) * inv;
    let d = select(0.0, dy[base + t], passes(xh, g, bt));
    dx[base + t] = k * (d - mean_d - xh * mean_dxh);
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn bn_backward_dx_eval(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let q = tile_plane(wg, lid);
  if (q >= params.B * params.Cch) { return; }
  let c = q % params.Cch;
  let mean = stats[c];
  let inv = invstd_of(c);
  let g = gamma[c];
  let bt = beta[c];
  let k = g * inv;
  let base = q * params.HW;
  let t1 = tile_end(wg);
  for (var t = wg.x * WG_X * PER + lid.x; t < t1; t += WG_X) {
    let xh = (x[base + t] - mean) * inv;
    dx_eval[base + t] = select(0.0, dy[base + t] * k, passes(xh, g, bt));
  }
}
