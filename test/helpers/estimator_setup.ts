// Small synthetic problems for the estimator tests: a seeded dataset (optionally `unique`
// distinct examples repeated, the duplicates toy of SPEC 10.5) and an MLP with its gradient
// engine, estimators and variance meter on the shared test device.
import { testGpu } from './gpu.ts';
import { Mlp, initMlpParams, type MlpConfig } from '../../src/models/mlp.ts';
import { MlpGrad } from '../../src/run/mlp_grad.ts';
import { Estimators } from '../../src/estimators/estimators.ts';
import { VarianceMeter } from '../../src/estimators/measure.ts';
import { Rng } from '../../src/util/rng.ts';
import type { Dataset } from '../../src/data/dataset.ts';

/** n examples of `dim` features in U(−2, 2) with uniform labels; with unique < n, example i
 *  is a copy of example i mod unique. */
export function synthetic(n: number, dim: number, classes: number, seed: number, unique = n): Dataset {
  const rng = new Rng(seed);
  const ux = rng.uniformArray(unique * dim, -2, 2);
  const uy = Uint32Array.from({ length: unique }, () => rng.int(classes));
  const x = new Float32Array(n * dim), y = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    x.set(ux.subarray((i % unique) * dim, (i % unique + 1) * dim), i * dim);
    y[i] = uy[i % unique];
  }
  return { x, y, n, dim, shape: [dim], classes };
}

export async function estimatorSetup(ds: Dataset, hidden: number[], B: number, seed = 1) {
  const { sched } = await testGpu();
  const cfg: MlpConfig = { inputDim: ds.dim, hidden, classes: ds.classes };
  const model = new Mlp(sched, cfg);
  sched.upload(model.params, initMlpParams(cfg, new Rng(seed)));
  const grad = new MlpGrad(sched, model);
  const est = new Estimators(sched, grad, ds, B, seed);
  const meter = new VarianceMeter(sched, grad, est);
  const done = () => { meter.destroy(); est.destroy(); grad.destroy(); model.destroy(); };
  return { sched, cfg, model, grad, est, meter, done };
}
