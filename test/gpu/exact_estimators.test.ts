// The exact GC and SVRG variances (VarianceMeter.exact, SPEC 11) on small synthetic data:
//   - they equal the same closed forms evaluated on explicitly materialised float64
//     per-example gradients (the reference MLP at the read-back weights θ and θ_snap), on odd
//     sizes, with clusters that span chunks and chunks padded to a power of two, on the
//     training set, a prefix of it and a scattered subset given by training-set indices;
//   - GC is left out when the sampler does not hold M == B clusters (the case it covers);
//   - the Monte Carlo variances of the estimators agree with them within Monte Carlo error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { synthetic, estimatorSetup } from '../helpers/estimator_setup.ts';
import { Mlp, mlpLayers, type MlpConfig } from '../../src/models/mlp.ts';
import { VarianceMeter } from '../../src/estimators/measure.ts';
import { GradientClustering } from '../../src/cluster/gradient_clustering.ts';
import { gradientStats, clusterStatsOf, stratifiedVariance, svrgStats, svrgVariance, traceCov } from '../../src/estimators/exact.ts';
import { mlpForwardRef, xentRef, mlpBackwardRef, type RefLayer } from '../../src/reference/mlp.ts';
import { gather } from '../../src/data/batches.ts';
import { subset, type Dataset } from '../../src/data/dataset.ts';
import { Rng } from '../../src/util/rng.ts';


/** SVRG snapshot at the current θ, then θ moved by U(±amp/2) so the control variate is inexact. */
async function snapshotAndMove(s: Awaited<ReturnType<typeof estimatorSetup>>, amp: number, seed: number): Promise<void> {
  await s.est.snapshotSvrg(16);
  const p = await s.sched.read(s.model.params);
  const rng = new Rng(seed);
  for (const e of s.model.layout.entries) for (let j = e.offset; j < e.offset + e.length; j++) p[j] += amp * (rng.uniform() - 0.5);
  s.sched.upload(s.model.params, p);
}

/** float64 per-example gradients of the per-example loss, all parameters flattened. */
function perExampleGrads(cfg: MlpConfig, flat: Float32Array, layout: Mlp['layout'], ds: Dataset): Float64Array[] {
  const t = layout.split(flat);
  const layers: RefLayer[] = mlpLayers(cfg).map((L) => ({
    din: L.din, dout: L.dout, W: Float64Array.from(t.get(`${L.name}.weight`)!), b: Float64Array.from(t.get(`${L.name}.bias`)!),
  }));
  return Array.from({ length: ds.n }, (_, i) => {
    const { x, y } = gather(ds, Uint32Array.of(i));
    const acts = mlpForwardRef(layers, x, 1);
    const { dlogits } = xentRef(acts.at(-1)!, y, 1, cfg.classes);
    const g = mlpBackwardRef(layers, acts, dlogits, 1);
    return Float64Array.from(g.flatMap((gl) => [...gl.dW, ...gl.db]));
  });
}

const rel = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

test('exact GC and SVRG variances equal float64 materialised per-example gradients (odd sizes, chunked clusters)', async () => {
  const ds = synthetic(37, 11, 3, 21);
  const B = 5;
  const s = await estimatorSetup(ds, [9, 6], B, 4);
  // Uneven clusters: 12 and 13 span two chunks of 8, 1 and 3 pad to 1 and 4, 8 fills one.
  const sizes = [12, 3, 1, 8, 13];
  const assign = new Rng(5).shuffle(Uint32Array.from(sizes.flatMap((nk, k) => Array(nk).fill(k))));
  s.est.setPartition(assign, 6);
  await snapshotAndMove(s, 0.1, 7);
  const D = s.model.layout.count;
  const g = perExampleGrads(s.cfg, await s.sched.read(s.model.params), s.model.layout, ds);
  const gSnap = perExampleGrads(s.cfg, await s.sched.read(s.est.svrgSnapshot!.model.params), s.model.layout, ds);
  // The training set itself, a prefix (subset), and scattered examples given by index.
  const scattered = Uint32Array.from([0, 2, 3, 5, 8, 13, 21, 22, 30, 34, 36]);
  const cases: Array<[string, Dataset, Uint32Array | undefined]> = [
    ['whole set', ds, undefined], ['prefix of 29', subset(ds, 29), undefined],
    ['11 scattered', { ...ds, ...gather(ds, scattered), n: scattered.length }, scattered],
  ];
  for (const [what, set, trainIndex] of cases) {
    const idx = trainIndex ?? Uint32Array.from({ length: set.n }, (_, i) => i);
    const gi = Array.from(idx, (i) => g[i]), gs = Array.from(idx, (i) => gSnap[i]);
    const st = gradientStats(gi);
    const clusters = clusterStatsOf(gi, Array.from(idx, (i) => assign[i]), sizes.length);
    const sv = svrgStats(gi, gs);
    const want = {
      trS: traceCov(st.sqNorms, st.gradSqNorm), G2: st.gradSqNorm,
      GC: stratifiedVariance(clusters, 'gc') / D, SVRG: svrgVariance(sv.meanSqDiff, sv.gradDiffSqNorm, B) / D,
    };
    const got = await s.meter.exact(set, B, { passBatch: 8, trainIndex });
    const pairs: Array<[string, number, number]> = [['trS', got.trS, want.trS], ['G2', got.G2, want.G2], ['GC', got.var.GC!, want.GC], ['SVRG', got.var.SVRG!, want.SVRG]];
    // float32 sums of a few hundred terms against float64: measured ≤ 1.2e-7.
    for (const [k, a, b] of pairs) assert.ok(rel(a, b) < 1e-5, `${what}: ${k} = ${a}, float64 ${b} (rel ${rel(a, b).toExponential(2)})`);
  }
  s.done();
});

