// elementwise: the pointwise ops of a training step, one entry point per op, over n f32s.
//
//   relu_forward   y[i]  = max(x[i], 0)
//   relu_backward  dx[i] = dy[i] where y[i] > 0, else 0      (y = the forward OUTPUT)
//   axpy           y[i] += a * x[i]
//   scale          x[i] *= a
//   fill           x[i]  = a
//   square         y[i]  = x[i] * x[i]      (per-coordinate second moments: the squared
//                                           factors of per-example gradients, SPEC 11)
//
// relu_backward reads the forward output y, not the input: the forward ReLU is usually fused
// into the matmul epilogue (bias + ReLU), which stores only y and never the pre-activation.
// y > 0 exactly where x > 0, so the mask is the same; at x = 0 the derivative is taken as 0
// (PyTorch's threshold_backward on the result does the same). It is a select, not dy * mask,
// so an inf or NaN in dy where the unit is off does not leak into dx. (relu_forward of a NaN
// is whatever the adapter's max(NaN, 0) gives: WGSL leaves it to the implementation.)
//
// Thread mapping: one invocation per element, i = (wg.y * groups.x + wg.x) * WG + lid.x, so
// neighbouring invocations touch neighbouring words (coalesced on GPUs, whole SIMD vectors
// on CPU adapters). The grid is 1-D until n needs more than 65535 workgroups, then the host
// (grid1d) folds it into x·y; the tail past n (n not a multiple of WG, or the rounded-up
// grid) returns at once. All entry points are barrier-free.
//
// Bindings per entry point (binding 0 is always Params). Binding numbers are re-used by
// different variables in different entry points: WGSL only requires distinct bindings among
// the variables one entry point uses (the WebGPU CTS tests exactly this, resource_interface
// 'different_entry_points'). So every descriptor lists its inputs first and its output last:
//   relu_forward, square   1 x (read)  2 y (read_write)
//   axpy           1 x (read)          2 y (read_write)
//   relu_backward  1 y_fwd (read)      2 dy (read)          3 dx (read_write)
//   scale, fill    1 x_inout (read_write)
// The descriptors use these names; the TS calls take {y, dy, dx} and {x} and rename, since
// one module cannot declare `y` both writable (relu_forward) and read-only (relu_backward).

struct Params {
  n: u32,
  // axpy and scale: the multiplier a; fill: the value; unused by the ReLUs
  a: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> y_fwd: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(1) var<storage, read_write> x_inout: array<f32>;

override WG: u32 = 256;

fn index(wg: vec3<u32>, groups: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.y * groups.x + wg.x) * WG + lid.x;
}

@compute @workgroup_size(WG, 1, 1)
fn relu_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  if (i >= params.n) { return; }
  y[i] = max(x[i], 0.0);
}

@compute @workgroup_size(WG, 1, 1)
fn relu_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  if (i >= params.n) { return; }
  dx[i] = select(0.0, dy[i], y_fwd[i] > 0.0);
}

@compute @workgroup_size(WG, 1, 1)
fn axpy(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  if (i >= params.n) { return; }
  y[i] = y[i] + params.a * x[i];
}

@compute @workgroup_size(WG, 1, 1)
fn scale(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
         @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  if (i >= params.n) { return; }
  x_inout[i] = params.a * x_inout[i];
}

@compute @workgroup_size(WG, 1, 1)
fn fill(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  if (i >= params.n) { return; }
  x_inout[i] = params.a;
}

@compute @workgroup_size(WG, 1, 1)
fn square(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  if (i >= params.n) { return; }
  let v = x[i];
  y[i] = v * v;
}
