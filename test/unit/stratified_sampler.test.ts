// The GC sampler (SPEC 2.2) and Eq. 1's weights (SPEC 2.1) on explicit synthetic gradients:
// batch structure, without-replacement passes, weights, exact resume, and the estimator
// (1/B) Σ_b w_b g_{i_b} being unbiased with the exact stratified variance (SPEC 11).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StratifiedSampler, type StratifiedBatch } from '../../src/cluster/stratified_sampler.ts';
import { clusterStatsOf, gradientStats, stratifiedVariance } from '../../src/estimators/exact.ts';
import { Rng } from '../../src/util/rng.ts';

// N = 50 examples, P = 7, C = 5 clusters of uneven sizes (4..16); g_i = centre_k + noise.
const N = 50, P = 7, C = 5;
const SIZES = [4, 16, 9, 13, 8];
function toy(seed = 1) {
  const rng = new Rng(seed);
  const assign = rng.shuffle(SIZES.flatMap((n, k) => Array<number>(n).fill(k)));
  const centres = Array.from({ length: C }, () => Array.from({ length: P }, () => 2 * rng.normal()));
  const grads = assign.map((k) => Float64Array.from(centres[k], (c) => c + 0.7 * rng.normal()));
  return { assign, grads };
}
const { assign, grads } = toy();

/** The GC gradient of a batch: mean_b(w_b · g_{i_b}) (loss = mean(w·l), SPEC 2.1). */
function estimate(b: StratifiedBatch): Float64Array {
  const g = new Float64Array(P);
  b.indices.forEach((i, r) => { for (let j = 0; j < P; j++) g[j] += (b.weights[r] * grads[i][j]) / b.indices.length; });
  return g;
}

/** Mean of R estimates, and mean ± standard error of ||ĝ − G||² (an unbiased variance estimate). */
function monteCarlo(s: StratifiedSampler, R: number, G: Float64Array) {
  const m = new Float64Array(P), m2 = new Float64Array(P);
  let sum = 0, sumSq = 0;
  for (let r = 0; r < R; r++) {
    const g = estimate(s.next());
    let d2 = 0;
    for (let j = 0; j < P; j++) { m[j] += g[j] / R; m2[j] += (g[j] * g[j]) / R; d2 += (g[j] - G[j]) ** 2; }
    sum += d2; sumSq += d2 * d2;
  }
  const v = sum / R;
  const se = Math.sqrt((sumSq / R - v * v) / R);
  const meanSe = Array.from(m, (x, j) => Math.sqrt((m2[j] - x * x) / R));
  return { mean: m, meanSe, v, se };
}

test('M = B: every batch holds exactly one example from every cluster, each of its cluster', () => {
  const s = new StratifiedSampler(assign, { batchSize: 5, seed: 3 });
  assert.is(s.M, 5);
  assert.equal(Array.from(s.sizes), SIZES);
  for (let t = 0; t < 200; t++) {
    const b = s.next();
    assert.equal([...b.clusters].sort(), [0, 1, 2, 3, 4]);
    b.indices.forEach((i, r) => assert.is(assign[i], b.clusters[r]));
  }
});

test('each cluster hands out its members without replacement, a fresh order per pass', () => {
  const s = new StratifiedSampler(assign, { batchSize: 5, seed: 4 });
  const seq: number[][] = Array.from({ length: C }, () => []);
  for (let t = 0; t < 16 * 6; t++) { const b = s.next(); b.indices.forEach((i, r) => seq[b.clusters[r]].push(i)); }
  seq.forEach((drawn, k) => {
    const members = assign.flatMap((a, i) => (a === k ? [i] : []));
    const passes: string[] = [];
    for (let p = 0; p + members.length <= drawn.length; p += members.length) {
      const pass = drawn.slice(p, p + members.length);
      assert.equal([...pass].sort((x, y) => x - y), members, `cluster ${k} pass ${p / members.length}`);
      passes.push(pass.join(','));
    }
    assert.ok(passes.length >= 6);
    if (members.length > 4) assert.ok(new Set(passes).size > 1, `cluster ${k}: passes are reshuffled`);
  });
});

test('weights are M·N_k/N; they sum to B when M = B, and to the draw count over whole cycles', () => {
  const s = new StratifiedSampler(assign, { batchSize: 5, seed: 5 });
  for (let t = 0; t < 20; t++) {
    const b = s.next();
    b.weights.forEach((w, r) => assert.is(w, (5 * SIZES[b.clusters[r]]) / N));
    assert.ok(Math.abs(b.weights.reduce((x, y) => x + y, 0) - 5) < 1e-12);
  }
  // M = 5 < B = 7: five batches are seven whole cycles.
  const s7 = new StratifiedSampler(assign, { batchSize: 7, seed: 5 });
  let tot = 0;
  for (let t = 0; t < 5; t++) tot += s7.next().weights.reduce((x, y) => x + y, 0);
  assert.ok(Math.abs(tot - 35) < 1e-12, `${tot}`);
});

