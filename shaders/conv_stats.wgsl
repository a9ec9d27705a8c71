// conv_stats: per-example gradient statistics of a convolution layer (SPEC 1.4, 1.6, 11) for
// Gradient Clustering's A-step and U-step and for per-example squared norms. A conv layer with
// input x [B, Cin, H, W] and output gradient δ = dy [B, Cout, Ho, Wo] (NCHW, dense), kernel
// kh×kw, stride s, zero padding p, has the unfolded patches a_{i,t} ∈ R^din, din = Cin·kh·kw in
// the weight layout's order (cin, ky, kx), T = Ho·Wo positions (oy, ox), and the per-example
// weight gradient g_i = Σ_t δ_{i,t} a_{i,t}ᵀ ∈ R^{Cout×din}. Rank-1 centres C_k = d_k c_kᵀ
// (Ci [C, din] rows c_k, Co [C, Cout] rows d_k). The statistics, by two contractions each:
//   GG[i]   = ||g_i||²    type 1: Σ_{s,t} <a_s, a_t>·<δ_s, δ_t>   type 2: Σ g_i²
//   CG[i,k] = <C_k, g_i>  type 1: Σ_t <c_k, a_t>·<d_k, δ_t>       type 2: Σ_{o,j} d_k[o] g_i[o,j] c_k[j]
// The host (src/kernels/conv_stats_layer.ts) picks each contraction by the code's cost
// formulas and walks the batch in chunks of nb examples (n0 = the chunk's first), so patches
// and per-example gradients exist for one chunk at a time. The products with the centres
// (P = U·CiT, Q = DT·CoT, H = GTᵀ·CiT) are matmuls (matmul.wgsl); the rest is here.
// Memory (dense row-major; "chunk" buffers hold nb examples):
//   x, dy                  the layer's input and output gradient, whole batch
//   U  [nb, T4, din8]      chunk patches a_{n,t}; rows t ≥ T and columns j ≥ din are zero
//   DT [nb, T4, cout8]     chunk δ transposed to position-major; padding zero
//   GT [din8, ld]          chunk gradients transposed, GT[j, n·Cout + o] = g_n[o, j], ld = nb·Cout
//                          (so H = GTᵀ·CiT is matmul's fast Aᵀ·B form); rows j ≥ din are zero
//   CiT [din8, C], CoT [cout8, C]   centre factors transposed, zero-padded
//   P, Q [nb·T4, C], H [nb·Cout, C] the matmul products the CG contractions finish
//   GG [B], CG [B, C]      whole batch, written chunk by chunk at rows n0 ..
//   ci2, co2 [C]           ||c_k||², ||d_k||²;  dist [B, C] the layers' Σ ||g_i − C_k||²
// T4 = T rounded up to 4, din8 / cout8 rounded up to 8: the inner loops then read whole vec4s
// without edge tests, and the zeros add nothing to any sum.
//
//   conv_unfold       U from x (im2col of the chunk)
//   conv_dy_t         DT from dy
//   conv_pegrad       GT[j, n·Cout + o] = Σ_t DT[n,t,o]·U[n,t,j]   (g_n for type 2)
//   conv_sumsq_cols   out[n0 + r] = Σ_{a<din8} Σ_{c<L} X[a·ld + r·L + c]²   (GG type 2 from GT, L = Cout)
//   conv_gram_gg      GG[n0 + n] = Σ_{s,t} (U_s·U_t)(DT_s·DT_t)            (GG type 1)
//   conv_cg_rows      CG[n0 + n, k] = Σ_{l<L} X[(n·L + l)·C + k]·Y[n·yn + l·yl + k·yk]
//                     type 1: X = P, Y = Q, L = T4, (yn, yl, yk) = (T4·C, C, 1)
//                     type 2: X = H, Y = Co, L = Cout, (yn, yl, yk) = (0, 1, Cout)
//   conv_pad_t        out[c, r] = c < L ? X[r·L + c] : 0 for c < ld, r < R   ([R, L] → [ld, R])
//   conv_dist_accum   dist[i,k] = beta·dist[i,k] + ci2[k]·co2[k] − 2·CG[i,k] + GG[i]  (as gc_dist_accum)
//   conv_sqnorm_accum norms[i] = beta·norms[i] + GG[i] + bias·bsq[i]  (bsq = ||Σ_t δ_{i,t}||², the
//                     conv bias gradient's squared norm)
//   conv_patch_mean   out[n0 + n, j] = scale·Σ_t a_{n0+n,t}[j]   (U-step Ais: scale = 1/(T·stable))
//   conv_dsum         out[r] = scale·Σ_{t<T} dy[r·T + t] over rows r = n0·Cout ..
//                     (U-step Gos: scale = stable; scale = 1 gives Σ_t δ for the bias norm)
// beta = 0 never reads the output (it may hold garbage or NaN, as in BLAS).
//
// Thread mappings (flat entry points: one invocation per output item, e = g·WG + lid.x with the
// group index g = wg.y·groups.x + wg.x, folded into 2-D by the host past 65535 groups):
//   conv_unfold, conv_dy_t: one invocation per row (n, t), walking j (or o) in order, so
//     nothing is divided in the inner loop; neighbouring lanes (t) read neighbouring words of
//     x (stride 1) and dy. One invocation per output vec4, decoding (cin, ky, kx) per
//     component, measured 2× slower on llvmpipe (divisions, not memory, were the cost).
//   conv_pegrad: one invocation per 8×8 block (8 o × 8 j) of one example's g, blocks of all
//     chunk examples flattened, j-blocks fastest: neighbouring lanes share the DT loads (a
//     broadcast) and read neighbouring U vec4s. Per position t: two vec4 of DT (8 o), two of U
//     (8 j), 64 multiply-adds into 16 vec4 accumulators; no workgroup memory, no barriers. This
//     is matmul_vec4's register block with both operands stored along m / n (a batched Aᵀ·B),
//     the layout that needs no staging; on llvmpipe loads per multiply-add are the cost
//     (7–10 GFLOP/s, as matmul). Reading the patches straight from a zero-padded copy of x
//     (no U) was tried: 8 scalar gathers per t instead of two vec4 loads; with the unfold
//     saved it was 1.4× faster at Cout = 16, even at 32 and 1.2× slower at Cout = 64 (each
//     o-block gathers again), so U stays (the type-1 paths need it anyway).
//   conv_gram_gg: one workgroup of WG lanes per example; lane x takes 4×4 blocks (s0, t0) of
//     the T4×T4 position pairs, p = x, x + WG, ..., only s0 ≤ t0 (the Gram matrices are
//     symmetric: off-diagonal blocks count twice), and forms both Grams' 4×4 blocks from eight
//     vec4 loads per 4 columns (one 4×4 matrix product); the lanes' partial sums meet once in
//     workgroup memory and lane 0 adds them in lane order (deterministic).
//   conv_sumsq_cols: one workgroup of WG lanes per example; lane x sums GT rows x, x + WG, ...
//     (each a contiguous run of Cout words), then the same in-order combine.
//   conv_cg_rows: one invocation per (n, k), k fastest, looping over l: neighbours read
//     neighbouring words of X (and of Y in type 1).
//   conv_patch_mean: one invocation per (n, j), summing x over the rectangle of window
//     positions that lie inside the image (no per-position edge test). conv_dsum: one per row.
// Invocations past the edge return at once, except in the two combining kernels, where they
// run empty loops and meet the barrier.

