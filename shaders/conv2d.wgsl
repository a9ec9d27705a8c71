// conv2d: 2-D convolution as an implicit GEMM (no im2col buffer), forward and both backward
// passes, plus the bias gradient. PyTorch's layouts, all dense f32:
//   x [B, Cin, H, W]   w [Cout, Cin, kh, kw]   bias, db [Cout]   out, dy [B, Cout, Ho, Wo]
//   Ho = ⌊(H + 2·pad − kh)/stride⌋ + 1, Wo likewise; T = Ho·Wo; KHW = kh·kw; zero padding,
//   one stride and one pad for both axes, any kh × kw.
//
// Each pass is one product C[M, N] = Σ_k A[m, k]·B[k, n] whose operands are gathered from the
// tensors on the fly (a pixel part and a tap part add up to an address, zero outside the image):
//   conv2d_forward          M = Cout  N = B·T (b, oy, ox)   K = Cin·KHW (ci, ky, kx)
//                           A = w rows, B = x at (oy·s−p+ky, ox·s−p+kx), C → out
//   conv2d_backward_input   M = Cin   N = the dx pixels of one stride phase   K = Cout·taps
//                           A = w[co, ci, ky, kx], B = dy at ((iy+p−ky)/s, (ix+p−kx)/s), C → dx
//   conv2d_backward_weight  M = Cout  N = Cin·KHW (ci, ky, kx)   K = the (b, oy, ox) of a split
//                           A = dy rows, B = x as in forward, C → dW (or its per-split partials)
// Epilogue: dst = alpha·C + beta·dst (+ bias[m] in forward with HAS_BIAS) (ReLU with RELU);
// beta = 0 never reads dst (it may hold garbage or NaN, as in BLAS).
//
// Backward-input by stride phase: dx pixel (iy, ix) only meets the taps with ky ≡ iy + p and
// kx ≡ ix + p (mod s). Grid z = ry·s + rx runs the s² phase classes {(iy + p) % s = ry,
// (ix + p) % s = rx} as separate products, each over its own taps (ky = ry + s·u,
// kx = rx + s·v), so a stride-2 layer does no multiply by a zero tap. In a class the pixels
// iy = iyf + s·j meet dy row oy = j + cy − u, a stride-1 walk (cy: see dx_class).
// Backward-weight by split: K = B·T is long and M·N small, so grid z = split index runs
// `bsplit` examples each; with more than one split dst is the [splits, Cout, Cin·KHW]
// partial-sum buffer that the host then sums (reduce colsum) into dW.
//
// Thread mapping of the three products (conv_direct): invocation (x, y) of workgroup
// (gx, gy, z) owns an 8×8 block of C, rows m0 = 8·(gy·WG_Y + y) .. +7 and columns
// n0 = 8·(gx·WG_X + x) .. +7, in 16 vec4 accumulators. Per k it reads the 8 A values of its
// rows and gathers the 8 B values of its columns straight from global memory, then does 64
// multiply-adds; no workgroup memory, no barrier. The k loop walks k's three digits by
// increments (the same for the whole workgroup, so no divergence and no division per k); the
// per-column pixel parts are worked out once. Sliding window: when the 8 columns are 8
// consecutive pixels of one row (row length a multiple of 8) and the next k moves the tap one
// column over, 7 of the 8 gathered values are the neighbours' previous ones, so only one is
// loaded: forward at stride 1 (kx = 0, 1, 2, ...) and stride 2 (taps visited even-then-odd,
// 0, 2, 4, ..., 1, 3, ..., see fwd_kx), backward-input always (each phase class walks dy at
// stride 1). For a 3×3 kernel that is 10 instead of 24 gathers per three taps.
//
// Why this mapping (measured on llvmpipe GL, Mesa 25, 2 cores shared with other jobs, load
// average 5–8, so only figures from one interleaved run compare; GFLOP/s at B = 128):
// on a CPU driver every load whose address is not a compile-time constant is a loop over the
// 8 SIMD lanes with a bounds check per component (a uniform address is no cheaper inside a
// loop, and a vec4 load costs about as much as 4 scalar ones), so the cost is floats loaded
// per multiply-add. Tried:
//   1. matmul_vec4's mapping: 8×8 per invocation, A and B gathered TILE_K k-steps at a time
//      into workgroup memory (as vec4 along m / n), barriers around the k-steps. Slower:
//      the inner loop loads as many floats from workgroup memory (no cheaper than global)
//      and staging plus barriers come on top. fwd / dx / dW:
//        16→16 32²  staged 3.0 / 1.7 / 1.7   direct 5.6 / 5.7 / 5.1
//        32→32 16²  staged 4.2 / 2.6 / 1.8   direct 5.7 / 5.7 / 4.1
//        64→64 8²   staged 2.2 / 2.7 / 3.0   direct 3.0 / 2.5 / 3.5
//   2. this mapping without the window (direct) vs with it (window), fwd / dx:
//        16→16 32²  direct 5.7 / 5.5   window 6.3 / 6.5
//        32→32 16²  direct 5.8 / 6.0   window 6.7 / 7.0
//        64→64 8²   direct 6.0 / 5.5   window 6.6 / 6.9
//        16→32 s2   direct 2.4 (fwd)   window with even-then-odd taps 3.0
//   3. 16 columns per invocation (32 accumulators, two windows): slower at every shape (e.g.
//      16→16 32² fwd 4.7 vs 6.9), the extra accumulators spill.
// On GPUs the usual shared-memory tiling would win; WG_X × WG_Y is an override so the host
// can pick per adapter (src/kernels/conv2d.ts).
//
// conv2d_bias_grad   db[o] = alpha·Σ_{b,t} dy[b, o, t] + beta·db[o]: one workgroup per channel
//   (group index g = wg.y·groups.x + wg.x, grid1d), BG_WG lanes split each example's T
//   positions (lane l reads t = l, l + BG_WG, ...: neighbouring lanes, neighbouring words),
//   the partials meet once in workgroup memory and lane 0 adds them in lane order
//   (deterministic). (reduce's colsum sums columns of a row-major matrix; NCHW's channel sum
//   strides over B and T instead, hence this entry point.)

