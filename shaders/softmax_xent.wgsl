// softmax_xent: fused softmax + cross-entropy, forward and backward in one pass over each row
// i of the logits z[B, K] (dense row-major f32), with labels[B] (u32) and weights w[B]:
//   p_i          = softmax(z_i) = exp(z_i − m_i) / s_i,  m_i = max_k z_ik,  s_i = Σ_k exp(z_ik − m_i)
//   q_ik         = 1 − eps on k = label_i, eps / (K − 1) elsewhere   (label smoothing, SPEC 5.5;
//                  eps = 0 is the one-hot target of plain cross-entropy)
//   loss[i]      = w_i · Σ_k −q_ik log p_ik                          [B]
//   dlogits[i,k] = dscale · w_i · (p_ik − q_ik)                      [B, K]
//   correct[i]   = 1.0 if argmax_k z_ik == label_i else 0.0          [B]  (first index on ties)
// dscale is the loss scale of the caller (1/B for a mean over the batch); loss[] is unscaled.
// HAS_WEIGHTS = 0 takes w_i = 1 and never reads `weights` (the host binds a dummy there).
//
// The loss without forming log p: log p_k = (z_k − m) − log s and Σ_k q_k = 1, so with
// d_k = z_k − m and y = label_i,
//   Σ_k −q_k log p_k = log s − [(1 − eps)·d_y + eps/(K−1) · (Σ_k d_k − d_y)],
// which needs only m, s and Σ_k d_k: two reads of the row, then a third that writes dlogits.
//
// A label ≥ K has no target: that row gets NaN in loss, correct and every dlogits element,
// so a bad label can neither train silently nor go unseen (the host cannot check labels
// that live on the GPU).
//
// Thread mapping: a workgroup is WG_X lanes × WG_Y rows. Invocation (x, y) of group g works on
// row i = g·WG_Y + y (g = wg.y·groups.x + wg.x; the host folds > 65535 groups into 2-D) and
// on its columns k = x, x + WG_X, ..., so the lanes of a row read consecutive words. Each of
// the two reductions (max with argmax, then Σ exp and Σ d) writes one partial per lane to
// workgroup memory; after a barrier every lane of the row combines its row's WG_X partials in
// lane order itself (no second barrier to broadcast, and every lane gets the same bits).
// WG_X = 1 is the plain one-invocation-per-row loop, best for small K on CPU adapters; wider
// rows want more lanes. Rows past B run empty loops (they must still meet the barriers) and
// store nothing. WG_X · WG_Y ≤ 256 (the host checks); the partial arrays are sized for that.

struct Params {
  B: u32,
  K: u32,
  eps: f32,
  dscale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(6) var<storage, read_write> correct: array<f32>;

override WG_X: u32 = 1;
override WG_Y: u32 = 64;
override HAS_WEIGHTS: u32 = 0;

// Per-lane partials, slot y·WG_X + x: the max then Σ exp (part_f), Σ d (part_g), the argmax (part_u).
var<workgroup> part_f: array<f32, 256>;
var<workgroup> part_g: array<f32, 256>;
var<workgroup> part_u: array<u32, 256>;

const LOWEST: f32 = -3.4028234663852886e38; // the most negative finite f32: the max of no elements
const NO_INDEX: u32 = 0xffffffffu;   // the argmax of no elements; loses every tie

@compute @workgroup_size(WG_X, WG_Y, 1)
fn softmax_xent(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let K = params.K;
  let i = (wg.y * groups.x + wg.x) * WG_Y + lid.y;
  let valid = i < params.B;
  let kEnd = select(0u, K, valid);
  let row = i * K;
  let slot = lid.y * WG_X;

  // 1. row max and its first index
  var m = LOWEST;
  var arg = NO_INDEX;
  for (var k = lid.x; k < kEnd; k += WG_X) {
    let z = logits[row + k];
    if (z > m) { m = z; arg = k; }
  }
  part_f[slot + lid.x] = m;
  part_u[slot + lid.x] = arg;
  workgroupBarrier();
  m = LOWEST;
  arg = NO_INDEX;
  for (var l = 0u; l < WG_X; l++) {
    let v = part_f[slot + l];
    let a = part_u[slot + l];
    if (v > m || (v == m && a < arg)) { m = v; arg = a; }
  }
  workgroupBarrier(); // everyone has read part_f before it is overwritten below

  // 2. s = Σ exp(z − m) and Σ (z − m)
  var s = 0.0;
  var sd = 0.0;
  for (var k = lid.x; k < kEnd; k += WG_X) {
    let d = logits[row + k] - m;
    s += exp(d);
    sd += d;
  }
  part_f[slot + lid.x] = s;
  part_g[slot + lid.x] = sd;
  workgroupBarrier();
  s = 0.0;
  sd = 0.0;
  for (var l = 0u; l < WG_X; l++) {
    s += part_f[slot + l];
    sd += part_g[slot + l];
  }
  if (!valid) { return; } // no barrier follows

  // 3. outputs
  let y = labels[i];
  var w = 1.0;
  if (HAS_WEIGHTS != 0u) { w = weights[i]; }
  if (y >= K) {
    var nan_bits = 0x7fc00000u; // a var, so the NaN is made at run time, not folded as a constant
    let nan = bitcast<f32>(nan_bits);
    for (var k = lid.x; k < K; k += WG_X) { dlogits[row + k] = nan; }
    if (lid.x == 0u) { loss[i] = nan; correct[i] = nan; }
    return;
  }
  let eps = params.eps;
  let on = 1.0 - eps;
  let off = select(0.0, eps / f32(max(K, 2u) - 1u), K > 1u);
  let g = params.dscale * w;
  let inv_s = 1.0 / s;
  for (var k = lid.x; k < K; k += WG_X) {
    let p = exp(logits[row + k] - m) * inv_s;
    dlogits[row + k] = g * (p - select(off, on, k == y));
  }
  if (lid.x == 0u) {
    let dy = logits[row + y] - m;
    loss[i] = w * (log(s) - (on * dy + off * (sd - dy)));
    correct[i] = select(0.0, 1.0, arg == y);
  }
}