struct Params {
  nb: u32,     // examples (or rows) this launch covers
  n0: u32,     // the chunk's first example in the batch
  Cin: u32, H: u32, W: u32,
  Cout: u32, Ho: u32, Wo: u32,
  kh: u32, kw: u32, stride: u32, pad: u32,
  T4: u32,     // positions per example in U and DT (T rounded up to 4)
  din8: u32,   // row stride of U, rows of GT and CiT (din rounded up to 8)
  cout8: u32,  // row stride of DT (Cout rounded up to 8)
  C: u32,      // clusters
  R: u32, L: u32, ld: u32,    // row ops: rows, row length, row stride (GT, pad output)
  yn: u32, yl: u32, yk: u32,  // conv_cg_rows: strides of Y
  bias: u32,   // conv_sqnorm_accum: 1 adds bsq
  beta: f32,   // out = beta·out + new; 0 never reads out
  scale: f32,  // conv_patch_mean, conv_dsum
}

@group(0) @binding(0) var<uniform> params: Params;
// Binding numbers are re-used by different variables in different entry points; a buffer one
// entry point writes and another reads appears twice (`w` / `_in` suffixes).
//   conv_unfold       1 x     2 Uw (rw)         conv_dy_t          1 dy   2 DTw (rw)
//   conv_pegrad       1 U     2 DT   3 GT (rw)  conv_gram_gg       1 U    2 DT   3 GG (rw)
//   conv_sumsq_cols   1 X     2 out (rw)        conv_pad_t         1 X    2 out (rw)
//   conv_cg_rows      1 X     2 Y    3 CG (rw)
//   conv_patch_mean   1 x     2 out (rw)        conv_dsum          1 dy   2 out (rw)
//   conv_dist_accum   1 GG_in 2 CG_in 3 ci2 4 co2 5 dist (rw)
//   conv_sqnorm_accum 1 GG_in 2 bsq  3 norms (rw)
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> U: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> GG_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> Uw: array<f32>;
@group(0) @binding(2) var<storage, read_write> DTw: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> DT: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> CG_in: array<f32>;
@group(0) @binding(2) var<storage, read> bsq: array<f32>;
@group(0) @binding(3) var<storage, read_write> GT: array<f32>;
@group(0) @binding(3) var<storage, read_write> GG: array<f32>;
@group(0) @binding(3) var<storage, read_write> CG: array<f32>;
@group(0) @binding(3) var<storage, read> ci2: array<f32>;
@group(0) @binding(3) var<storage, read_write> norms: array<f32>;
@group(0) @binding(4) var<storage, read> co2: array<f32>;
@group(0) @binding(5) var<storage, read_write> dist: array<f32>;