struct Params {
  B: u32, Cin: u32, H: u32, W: u32,
  Cout: u32, Ho: u32, Wo: u32,
  kh: u32, kw: u32, stride: u32, pad: u32,
  bsplit: u32,   // backward-weight: examples per split (grid z); ignored by the others
  alpha: f32, beta: f32,
}

// Bindings (names shared by the three products, so one gather serves them all):
//   1 img   the operand read through the implicit im2col: x (forward, backward-weight) or dy
//           (backward-input); also dy for conv2d_bias_grad
//   2 lhs   the operand read along rows of A: w (forward, backward-input) or dy (backward-weight)
//   3 bias  [Cout] (forward with HAS_BIAS; a dummy otherwise)
//   4 dst   out, dx, dW or the dW partials
//   2 db    conv2d_bias_grad's output (no other entry point uses binding 2 for writing)
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> img: array<f32>;
@group(0) @binding(2) var<storage, read> lhs: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;

override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override HAS_BIAS: u32 = 0;
override RELU: u32 = 0;
override BG_WG: u32 = 64;

const FWD: u32 = 0u;
const DX: u32 = 1u;
const DW: u32 = 2u;

// conv2d_bias_grad only: partial[l] is lane l's sum before the combine.
var<workgroup> partial: array<f32, BG_WG>;