test('exact GC is left out unless the sampler holds M == B clusters; SVRG needs its snapshot', async () => {
  const ds = synthetic(23, 7, 3, 8);
  const s = await estimatorSetup(ds, [5], 5, 2);
  let got = await s.meter.exact(ds, 5);
  assert.equal(Object.keys(got.var).sort(), ['SG-2B', 'SG-B']);
  s.est.setPartition(Uint32Array.from({ length: ds.n }, (_, i) => (i % 4) * 2), 1); // ids 0,2,4,6: M = 4 < B = 5
  await s.est.snapshotSvrg(8);
  got = await s.meter.exact(ds, 5);
  assert.equal(Object.keys(got.var).sort(), ['SG-2B', 'SG-B', 'SVRG']);
  s.est.setPartition(Uint32Array.from({ length: ds.n }, (_, i) => i % 5), 1);
  got = await s.meter.exact(ds, 5);
  assert.ok(got.var.GC! > 0 && got.var.SVRG! >= 0);
  const err = await s.meter.exact({ ...ds, ...gather(ds, Uint32Array.of(3, 1)), n: 2 }, 5).then(() => null, (e: Error) => e.message);
  assert.match(String(err), /nor a prefix of it; pass trainIndex/);
  s.done();
});

test('Monte Carlo GC and SVRG variances agree with the exact ones', async () => {
  // N a multiple of B: SVRG's epoch batches are all full. GC (running N_k) gives M == B here.
  const ds = synthetic(192, 10, 3, 5);
  const B = 12, n = 300;
  const s = await estimatorSetup(ds, [8], B);
  const gc = new GradientClustering(s.sched, s.grad, ds, { clusters: B, iters: 2, multiplier: 'running', quant: 0, batch: 32, seed: 9 });
  s.est.setPartition((await gc.snapshot()).assign, 11);
  gc.destroy();
  assert.is(s.est.gcSampler!.M, B, 'the test needs one cluster per batch slot');
  await snapshotAndMove(s, 0.1, 2);
  const exact = await s.meter.exact(ds, B);
  const { gvar } = await s.meter.monteCarlo(n, ['GC', 'SVRG']);
  // E[est_var] = (1 + 1/n)·Var (SPEC 2.5). GC: one draw per cluster, marginally uniform, so
  // Var is exact for the sampler's without-replacement cycling. SVRG: one batch of a shuffled
  // epoch, without replacement: the finite-population factor (N − B)/(N − 1).
  const want = { GC: (1 + 1 / n) * exact.var.GC!, SVRG: (1 + 1 / n) * exact.var.SVRG! * ((ds.n - B) / (ds.n - 1)) };
  // Measured over 8 data seeds: ratios 0.985–1.06 (spread ≈ 2%), so ±10% is ≥ 4 sigma.
  for (const name of ['GC', 'SVRG'] as const) {
    const r = gvar[name]!.var / want[name];
    assert.ok(r > 0.9 && r < 1.1, `${name}: Monte Carlo / exact = ${r.toFixed(3)}`);
  }
  s.done();
});

test.run();