// invocations per workgroup (lanes per row / per example in the two combining kernels)
override WG: u32 = 64;

// conv_sumsq_cols, conv_gram_gg: lane x's partial sum before the combine
var<workgroup> part: array<f32, 256>;

fn group_index(wg: vec3<u32>, groups: vec3<u32>) -> u32 {
  return wg.y * groups.x + wg.x;
}

fn flat(wg: vec3<u32>, groups: vec3<u32>, lid: vec3<u32>) -> u32 {
  return group_index(wg, groups) * WG + lid.x;
}

// Lane 0's in-order sum of the WG partials. Called from uniform control flow (a barrier).
fn combine(lane: u32, acc: f32) -> f32 {
  part[lane] = acc;
  workgroupBarrier();
  var s = 0.0;
  for (var l = 0u; l < WG; l++) { s += part[l]; }
  return s;
}

// Row t of example n's patches: U[n, t, j] for j < din8, zero past din, outside the image and
// for t ≥ T. The (cin, ky, kx) loops walk j in order, so nothing is divided inside them, and
// every load uses a clamped (in-bounds) index with the value selected away when outside.
@compute @workgroup_size(WG, 1, 1)
fn conv_unfold(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  if (e >= params.nb * params.T4) { return; }
  let n = e / params.T4;
  let t = e - n * params.T4;
  let H = i32(params.H);
  let W = i32(params.W);
  let live = t < params.Ho * params.Wo;
  let oy = t / params.Wo;
  let by = i32(oy * params.stride) - i32(params.pad);
  let bx = i32((t - oy * params.Wo) * params.stride) - i32(params.pad);
  var src = (params.n0 + n) * params.Cin * params.H * params.W;
  var dst = e * params.din8;
  for (var c = 0u; c < params.Cin; c++) {
    for (var ky = 0; ky < i32(params.kh); ky++) {
      let iy = by + ky;
      let rowok = live && iy >= 0 && iy < H;
      let row = src + u32(clamp(iy, 0, H - 1) * W);
      for (var kx = 0; kx < i32(params.kw); kx++) {
        let ix = bx + kx;
        let v = x[row + u32(clamp(ix, 0, W - 1))];
        Uw[dst] = select(0.0, v, rowok && ix >= 0 && ix < W);
        dst++;
      }
    }
    src += params.H * params.W;
  }
  for (var j = params.Cin * params.kh * params.kw; j < params.din8; j++) {
    Uw[dst] = 0.0;
    dst++;
  }
}