// Backward-input stride-phase class z = ry·s + rx. Its pixels are iy = iyf + s·j (j < hc),
// ix = ixf + s·i (i < wc); its taps ky = ry + s·u (u < nky), kx = rx + s·v (v < nkx); pixel
// (j, i) meets dy at (j + cy − u, i + cx − v).
struct DxClass { ry: u32, rx: u32, iyf: u32, ixf: u32, hc: u32, wc: u32, cy: i32, cx: i32, nky: u32, nkx: u32 }

// One product: its sizes, k = (d0·r1 + d1)·r2 + d2 in digits that step without division, grid
// z, and (backward-input) its phase class, worked out once per workgroup.
struct Gemm { M: u32, N: u32, K: u32, r1: u32, r2: u32, z: u32, c: DxClass, odd0: u32 }

// A pixel part or a tap part of an img address: element offset and the (y, x) it adds.
struct Part { off: i32, y: i32, x: i32 }

// The per-k parts: `a` offsets A (added to the row's row_a), `p` offsets img.
struct KPart { a: u32, p: Part }

fn ceil_div(a: u32, b: u32) -> u32 { return (a + b - 1u) / b; }

fn dx_axis(r: u32, n: u32, k: u32) -> vec4<u32> {
  let s = params.stride; let p = params.pad;
  let first = (r + s - p % s) % s;                        // the first pixel with (i + p) % s = r
  let count = select(0u, ceil_div(n - first, s), n > first);
  let c = (first + p - r) / s;                            // exact: first + p ≡ r (mod s)
  let taps = select(0u, ceil_div(k - r, s), k > r);
  return vec4<u32>(first, count, c, taps);
}

fn dx_class(z: u32) -> DxClass {
  let ry = z / params.stride; let rx = z % params.stride;
  let a = dx_axis(ry, params.H, params.kh);
  let b = dx_axis(rx, params.W, params.kw);
  return DxClass(ry, rx, a.x, b.x, a.y, b.y, i32(a.z), i32(b.z), a.w, b.w);
}

fn gemm_of(op: u32, z: u32) -> Gemm {
  let P = params;
  let khw = P.kh * P.kw;
  let none = DxClass(0u, 0u, 0u, 0u, 0u, 0u, 0, 0, 0u, 0u);
  if (op == FWD) {
    let odd0 = select(0u, (P.kw + 1u) / 2u, P.stride == 2u);
    return Gemm(P.Cout, P.B * P.Ho * P.Wo, P.Cin * khw, P.kh, P.kw, z, none, odd0);
  }
  if (op == DX) {
    let c = dx_class(z);
    return Gemm(P.Cin, P.B * c.hc * c.wc, P.Cout * c.nky * c.nkx, c.nky, c.nkx, z, c, 0u);
  }
  let b0 = z * P.bsplit;
  let nb = min(P.bsplit, P.B - min(b0, P.B));
  return Gemm(P.Cout, P.Cin * khw, nb * P.Ho * P.Wo, P.Ho, P.Wo, z, none, 0u);
}

// The x pixel part of output position (b, oy, ox): forward's columns, backward-weight's k.
fn x_pixel(b: u32, oy: u32, ox: u32) -> Part {
  let P = params;
  let iy = i32(oy * P.stride) - i32(P.pad);
  let ix = i32(ox * P.stride) - i32(P.pad);
  return Part(i32(b * P.Cin * P.H * P.W) + iy * i32(P.W) + ix, iy, ix);
}

// The x tap part of (ci, ky, kx): forward's k, backward-weight's columns.
fn x_tap(ci: u32, ky: u32, kx: u32) -> Part {
  let P = params;
  return Part(i32(ci * P.H * P.W + ky * P.W + kx), i32(ky), i32(kx));
}

// Forward visits a row's taps kx = 0, 1, 2, ... at stride 1 and even-then-odd (0, 2, 4, ...,
// 1, 3, ...) at stride 2, so consecutive taps of a run sit one output column apart (see
// conv_direct's sliding window); odd0 is the digit where the odd run starts (0: none).
fn fwd_kx(g: Gemm, d2: u32) -> u32 {
  if (g.odd0 == 0u) { return d2; }
  return select(2u * (d2 - g.odd0) + 1u, 2u * d2, d2 < g.odd0);
}

