// sgd: one step of torch.optim.SGD (maximize = False) over n parameters, exactly its order of
// operations (torch/optim/sgd.py, _single_tensor_sgd):
//   d = g                                  (+ weight_decay · p   when weight_decay ≠ 0)
//   if momentum ≠ 0:
//     buf = d                              on the first step (PyTorch: no buffer yet)
//     buf = momentum · buf + (1 − dampening) · d   afterwards
//     d   = d + momentum · buf  if nesterov, else  d = buf
//   p = p − lr · d
// p, g and buf are f32[n], e.g. whole parameter / gradient / momentum buffers of a model
// (one dispatch updates every layer). g is only read; p and buf are updated in place, so the
// three must be different GPUBuffers (WebGPU forbids one buffer bound read-only and writable
// in one dispatch; the host checks). With momentum = 0, buf is neither read nor written (the
// host binds a dummy there). The zero tests mirror PyTorch's branches, so weight_decay = 0
// does not turn an inf in p into a NaN in d.
//
// Thread mapping: one invocation per parameter, i = (wg.y · groups.x + wg.x) · WG + lid.x;
// neighbours touch neighbouring words. More than 65535 groups are folded into a 2-D grid by
// the host (grid1d); invocations past n return at once. No barriers.

struct Params {
  n: u32,
  // 1: Nesterov momentum (needs momentum > 0 and dampening = 0; the host checks)
  nesterov: u32,
  // 1: the first step with this buffer, buf = d (its old contents are never read)
  first: u32,
  lr: f32,
  momentum: f32,
  dampening: f32,
  weight_decay: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> p: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG, 1, 1)
fn sgd(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
       @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * groups.x + wg.x) * WG + lid.x;
  if (i >= params.n) { return; }
  let w = p[i];
  var d = g[i];
  if (params.weight_decay != 0.0) { d = d + params.weight_decay * w; }
  let mu = params.momentum;
  if (mu != 0.0) {
    var b = d;
    if (params.first == 0u) { b = mu * buf[i] + (1.0 - params.dampening) * d; }
    buf[i] = b;
    if (params.nesterov != 0u) { d = d + mu * b; } else { d = b; }
  }
  p[i] = w - params.lr * d;
}
