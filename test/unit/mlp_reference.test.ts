// The float64 MLP reference's backward agrees with central finite differences of its loss.
import { test } from 'uvu';
import { mlpForwardRef, mlpBackwardRef, xentRef, type RefLayer } from '../../src/reference/mlp.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { Rng } from '../../src/util/rng.ts';

function tiny(rng: Rng): { layers: RefLayer[]; x: Float64Array; y: number[]; B: number } {
  const dims = [5, 4, 3, 3];
  const layers = dims.slice(1).map((dout, l) => ({
    din: dims[l], dout,
    W: Float64Array.from(rng.uniformArray(dout * dims[l])),
    b: Float64Array.from(rng.uniformArray(dout, -0.5, 0.5)),
  }));
  return { layers, x: Float64Array.from(rng.uniformArray(2 * 5)), y: [2, 0], B: 2 };
}

for (const eps of [0, 0.1]) {
  test(`MLP reference gradients match finite differences (label smoothing ${eps})`, () => {
    const { layers, x, y, B } = tiny(new Rng(8));
    const K = 3;
    const acts = mlpForwardRef(layers, x, B);
    const grads = mlpBackwardRef(layers, acts, xentRef(acts[acts.length - 1], y, B, K, eps).dlogits, B);
    const lossWith = () => xentRef(mlpForwardRef(layers, x, B).at(-1)!, y, B, K, eps).loss;
    layers.forEach((L, l) => {
      for (const [name, t, g] of [['W', L.W, grads[l].dW], ['b', L.b, grads[l].db]] as const) {
        const f = (v: number[]) => { const keep = t.slice(); t.set(v); const r = lossWith(); t.set(keep); return r; };
        gradcheck(f, Array.from(t), g, `layer ${l + 1} d${name}`);
      }
    });
  });
}
test.run();