fn k_part(op: u32, g: Gemm, d0: u32, d1: u32, d2: u32) -> KPart {
  let P = params;
  let khw = P.kh * P.kw;
  if (op == FWD) { let kx = fwd_kx(g, d2); return KPart((d0 * P.kh + d1) * P.kw + kx, x_tap(d0, d1, kx)); }
  if (op == DX) {
    // d0 = co, d1 = u, d2 = v: w[co, ·, ry + s·u, rx + s·v] and dy at (y − u, x − v).
    let c = g.c;
    let a = d0 * P.Cin * khw + (c.ry + P.stride * d1) * P.kw + c.rx + P.stride * d2;
    let T = P.Ho * P.Wo;
    return KPart(a, Part(i32(d0 * T) - i32(d1 * P.Wo + d2), -i32(d1), -i32(d2)));
  }
  // DW: d0 = example within the split, d1 = oy, d2 = ox.
  let b = g.z * P.bsplit + d0;
  return KPart((b * P.Cout * P.Ho + d1) * P.Wo + d2, x_pixel(b, d1, d2));
}

fn col_part(op: u32, g: Gemm, n: u32) -> Part {
  let P = params;
  if (op == FWD) {
    let T = P.Ho * P.Wo; let t = n % T;
    return x_pixel(n / T, t / P.Wo, t % P.Wo);
  }
  if (op == DX) {
    let c = g.c;
    let hw = c.hc * c.wc; let r = n % hw;
    let y = i32(r / c.wc) + c.cy; let x = i32(r % c.wc) + c.cx;
    return Part(i32((n / hw) * P.Cout * P.Ho * P.Wo) + y * i32(P.Wo) + x, y, x);
  }
  let khw = P.kh * P.kw; let r = n % khw;
  return x_tap(n / khw, r / P.kw, r % P.kw);
}

// Offset of A's row m (added to k_part's `a`).
fn row_a(op: u32, m: u32) -> u32 {
  let P = params;
  if (op == FWD) { return m * P.Cin * P.kh * P.kw; }
  if (op == DX) { return m * P.kh * P.kw; }
  return m * P.Ho * P.Wo;
}

// The img bounds (y, x) a gathered element must lie in: x's for forward and backward-weight,
// dy's for backward-input.
fn img_bounds(op: u32) -> vec2<i32> {
  if (op == DX) { return vec2<i32>(i32(params.Ho), i32(params.Wo)); }
  return vec2<i32>(i32(params.H), i32(params.W));
}

// `&`, not `&&`: a short-circuit chain is a branch per term, and with eight gathers inlined
// into the k loop SwiftShader's shader compiler did not finish in minutes (Chromium's
// watchdog then drops the device); the non-short-circuit form compiles in 0.4 s there.
fn gather(c: Part, k: Part, hw: vec2<i32>, live: bool) -> f32 {
  let y = c.y + k.y; let x = c.x + k.x;
  let ok = live & (y >= 0) & (y < hw.x) & (x >= 0) & (x < hw.y);
  return select(0.0, img[select(0u, u32(c.off + k.off), ok)], ok);
}

// Where C[m, n] goes in dst: dst[store_col(n) + m·store_row()].
fn store_col(op: u32, g: Gemm, n: u32) -> u32 {
  let P = params;
  if (op == FWD) { let T = P.Ho * P.Wo; return (n / T) * P.Cout * T + n % T; }
  if (op == DX) {
    let c = g.c;
    let hw = c.hc * c.wc; let r = n % hw;
    let iy = c.iyf + P.stride * (r / c.wc); let ix = c.ixf + P.stride * (r % c.wc);
    return (n / hw) * P.Cin * P.H * P.W + iy * P.W + ix;
  }
  return g.z * P.Cout * g.N + n;
}