// Row t of example n's δ, transposed: DT[n, t, o] for o < cout8, zero for o ≥ Cout or t ≥ T.
// Neighbouring invocations (t) read neighbouring words of each dy row.
@compute @workgroup_size(WG, 1, 1)
fn conv_dy_t(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  if (e >= params.nb * params.T4) { return; }
  let n = e / params.T4;
  let t = e - n * params.T4;
  let T = params.Ho * params.Wo;
  let Cout = params.Cout;
  let live = t < T;
  let src = (params.n0 + n) * Cout * T + min(t, T - 1u);
  let last = Cout - 1u;
  var dst = e * (params.cout8 / 4u);
  for (var o = 0u; o < params.cout8; o += 4u) {
    let ok = vec4<bool>(live) & (vec4<u32>(o) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(Cout));
    let v = vec4<f32>(dy[src + min(o, last) * T], dy[src + min(o + 1u, last) * T],
                      dy[src + min(o + 2u, last) * T], dy[src + min(o + 3u, last) * T]);
    DTw[dst] = select(vec4<f32>(0.0), v, ok);
    dst++;
  }
}

// Stores row o of example n's 8-column block (columns j0 .. j0+7) into GT, the chunk's
// gradients transposed: GT[j, n·Cout + o] with row stride ld = nb·Cout. Skips o ≥ Cout.
fn store_gt(n: u32, o: u32, j0: u32, lo: vec4<f32>, hi: vec4<f32>) {
  if (o >= params.Cout) { return; }
  let ld = params.ld;
  var at = j0 * ld + n * params.Cout + o;
  GT[at] = lo.x; at += ld; GT[at] = lo.y; at += ld; GT[at] = lo.z; at += ld; GT[at] = lo.w; at += ld;
  GT[at] = hi.x; at += ld; GT[at] = hi.y; at += ld; GT[at] = hi.z; at += ld; GT[at] = hi.w;
}

@compute @workgroup_size(WG, 1, 1)
fn conv_pegrad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  let njb = params.din8 / 8u;
  let nob = params.cout8 / 8u;
  if (e >= params.nb * nob * njb) { return; }
  let jb = e % njb;
  let r = e / njb;
  let ob = r % nob;
  let n = r / nob;
  let din4 = params.din8 / 4u;
  let cout4 = params.cout8 / 4u;
  // vec4 offsets of position 0: columns 8·jb .. of U, rows 8·ob .. of DT
  var ub = n * params.T4 * din4 + 2u * jb;
  var db = n * params.T4 * cout4 + 2u * ob;
  // c_i / d_i: row 8·ob + i of the block, columns 8·jb .. +3 / +4 .. +7
  var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0); var c5 = vec4<f32>(0.0); var c6 = vec4<f32>(0.0); var c7 = vec4<f32>(0.0);
  var d0 = vec4<f32>(0.0); var d1 = vec4<f32>(0.0); var d2 = vec4<f32>(0.0); var d3 = vec4<f32>(0.0);
  var d4 = vec4<f32>(0.0); var d5 = vec4<f32>(0.0); var d6 = vec4<f32>(0.0); var d7 = vec4<f32>(0.0);
  let T = params.Ho * params.Wo;
  for (var t = 0u; t < T; t++) {
    let a0 = DT[db]; let a1 = DT[db + 1u];
    let b0 = U[ub]; let b1 = U[ub + 1u];
    c0 += a0.x * b0; c1 += a0.y * b0; c2 += a0.z * b0; c3 += a0.w * b0;
    c4 += a1.x * b0; c5 += a1.y * b0; c6 += a1.z * b0; c7 += a1.w * b0;
    d0 += a0.x * b1; d1 += a0.y * b1; d2 += a0.z * b1; d3 += a0.w * b1;
    d4 += a1.x * b1; d5 += a1.y * b1; d6 += a1.z * b1; d7 += a1.w * b1;
    ub += din4;
    db += cout4;
  }
  let o = 8u * ob;
  let j0 = 8u * jb;
  store_gt(n, o, j0, c0, d0); store_gt(n, o + 1u, j0, c1, d1);
  store_gt(n, o + 2u, j0, c2, d2); store_gt(n, o + 3u, j0, c3, d3);
  store_gt(n, o + 4u, j0, c4, d4); store_gt(n, o + 5u, j0, c5, d5);
  store_gt(n, o + 6u, j0, c6, d6); store_gt(n, o + 7u, j0, c7, d7);
}

