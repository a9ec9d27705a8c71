// pool: spatial pooling of an NCHW tensor, forward and backward. Every op treats the tensor
// as `planes` = B·Cch independent H×W planes (row-major, plane stride H·W), so batch and
// channel never need telling apart:
//   x, dx     [planes, H, W]      the pooled input and its gradient
//   out, dout [planes, OH, OW]    the pooled output and its gradient (OH = OW = 1: global)
//   idx       [planes, OH, OW] u32   max pool: where each output's max sits in its plane,
//                                 h·W + w (PyTorch's return_indices convention)
//
//   avgpool_forward   out[q] = (Σ_{h,w} x[q, h, w]) / (H·W)      global average pool
//   avgpool_backward  dx[q, h, w] = dout[q] / (H·W)
//   maxpool_forward   out[q, oh, ow] = max over the k×k window at (oh·s − p, ow·s − p),
//                     padded positions excluded (PyTorch pads with −inf; p ≤ k/2, checked by
//                     the host, keeps a real position in every window). The window is read in
//                     row-major order and only a strictly larger value replaces the current
//                     max, so a tie goes to the first maximum, as in PyTorch. idx_out gets
//                     its position. NaN inputs are not supported (WGSL compilers may assume
//                     finite math, so NaN comparisons are unreliable).
//   maxpool_backward  dx[q, h, w] = Σ dout[q, oh, ow] over the windows that contain (h, w)
//                     and whose idx is h·W + w.
//
// Backward uses the u32 indices the forward stored rather than recomputing the maxima: an
// input position lies in at most ⌈k/s⌉² windows (4 for ResNet18's 3×3/2 stem, 1 for 2×2/2),
// so each dx element reads ≤ 4 indices and ≤ 4 gradients, where recomputing would re-read
// all k² inputs of each window (36 reads). The indices cost one u32 per output, a quarter
// of x at stride 2. Ties are then settled once, in the forward, and cannot differ between
// passes.
//
// Thread mappings:
//   avgpool_forward: WG_X lanes share one plane × WG_Y planes per workgroup; lane x sums
//     positions x, x + WG_X, ... (neighbouring lanes read neighbouring words), then lane 0
//     adds the WG_X partials in lane order: deterministic. Global pools are short (7×7, 8×8)
//     and many (B·Cch), so a few lanes per plane keep loads contiguous without idle lanes.
//   avgpool_backward, maxpool_backward: one invocation per dx element; it gathers what it
//     needs, so there is no scatter, no atomics, and each sum is taken in (oh, ow) order.
//   maxpool_forward: one invocation per output element.
//   Flat index e = (wg.y·groups.x + wg.x)·WG + lid.x: the host folds more than 65535 groups
//   into 2-D (grid1d). Invocations past the end return at once (no barrier follows) except
//   in avgpool_forward, where they run empty loops and meet the barrier.

struct Params {
  planes: u32, // B·Cch
  H: u32,
  W: u32,
  OH: u32,     // maxpool: ⌊(H + 2p − k)/s⌋ + 1; avgpool: 1
  OW: u32,
  k: u32,      // maxpool window side, stride and zero-based padding; avgpool: unused (0)
  s: u32,
  p: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Binding numbers are re-used by different variables in different entry points:
//   avgpool_forward   1 x     2 out (rw)
//   avgpool_backward  1 dout  2 dx (rw)
//   maxpool_forward   1 x     2 out (rw)  3 idx_out (rw)
//   maxpool_backward  1 dout  2 dx (rw)   3 idx
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<storage, read_write> idx_out: array<u32>;
@group(0) @binding(3) var<storage, read> idx: array<u32>;

// invocations per workgroup of the flat entry points
override WG: u32 = 256;
// avgpool_forward: lanes per plane × planes per workgroup (≤ 256 together, the host checks)
override WG_X: u32 = 8;
override WG_Y: u32 = 32;

// avgpool_forward partials, slot y·WG_X + x: lane x's sum over plane y of the workgroup.
var<workgroup> partial: array<f32, 256>;

fn flat(wg: vec3<u32>, groups: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.y * groups.x + wg.x) * WG + lid.x;
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn avgpool_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let HW = params.H * params.W;
  let q = (wg.y * groups.x + wg.x) * WG_Y + lid.y;
  let n = select(0u, HW, q < params.planes);
  var acc = 0.0;
  for (var t = lid.x; t < n; t += WG_X) { acc += x[q * HW + t]; }
  partial[lid.y * WG_X + lid.x] = acc;
  workgroupBarrier();
  if (lid.x == 0u && q < params.planes) {
    var s = 0.0;
    for (var i = 0u; i < WG_X; i++) { s += partial[lid.y * WG_X + i]; }
    out[q] = s / f32(HW);
  }
}

@compute @workgroup_size(WG, 1, 1)
fn avgpool_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                    @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  let HW = params.H * params.W;
  if (e >= params.planes * HW) { return; }
  dx[e] = dout[e / HW] / f32(HW);
}

@compute @workgroup_size(WG, 1, 1)
fn maxpool_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  let OHW = params.OH * params.OW;
  if (e >= params.planes * OHW) { return; }
  let q = e / OHW;
  let r = e - q * OHW;
  let oh = r / params.OW;
  let ow = r - oh * params.OW;
  // The window's rows [h0, h1) and columns [w0, w1), clipped to the plane: padded
  // positions can never be the maximum, so they are simply not visited.
  let top = i32(oh * params.s) - i32(params.p);
  let left = i32(ow * params.s) - i32(params.p);
  let h0 = u32(max(top, 0));
  let w0 = u32(max(left, 0));
  let h1 = u32(min(top + i32(params.k), i32(params.H)));
  let w1 = u32(min(left + i32(params.k), i32(params.W)));
  let base = q * params.H * params.W;
  var best = x[base + h0 * params.W + w0];
  var at = h0 * params.W + w0;
  for (var h = h0; h < h1; h++) {
    for (var w = w0; w < w1; w++) {
      let v = x[base + h * params.W + w];
      if (v > best) {
        best = v;
        at = h * params.W + w;
      }
    }
  }
  out[e] = best;
  idx_out[e] = at;
}

// First output row (or column) whose window starts at or before position `h` and ends after
// it: the smallest o with o·s − p + k > h, i.e. o ≥ (h + p − k + 1)/s, rounded up.
fn first_window(h: u32) -> u32 {
  let t = h + params.p + 1u;
  if (t <= params.k) { return 0u; }
  return (t - params.k + params.s - 1u) / params.s;
}

@compute @workgroup_size(WG, 1, 1)
fn maxpool_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                    @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  let HW = params.H * params.W;
  if (e >= params.planes * HW) { return; }
  let q = e / HW;
  let pos = e - q * HW;
  let h = pos / params.W;
  let w = pos - h * params.W;
  // Windows containing (h, w): rows o with o·s − p ≤ h, i.e. o ≤ (h + p)/s, from first_window.
  let oh1 = min((h + params.p) / params.s + 1u, params.OH);
  let ow1 = min((w + params.p) / params.s + 1u, params.OW);
  let base = q * params.OH * params.OW;
  var acc = 0.0;
  for (var oh = first_window(h); oh < oh1; oh++) {
    for (var ow = first_window(w); ow < ow1; ow++) {
      let o = base + oh * params.OW + ow;
      if (idx[o] == pos) { acc += dout[o]; }
    }
  }
  dx[e] = acc;
}