fn store_row(op: u32, g: Gemm) -> u32 {
  let P = params;
  if (op == FWD) { return P.Ho * P.Wo; }
  if (op == DX) { return P.H * P.W; }
  return g.N;
}

fn epilogue(i: u32, m: u32, acc: f32) -> f32 {
  var v = params.alpha * acc;
  if (params.beta != 0.0) { v += params.beta * dst[i]; }
  if (HAS_BIAS != 0u) { v += bias[m]; }
  if (RELU != 0u) { v = max(v, 0.0); }
  return v;
}

// k's digits (d0, d1, d2) for radices (r1, r2), and the step to k + 1.
fn digits(g: Gemm, k: u32) -> vec3<u32> {
  let q = k / g.r2;
  return vec3<u32>(q / g.r1, q % g.r1, k % g.r2);
}

fn next_digits(g: Gemm, d: vec3<u32>) -> vec3<u32> {
  var e = d + vec3<u32>(0u, 0u, 1u);
  if (e.z == g.r2) { e.z = 0u; e.y += 1u; }
  if (e.y == g.r1) { e.y = 0u; e.x += 1u; }
  return e;
}

// Stores an 8×8 block: rows m0 .. m0+7, columns n0 .. n0+7; c[i] / d[i] hold row m0 + i,
// columns n0 .. n0+3 / n0+4 .. n0+7.
fn store_block(op: u32, g: Gemm, m0: u32, n0: u32, c: array<vec4<f32>, 8>, d: array<vec4<f32>, 8>) {
  let rs = store_row(op, g);
  for (var j = 0u; j < 8u; j++) {
    let n = n0 + j;
    if (n >= g.N) { break; }
    let base = store_col(op, g, n);
    for (var i = 0u; i < 8u; i++) {
      let m = m0 + i;
      if (m >= g.M) { break; }
      let v = select(c[i][j % 4u], d[i][j % 4u], j >= 4u);
      let at = base + m * rs;
      dst[at] = epilogue(at, m, v);
    }
  }
}

