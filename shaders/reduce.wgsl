// reduce: sums along one axis of a dense row-major f32 matrix X[R, Cc] (row stride Cc), or of
// the elementwise product of two such matrices X and Y (rowdot).
//
//   colsum    out[c] = alpha * Σ_r X[r, c]   + beta * out[c]     out: [Cc]
//             the bias gradient: for y = x + b broadcast over rows, db = Σ_rows dy
//   rowsumsq  out[r] = alpha * Σ_c X[r, c]²  + beta * out[r]     out: [R]
//             per-example squared norms (rows = examples)
//   rowdot    out_dot[r] = alpha * Σ_c X[r, c]·Y[r, c] + beta * out_dot[r]   out_dot: [R]
//             per-example dots of two factor rows of the same shape (SVRG's exact variance
//             needs a_i·Δa_i and Δδ_i·δ̃_i, which a difference of squared norms would lose
//             to cancellation when the two weights are close)
// beta = 0 never reads out (it may hold garbage or NaN beforehand, as in BLAS); beta = 1
// accumulates, e.g. a sum of squared norms over several layers.
//
// Every entry point reads X (and Y) so that neighbouring invocations (along x) touch
// neighbouring words, and splits the long axis over WG_Y (colsum) or WG_X (rowsumsq,
// rowdot) lanes whose partial sums meet once in workgroup memory (one barrier, then one
// invocation adds the partials in lane order, so the result is deterministic for a given
// configuration).
//
// colsum: workgroup = WG_X columns × WG_Y row lanes. Invocation (x, y) of group g owns
//   column c = g * WG_X + x and sums rows y, y + WG_Y, y + 2·WG_Y, ...; a step of the row
//   loop reads WG_X consecutive words of one row per lane. Lane y = 0 adds the WG_Y partials.
// rowsumsq, rowdot: workgroup = WG_X lanes along a row × WG_Y rows. Invocation (x, y) of
//   group g owns row r = g * WG_Y + y and sums columns x, x + WG_X, ...; lane x = 0 adds the
//   WG_X partials. WG_X = 1 is the plain one-invocation-per-row loop.
// The group index g = wg.y * groups.x + wg.x: the host folds more than 65535 groups into a
// 2-D grid (grid1d). Invocations past the edge still reach the barrier (WGSL requires it in
// uniform control flow) with empty loops, and store nothing.
//
// WG_X * WG_Y ≤ 256 (the host checks), which the 1 KiB partial array below is sized for.

struct Params {
  R: u32,
  Cc: u32,
  alpha: f32,
  beta: f32,
}

// Binding numbers are re-used by different variables in different entry points (only the
// variables one entry point uses must have distinct bindings):
//   colsum, rowsumsq  1 X  2 out (rw)
//   rowdot            1 X  2 Y  3 out_dot (rw)
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out_dot: array<f32>;

override WG_X: u32 = 64;
override WG_Y: u32 = 4;

// partial[y * WG_X + x]: the sum held by invocation (x, y) before the combine.
var<workgroup> partial: array<f32, 256>;

// The row kernels' combine: each lane's partial meets in workgroup memory, then the WG_X
// partials of row lid.y are added in lane order (deterministic). Every lane gets the sum;
// the caller lets lane x = 0 store it. Called from uniform control flow (it holds a barrier).
fn combine_row(lid: vec3<u32>, acc: f32) -> f32 {
  partial[lid.y * WG_X + lid.x] = acc;
  workgroupBarrier();
  var s = 0.0;
  for (var x = 0u; x < WG_X; x++) { s += partial[lid.y * WG_X + x]; }
  return s;
}

fn finish(i: u32, acc: f32) {
  var v = params.alpha * acc;
  if (params.beta != 0.0) { v += params.beta * out[i]; }
  out[i] = v;
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn colsum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
  let Cc = params.Cc;
  let c = (wg.y * groups.x + wg.x) * WG_X + lid.x;
  // Out-of-range columns run no iterations (rows = 0) but still meet the barrier.
  let rows = select(0u, params.R, c < Cc);
  var acc = 0.0;
  for (var r = lid.y; r < rows; r += WG_Y) {
    acc += X[r * Cc + c];
  }
  partial[lid.y * WG_X + lid.x] = acc;
  workgroupBarrier();
  if (lid.y == 0u && c < Cc) {
    var s = 0.0;
    for (var y = 0u; y < WG_Y; y++) { s += partial[y * WG_X + lid.x]; }
    finish(c, s);
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn rowsumsq(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
  let Cc = params.Cc;
  let r = (wg.y * groups.x + wg.x) * WG_Y + lid.y;
  let cols = select(0u, Cc, r < params.R);
  let row = r * Cc;
  var acc = 0.0;
  for (var c = lid.x; c < cols; c += WG_X) {
    let v = X[row + c];
    acc += v * v;
  }
  let s = combine_row(lid, acc);
  if (lid.x == 0u && r < params.R) { finish(r, s); }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn rowdot(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
  let Cc = params.Cc;
  let r = (wg.y * groups.x + wg.x) * WG_Y + lid.y;
  let cols = select(0u, Cc, r < params.R);
  let row = r * Cc;
  var acc = 0.0;
  for (var c = lid.x; c < cols; c += WG_X) {
    acc += X[row + c] * Y[row + c];
  }
  let s = combine_row(lid, acc);
  if (lid.x == 0u && r < params.R) {
    var v = params.alpha * s;
    if (params.beta != 0.0) { v += params.beta * out_dot[r]; }
    out_dot[r] = v;
  }
}