@compute @workgroup_size(WG, 1, 1)
fn conv_sumsq_cols(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = group_index(wg, groups);
  let L = params.L;
  let ld = params.ld;
  let rows = select(0u, params.din8, r < params.R);
  var acc = 0.0;
  for (var a = lid.x; a < rows; a += WG) {
    let row = a * ld + r * L;
    for (var c = 0u; c < L; c++) {
      let v = X[row + c];
      acc += v * v;
    }
  }
  let s = combine(lid.x, acc);
  if (lid.x == 0u && r < params.R) { out[params.n0 + r] = s; }
}

// 4×4 block of the Gram matrix of example-rows s0 .. s0+3 and t0 .. t0+3 of U (row stride ld4
// vec4s from vec4 offset base, len4 vec4s long): m[b][a] = U_{s0+a}·U_{t0+b}.
fn gram_u(base: u32, ld4: u32, len4: u32, s0: u32, t0: u32) -> mat4x4<f32> {
  var acc = mat4x4<f32>();
  var s = base + s0 * ld4;
  var t = base + t0 * ld4;
  for (var q = 0u; q < len4; q++) {
    let S = mat4x4<f32>(U[s], U[s + ld4], U[s + 2u * ld4], U[s + 3u * ld4]);
    let Tm = mat4x4<f32>(U[t], U[t + ld4], U[t + 2u * ld4], U[t + 3u * ld4]);
    acc += transpose(S) * Tm;
    s++;
    t++;
  }
  return acc;
}

// The same for DT (a second copy: WGSL functions cannot take a storage binding as argument).
fn gram_d(base: u32, ld4: u32, len4: u32, s0: u32, t0: u32) -> mat4x4<f32> {
  var acc = mat4x4<f32>();
  var s = base + s0 * ld4;
  var t = base + t0 * ld4;
  for (var q = 0u; q < len4; q++) {
    let S = mat4x4<f32>(DT[s], DT[s + ld4], DT[s + 2u * ld4], DT[s + 3u * ld4]);
    let Tm = mat4x4<f32>(DT[t], DT[t + ld4], DT[t + 2u * ld4], DT[t + 3u * ld4]);
    acc += transpose(S) * Tm;
    s++;
    t++;
  }
  return acc;
}

@compute @workgroup_size(WG, 1, 1)
fn conv_gram_gg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let n = group_index(wg, groups);
  let nblk = params.T4 / 4u;
  let pairs = select(0u, nblk * nblk, n < params.nb);
  let din4 = params.din8 / 4u;
  let cout4 = params.cout8 / 4u;
  let ubase = n * params.T4 * din4;
  let dbase = n * params.T4 * cout4;
  var acc = 0.0;
  for (var p = lid.x; p < pairs; p += WG) {
    let bs = p / nblk;
    let bt = p - bs * nblk;
    if (bs > bt) { continue; }
    let aa = gram_u(ubase, din4, din4, 4u * bs, 4u * bt);
    let dd = gram_d(dbase, cout4, cout4, 4u * bs, 4u * bt);
    let v = dot(aa[0], dd[0]) + dot(aa[1], dd[1]) + dot(aa[2], dd[2]) + dot(aa[3], dd[3]);
    acc += select(2.0, 1.0, bs == bt) * v;
  }
  let s = combine(lid.x, acc);
  if (lid.x == 0u && n < params.nb) { GG[params.n0 + n] = s; }
}