// The three products (see the header): an 8×8 block of C per invocation, operands straight
// from global memory. b0, b1 hold the 8 gathered B values of the current k (columns n0 .. +3,
// n0+4 .. +7); a sliding step moves them one column and gathers the one new value.
fn conv_direct(op: u32, wg: vec3<u32>, lid: vec3<u32>) {
  let g = gemm_of(op, wg.z);
  let m0 = (wg.y * WG_Y + lid.y) * 8u; let n0 = (wg.x * WG_X + lid.x) * 8u;
  if (n0 >= g.N || m0 >= g.M) { return; }
  let Mc = g.M - 1u; let Nc = g.N - 1u;
  let r0 = vec4<u32>(row_a(op, m0), row_a(op, min(m0 + 1u, Mc)), row_a(op, min(m0 + 2u, Mc)), row_a(op, min(m0 + 3u, Mc)));
  let r1 = vec4<u32>(row_a(op, min(m0 + 4u, Mc)), row_a(op, min(m0 + 5u, Mc)), row_a(op, min(m0 + 6u, Mc)), row_a(op, min(m0 + 7u, Mc)));
  var cp: array<Part, 8>;
  for (var j = 0u; j < 8u; j++) { cp[j] = col_part(op, g, min(n0 + j, Nc)); }
  let hw = img_bounds(op);
  var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0); var c5 = vec4<f32>(0.0); var c6 = vec4<f32>(0.0); var c7 = vec4<f32>(0.0);
  var d0 = vec4<f32>(0.0); var d1 = vec4<f32>(0.0); var d2 = vec4<f32>(0.0); var d3 = vec4<f32>(0.0);
  var d4 = vec4<f32>(0.0); var d5 = vec4<f32>(0.0); var d6 = vec4<f32>(0.0); var d7 = vec4<f32>(0.0);
  var dg = vec3<u32>(0u);
  var b0 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0);
  let rowlen = select(params.Wo, g.c.wc, op == DX);
  let slide = op != DW && rowlen % 8u == 0u && (op == DX || params.stride <= 2u);
  for (var k = 0u; k < g.K; k++) {
    let kp = k_part(op, g, dg.x, dg.y, dg.z);
    let a0 = vec4<f32>(lhs[r0.x + kp.a], lhs[r0.y + kp.a], lhs[r0.z + kp.a], lhs[r0.w + kp.a]);
    let a1 = vec4<f32>(lhs[r1.x + kp.a], lhs[r1.y + kp.a], lhs[r1.z + kp.a], lhs[r1.w + kp.a]);
    if (slide && dg.z > 0u && dg.z != g.odd0) {
      if (op == FWD) {
        b0 = vec4<f32>(b0.yzw, b1.x); b1 = vec4<f32>(b1.yzw, gather(cp[7], kp.p, hw, true));
      } else {
        b1 = vec4<f32>(b0.w, b1.xyz); b0 = vec4<f32>(gather(cp[0], kp.p, hw, true), b0.xyz);
      }
    } else {
      b0 = vec4<f32>(gather(cp[0], kp.p, hw, true), gather(cp[1], kp.p, hw, n0 + 1u < g.N),
                     gather(cp[2], kp.p, hw, n0 + 2u < g.N), gather(cp[3], kp.p, hw, n0 + 3u < g.N));
      b1 = vec4<f32>(gather(cp[4], kp.p, hw, n0 + 4u < g.N), gather(cp[5], kp.p, hw, n0 + 5u < g.N),
                     gather(cp[6], kp.p, hw, n0 + 6u < g.N), gather(cp[7], kp.p, hw, n0 + 7u < g.N));
    }
    c0 += a0.x * b0; c1 += a0.y * b0; c2 += a0.z * b0; c3 += a0.w * b0;
    c4 += a1.x * b0; c5 += a1.y * b0; c6 += a1.z * b0; c7 += a1.w * b0;
    d0 += a0.x * b1; d1 += a0.y * b1; d2 += a0.z * b1; d3 += a0.w * b1;
    d4 += a1.x * b1; d5 += a1.y * b1; d6 += a1.z * b1; d7 += a1.w * b1;
    dg = next_digits(g, dg);
  }
  store_block(op, g, m0, n0, array<vec4<f32>, 8>(c0, c1, c2, c3, c4, c5, c6, c7), array<vec4<f32>, 8>(d0, d1, d2, d3, d4, d5, d6, d7));
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn conv2d_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) { conv_direct(FWD, wg, lid); }

@compute @workgroup_size(WG_X, WG_Y, 1)
fn conv2d_backward_input(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) { conv_direct(DX, wg, lid); }

@compute @workgroup_size(WG_X, WG_Y, 1)
fn conv2d_backward_weight(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) { conv_direct(DW, wg, lid); }

@compute @workgroup_size(BG_WG, 1, 1)
fn conv2d_bias_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                    @builtin(local_invocation_id) lid: vec3<u32>) {
  let P = params;
  let o = wg.y * groups.x + wg.x;
  let T = P.Ho * P.Wo;
  // Channels past Cout run empty loops but still meet the barrier.
  let nb = select(0u, P.B, o < P.Cout);
  var acc = 0.0;
  for (var b = 0u; b < nb; b++) {
    let row = (b * P.Cout + o) * T;
    for (var t = lid.x; t < T; t += BG_WG) { acc += img[row + t]; }
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  if (lid.x == 0u && o < P.Cout) {
    var s = 0.0;
    for (var l = 0u; l < BG_WG; l++) { s += partial[l]; }
    var v = P.alpha * s;
    if (P.beta != 0.0) { v += P.beta * db[o]; }
    db[o] = v;
  }
}
