// resnet_ops: the parameter-free pieces of a ResNet BasicBlock, forward and backward, on
// dense NCHW f32 tensors.
//
//   add_relu_forward   out = relu(a + b)                       a, b, out: [n]
//                      the block's residual sum: a = the conv branch, b = the shortcut
//   add_relu_backward  dsum = (dout [+ dout2]) · 1[out > 0]     out_fwd, dout, dout2, dsum: [n]
//                      d(a + b): the gradient of BOTH branches (the sum's two partials are
//                      the same tensor). With TWO_GRADS = 1 it first adds a second incoming
//                      gradient: the output of block k feeds block k+1's conv branch and its
//                      identity shortcut, so its gradient is their sum, taken here for free.
//   shortcut_a_forward   option-A shortcut (SPEC 3.2): y = x[:, :, ::2, ::2] with `pad` zero
//                        channels before and after: x [B, Cin, H, W] → y [B, Cout, OH, OW],
//                        Cout = Cin + 2·pad, OH = ⌈H/2⌉, OW = ⌈W/2⌉ (PyTorch's ::2 keeps
//                        rows 0, 2, 4, …, so an odd side keeps its last row).
//   shortcut_a_backward  its adjoint: dx[b, c, h, w] = beta·dx + (h, w both even ?
//                        dy[b, c + pad, h/2, w/2] : 0). beta = 1 sums the shortcut's gradient
//                        into the conv branch's dx already there; beta = 0 never reads dx.
//
// Thread mapping: one invocation per element of the tensor written (out, dsum, y, dx), flat
// index e = (wg.y·groups.x + wg.x)·WG + lid.x (the host folds more than 65535 groups into
// 2-D with grid1d). Each invocation gathers the one input element it needs, so nothing is
// scattered: shortcut_a_backward writes every dx element, the odd rows and columns with
// zeros (or beta·dx), and pad channels of dy are never read. Neighbouring invocations write
// neighbouring words; the shortcut's reads are stride 2 (forward) or gathered from a quarter
// of the positions (backward), all memory-bound copies.

struct Params {
  n: u32,      // elements of the tensor written
  B: u32,      // shortcut: batch (the index arithmetic below does not need it; the host's checks do)
  Cin: u32,    // shortcut: x channels, height, width
  H: u32,
  W: u32,
  Cout: u32,   // shortcut: Cin + 2·pad
  OH: u32,     // shortcut: ⌈H/2⌉, ⌈W/2⌉
  OW: u32,
  pad: u32,    // shortcut: zero channels on each side (planes/4 in SPEC 3.2)
  beta: f32,   // shortcut_a_backward: dx = beta·dx + …
}

@group(0) @binding(0) var<uniform> params: Params;
// Binding numbers are re-used by different variables in different entry points:
//   add_relu_forward     1 a        2 b     3 out (rw)
//   add_relu_backward    1 out_fwd  2 dout  3 dout2  4 dsum (rw)
//   shortcut_a_forward   1 x        2 y (rw)
//   shortcut_a_backward  1 dy       2 dx (rw)
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> out_fwd: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> dout2: array<f32>;
@group(0) @binding(4) var<storage, read_write> dsum: array<f32>;

override WG: u32 = 256;
// add_relu_backward: 1 adds dout2 to dout (dout2 is then bound to a dummy when 0)
override TWO_GRADS: u32 = 0;

fn flat(wg: vec3<u32>, groups: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.y * groups.x + wg.x) * WG + lid.x;
}

@compute @workgroup_size(WG, 1, 1)
fn add_relu_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                    @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  if (e >= params.n) { return; }
  out[e] = max(a[e] + b[e], 0.0);
}

@compute @workgroup_size(WG, 1, 1)
fn add_relu_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  if (e >= params.n) { return; }
  var g = dout[e];
  if (TWO_GRADS != 0u) { g += dout2[e]; }
  dsum[e] = select(0.0, g, out_fwd[e] > 0.0);
}

@compute @workgroup_size(WG, 1, 1)
fn shortcut_a_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                      @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  if (e >= params.n) { return; }
  // e = ((bi·Cout + co)·OH + oh)·OW + ow
  let ow = e % params.OW;
  var t = e / params.OW;
  let oh = t % params.OH;
  t = t / params.OH;
  let co = t % params.Cout;
  let bi = t / params.Cout;
  var v = 0.0;
  if (co >= params.pad && co < params.pad + params.Cin) {
    v = x[((bi * params.Cin + co - params.pad) * params.H + 2u * oh) * params.W + 2u * ow];
  }
  y[e] = v;
}

@compute @workgroup_size(WG, 1, 1)
fn shortcut_a_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                       @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  if (e >= params.n) { return; }
  // e = ((bi·Cin + c)·H + h)·W + w
  let w = e % params.W;
  var t = e / params.W;
  let h = t % params.H;
  t = t / params.H;
  let c = t % params.Cin;
  let bi = t / params.Cin;
  var v = 0.0;
  if ((h & 1u) == 0u && (w & 1u) == 0u) {
    v = dy[((bi * params.Cout + c + params.pad) * params.OH + h / 2u) * params.OW + w / 2u];
  }
  if (params.beta != 0.0) { v += params.beta * dx[e]; }
  dx[e] = v;
}