@compute @workgroup_size(WG, 1, 1)
fn conv_cg_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  let C = params.C;
  if (e >= params.R * C) { return; }
  let n = e / C;
  let k = e - n * C;
  var xi = n * params.L * C + k;
  var yi = n * params.yn + k * params.yk;
  var acc = 0.0;
  for (var l = 0u; l < params.L; l++) {
    acc += X[xi] * Y[yi];
    xi += C;
    yi += params.yl;
  }
  CG[(params.n0 + n) * C + k] = acc;
}

@compute @workgroup_size(WG, 1, 1)
fn conv_pad_t(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  let R = params.R;
  if (e >= params.ld * R) { return; }
  let c = e / R;
  let r = e - c * R;
  var v = 0.0;
  if (c < params.L) { v = X[r * params.L + c]; }
  out[e] = v;
}

@compute @workgroup_size(WG, 1, 1)
fn conv_dist_accum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  let C = params.C;
  if (e >= params.nb * C) { return; }
  let i = e / C;
  let k = e - i * C;
  // Parentheses around 2·CG as in gc.wgsl (wgsl_reflect lexes `]-2.0` as a negative literal).
  var v = (ci2[k] * co2[k] - (2.0 * CG_in[e])) + GG_in[i];
  if (params.beta != 0.0) { v += params.beta * dist[e]; }
  dist[e] = v;
}

@compute @workgroup_size(WG, 1, 1)
fn conv_sqnorm_accum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flat(wg, groups, lid);
  if (i >= params.nb) { return; }
  var v = GG_in[i];
  if (params.bias != 0u) { v += bsq[i]; }
  if (params.beta != 0.0) { v += params.beta * norms[i]; }
  norms[i] = v;
}

// Window positions o (along one axis) whose tap k lands inside [0, size): o·s + k − p ∈ [0, size).
fn first_pos(k: u32) -> u32 {
  let p = params.pad;
  let s = params.stride;
  if (k >= p) { return 0u; }
  return (p - k + s - 1u) / s;
}

fn end_pos(k: u32, size: u32, nout: u32) -> u32 {
  let lim = i32(size) - 1 + i32(params.pad) - i32(k);
  if (lim < 0) { return 0u; }
  return min(nout, u32(lim) / params.stride + 1u);
}

@compute @workgroup_size(WG, 1, 1)
fn conv_patch_mean(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  let khw = params.kh * params.kw;
  let din = params.Cin * khw;
  if (e >= params.nb * din) { return; }
  let n = e / din;
  let j = e - n * din;
  let c = j / khw;
  let ky = (j - c * khw) / params.kw;
  let kx = j - c * khw - ky * params.kw;
  let s = params.stride;
  let W = params.W;
  let xb = ((params.n0 + n) * params.Cin + c) * params.H * W;
  let x0 = first_pos(kx);
  let x1 = end_pos(kx, W, params.Wo);
  var acc = 0.0;
  for (var oy = first_pos(ky); oy < end_pos(ky, params.H, params.Ho); oy++) {
    let row = xb + (oy * s + ky - params.pad) * W + kx - params.pad;
    for (var ox = x0; ox < x1; ox++) { acc += x[row + ox * s]; }
  }
  out[(params.n0 + n) * din + j] = params.scale * acc;
}

@compute @workgroup_size(WG, 1, 1)
fn conv_dsum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
             @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flat(wg, groups, lid);
  if (e >= params.nb * params.Cout) { return; }
  let r = params.n0 * params.Cout + e;
  let T = params.Ho * params.Wo;
  var acc = 0.0;
  for (var t = 0u; t < T; t++) { acc += dy[r * T + t]; }
  out[r] = params.scale * acc;
}
