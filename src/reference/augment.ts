// float64 reference for shaders/augment.wgsl, written as torchvision composes the transform:
// pad each image with zeros (here: with the normalised zero, fill[c]) to (H + 2·pad)×(W + 2·pad),
// crop the H×W window whose top-left corner is (dy, dx), then mirror the crop left-right.
// x, out: [B, C, H, W]; offsets: [B, 3] (dy, dx, flip); fill: [C].

export interface AugmentRefArgs {
  B: number;
  C: number;
  H: number;
  W: number;
  pad: number;
}

/** The padded image of one (example, channel) plane: [(H + 2·pad), (W + 2·pad)]. */
function padPlane(x: ArrayLike<number>, at: number, H: number, W: number, pad: number, fill: number): Float64Array {
  const Wp = W + 2 * pad;
  const p = new Float64Array((H + 2 * pad) * Wp).fill(fill);
  for (let y = 0; y < H; y++) for (let c = 0; c < W; c++) p[(y + pad) * Wp + c + pad] = x[at + y * W + c];
  return p;
}

export function augmentRef(x: ArrayLike<number>, offsets: ArrayLike<number>, fill: ArrayLike<number>, a: AugmentRefArgs): Float64Array {
  const { B, C, H, W, pad } = a;
  const Wp = W + 2 * pad;
  const out = new Float64Array(B * C * H * W);
  for (let b = 0; b < B; b++) {
    const [dy, dx, flip] = [offsets[3 * b], offsets[3 * b + 1], offsets[3 * b + 2]];
    for (let c = 0; c < C; c++) {
      const plane = (b * C + c) * H * W;
      const P = padPlane(x, plane, H, W, pad, fill[c]);
      const crop = new Float64Array(H * W);
      for (let y = 0; y < H; y++) for (let j = 0; j < W; j++) crop[y * W + j] = P[(y + dy) * Wp + j + dx];
      for (let y = 0; y < H; y++) {
        for (let j = 0; j < W; j++) out[plane + y * W + j] = crop[y * W + (flip ? W - 1 - j : j)];
      }
    }
  }
  return out;
}
