// float64 reference of one SGD step on the MLP: forward (Linear + ReLU, last layer linear),
// mean cross-entropy (optionally label-smoothed), backward, and torch.optim.SGD's update.
// Parameters in PyTorch layout: W_l is [Dout, Din], b_l is [Dout].
import { matmulRef } from './matmul.ts';

export interface RefLayer { W: Float64Array; b: Float64Array; din: number; dout: number }
export interface RefSgd { lr: number; momentum: number; weightDecay: number; dampening?: number; nesterov?: boolean }

/** Activations of every layer: acts[0] = x, acts[l] = ReLU(acts[l-1]·W_lᵀ + b_l), last = logits. */
export function mlpForwardRef(layers: RefLayer[], x: ArrayLike<number>, B: number): Float64Array[] {
  const acts: Float64Array[] = [Float64Array.from(x)];
  layers.forEach((L, l) => {
    const relu = l < layers.length - 1;
    acts.push(matmulRef(acts[l], L.W, null, { M: B, N: L.dout, K: L.din, transB: true, bias: L.b, relu }));
  });
  return acts;
}

/** Mean cross-entropy over the batch and its gradient w.r.t. the logits. */
export function xentRef(logits: Float64Array, labels: ArrayLike<number>, B: number, K: number, eps = 0): { loss: number; dlogits: Float64Array; perExample: Float64Array } {
  const dlogits = new Float64Array(B * K);
  const perExample = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    const z = logits.subarray(i * K, (i + 1) * K);
    const max = Math.max(...z);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(z[k] - max);
    const logZ = max + Math.log(s);
    for (let k = 0; k < K; k++) {
      const q = k === labels[i] ? 1 - eps : eps / (K - 1);
      const logp = z[k] - logZ;
      perExample[i] -= q * logp;
      dlogits[i * K + k] = (Math.exp(logp) - q) / B;
    }
  }
  return { loss: perExample.reduce((a, b) => a + b, 0) / B, dlogits, perExample };
}

/** Gradients of the mean loss for every layer, in the parameters' layout. */
export function mlpBackwardRef(layers: RefLayer[], acts: Float64Array[], dlogits: Float64Array, B: number): Array<{ dW: Float64Array; db: Float64Array }> {
  const grads: Array<{ dW: Float64Array; db: Float64Array }> = new Array(layers.length);
  let dz = dlogits;
  for (let l = layers.length - 1; l >= 0; l--) {
    const L = layers[l];
    const dW = matmulRef(dz, acts[l], null, { M: L.dout, N: L.din, K: B, transA: true });
    const db = new Float64Array(L.dout);
    for (let i = 0; i < B; i++) for (let o = 0; o < L.dout; o++) db[o] += dz[i * L.dout + o];
    grads[l] = { dW, db };
    if (l > 0) {
      const dh = matmulRef(dz, L.W, null, { M: B, N: L.din, K: L.dout });
      for (let j = 0; j < dh.length; j++) if (acts[l][j] <= 0) dh[j] = 0; // ReLU'(z) from its output
      dz = dh;
    }
  }
  return grads;
}

/** torch.optim.SGD on one tensor, in place. `buf` is null on the first step. */
export function sgdRef(p: Float64Array, g: ArrayLike<number>, buf: Float64Array | null, o: RefSgd): Float64Array | null {
  const { lr, momentum, weightDecay, dampening = 0, nesterov = false } = o;
  const out = momentum !== 0 ? new Float64Array(p.length) : null;
  for (let i = 0; i < p.length; i++) {
    let d = g[i] + weightDecay * p[i];
    if (out) {
      out[i] = buf ? momentum * buf[i] + (1 - dampening) * d : d;
      d = nesterov ? d + momentum * out[i] : out[i];
    }
    p[i] -= lr * d;
  }
  return out;
}
