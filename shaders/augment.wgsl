// augment: the CIFAR train transform of SPEC 3.2, RandomCrop(H×W, padding = pad) followed by
// RandomHorizontalFlip, applied on the GPU to a batch that was gathered (and normalised) on
// the host. The random choices are drawn on the host, per example, from a seeded Rng
// (drawAugmentOffsets in src/kernels/augment.ts), so a run is reproducible on any adapter.
//
// Memory (dense row-major):
//   x        [B, C, H, W] f32   the batch as the dataset stores it (normalised NCHW)
//   offsets  [B, 3] u32         per example b: dy, dx = the crop's top-left corner in the
//                                padded (H + 2·pad)×(W + 2·pad) image (torchvision's i, j,
//                                each uniform in [0, 2·pad]), then flip ∈ {0, 1}
//   fill     [C] f32            a padded pixel's value per channel. torchvision pads the raw
//                                image with 0 before ToTensor + Normalize, so it is
//                                (0 − mean_c)/std_c, not 0 (Dataset.padValue)
//   out      [B, C, H, W] f32   the augmented batch
//
//   out[b, c, y, x] = P[b, c, y + dy, x' + dx],  x' = W − 1 − x if flip else x
//   P[b, c, u, v]   = x[b, c, u − pad, v − pad] inside the image, fill[c] in the border
// i.e. crop first, then mirror the crop (the flip acts on the output column). Offsets above
// 2·pad are a caller error; even then no read leaves the example's own plane.
//
// Thread mapping: a 3-D grid over (x, y, b). Invocation (gid.x, gid.y) of workgroup layer z
// owns output pixel (y, x) of examples b = z, z + groups.z, ... (a grid-stride loop, so any B
// fits the 65535-group limit of one dispatch dimension) and writes it in every channel: the
// source position and its inside/border test are computed once per (b, y, x) and reused for
// the C channels, and the shader does no integer division. CPU adapters scalarise vector
// divides: a flat one-invocation-per-element version with four divides took ~6 ms for a
// CIFAR batch of 128 on llvmpipe GL, this one 3.4 ms, an axpy over as many elements 2.5 ms.
// Along x, neighbouring invocations write neighbouring words of out and read neighbouring
// words of one source row (descending under a flip). A gather with no reuse: nothing to stage
// in workgroup memory, no barrier. WG_X = 32 covers a CIFAR row; lanes past W or H (odd
// sizes) return at once.

struct Params {
  B: u32,
  C: u32,
  H: u32,
  W: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> fill: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

override WG_X: u32 = 32;
override WG_Y: u32 = 8;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn crop_flip(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let H = params.H;
  let W = params.W;
  let C = params.C;
  let y = gid.y;
  let xo = gid.x;
  if (xo >= W || y >= H) { return; }
  let plane = H * W;
  let pad = params.pad;
  for (var b = gid.z; b < params.B; b += groups.z) {
    let dy = offsets[3u * b];
    let dx = offsets[3u * b + 1u];
    let flip = offsets[3u * b + 2u] != 0u;
    // Padded-image coordinates (u32: a source left of or above the image is < pad).
    let u = y + dy;
    let v = select(xo, W - 1u - xo, flip) + dx;
    let inside = u >= pad && u < pad + H && v >= pad && v < pad + W;
    let src = (u - pad) * W + (v - pad); // within a plane; used only when inside
    let dst = y * W + xo;
    for (var c = 0u; c < C; c++) {
      let base = (b * C + c) * plane;
      var val = fill[c];
      if (inside) { val = x[base + src]; }
      out[base + dst] = val;
    }
  }
}