test('empty clusters are dropped and the rest renumbered in id order (M < C, weights use M)', () => {
  const a = [7, 3, 3, 0, 7, 7, 0, 3, 3];
  const s = new StratifiedSampler(a, { batchSize: 3, seed: 1 });
  assert.is(s.M, 3);
  assert.equal(Array.from(s.originalIds), [0, 3, 7]);
  assert.equal(Array.from(s.sizes), [2, 4, 3]);
  assert.equal(Array.from(s.clusterOf), [2, 1, 1, 0, 2, 2, 0, 1, 1]);
  assert.equal(Array.from(s.clusterWeights), [(3 * 2) / 9, (3 * 4) / 9, (3 * 3) / 9]);
});

test('a new DataLoader pass (epochIters) starts a new cluster cycle', () => {
  // M = 5, B = 3, epochIters = 2: a pass is 6 draws = one cycle and one draw of the next,
  // which the next pass abandons, so draws 6..10 are again a permutation of all clusters.
  const s = new StratifiedSampler(assign, { batchSize: 3, seed: 9, epochIters: 2 });
  for (let pass = 0; pass < 20; pass++) {
    const ks = [...s.next().clusters, ...s.next().clusters];
    assert.equal(ks.slice(0, 5).sort(), [0, 1, 2, 3, 4]);
  }
});

test('state() → JSON → restore() continues the identical stream', () => {
  for (const opts of [{ batchSize: 5, seed: 21 }, { batchSize: 7, seed: 22, epochIters: 3 }]) {
    const s = new StratifiedSampler(assign, opts);
    for (let t = 0; t < 13; t++) s.next();
    const saved = JSON.parse(JSON.stringify(s.state()));
    const r = StratifiedSampler.restore(assign, saved);
    const key = (b: StratifiedBatch) => `${b.indices.join(',')}|${b.weights.join(',')}`;
    for (let t = 0; t < 40; t++) assert.is(key(r.next()), key(s.next()));
  }
  const s = new StratifiedSampler(assign, { batchSize: 5, seed: 1 });
  assert.throws(() => StratifiedSampler.restore(assign.slice(1), s.state()), /state is for N=50/);
});

test('GC estimator is unbiased and its variance is Σ_k (N_k/N)² s_k² (M = B = 5, 20000 batches)', () => {
  const { G } = gradientStats(grads);
  const exact = stratifiedVariance(clusterStatsOf(grads, assign, C), 'gc');
  const mc = monteCarlo(new StratifiedSampler(assign, { batchSize: 5, seed: 31 }), 20000, G);
  mc.mean.forEach((x, j) => assert.ok(Math.abs(x - G[j]) < 4 * mc.meanSe[j] + 1e-12, `coord ${j}: ${x} vs ${G[j]} ± ${mc.meanSe[j]}`));
  assert.ok(Math.abs(mc.v - exact) < 4 * mc.se, `MC variance ${mc.v} ± ${mc.se}, exact ${exact}`);
  // Stratification helps here: the exact SG-5 variance (with replacement) is far larger.
  const { sqNorms, gradSqNorm } = gradientStats(grads);
  assert.ok(exact < 0.2 * ((sqNorms.reduce((a, b) => a + b, 0) / N - gradSqNorm) / 5));
});

test('GC estimator stays unbiased when batches straddle cycles (M = 5 < B = 7)', () => {
  const { G } = gradientStats(grads);
  const mc = monteCarlo(new StratifiedSampler(assign, { batchSize: 7, seed: 32 }), 20000, G);
  mc.mean.forEach((x, j) => assert.ok(Math.abs(x - G[j]) < 4 * mc.meanSe[j] + 1e-12, `coord ${j}: ${x} vs ${G[j]} ± ${mc.meanSe[j]}`));
});

test('duplicates toy (SPEC 10.5): 5 unique gradients × 20, clustered exactly → variance 0', () => {
  const rng = new Rng(8);
  const unique = Array.from({ length: 5 }, () => Float64Array.from({ length: P }, () => rng.normal()));
  const a = Array.from({ length: 100 }, (_, i) => i % 5);
  const g = a.map((k) => unique[k]);
  const stats = clusterStatsOf(g, a, 5);
  assert.ok(stratifiedVariance(stats, 'gc') < 1e-12);
  const { G } = gradientStats(g);
  const s = new StratifiedSampler(a, { batchSize: 5, seed: 2 });
  for (let t = 0; t < 50; t++) {
    const b = s.next();
    const est = new Float64Array(P);
    b.indices.forEach((i, r) => { for (let j = 0; j < P; j++) est[j] += (b.weights[r] * g[i][j]) / 5; });
    est.forEach((x, j) => assert.ok(Math.abs(x - G[j]) < 1e-12));
  }
});

test.run();
