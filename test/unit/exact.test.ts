// SPEC 11's closed forms against direct computation and Monte Carlo on explicit synthetic
// gradients (N = 50, P = 7, seeded).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  traceCov, sgVariance, simpleNoiseScale, normVarianceSG, coordNormVarianceSG, clusterScatter, stratifiedVariance,
  svrgVariance, gradientStats, clusterStatsOf, svrgStats,
} from '../../src/estimators/exact.ts';
import { Rng } from '../../src/util/rng.ts';

const N = 50, P = 7, C = 4;
const rng0 = new Rng(11);
const assign = Array.from({ length: N }, (_, i) => (i < 10 ? 0 : i < 20 ? 1 : i < 40 ? 2 : 3)); // N_k = 10, 10, 20, 10
const centres = Array.from({ length: C }, () => Array.from({ length: P }, () => rng0.normal()));
const grads = assign.map((k) => Float64Array.from(centres[k], (c) => c + (0.3 + 0.4 * k) * rng0.normal()));
// the same examples at a nearby snapshot w̃ (SVRG)
const snap = grads.map((g) => Float64Array.from(g, (x) => 0.9 * x + 0.05 * rng0.normal()));
const { sqNorms, G, gradSqNorm } = gradientStats(grads);
const trS = traceCov(sqNorms, gradSqNorm);

const dist2 = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let j = 0; j < a.length; j++) s += (a[j] - b[j]) ** 2; return s; };

/** mean ± standard error of ||ĝ − G||² over R draws of `draw`. */
function mcVariance(R: number, draw: () => Float64Array): { v: number; se: number } {
  let s = 0, s2 = 0;
  for (let r = 0; r < R; r++) { const d = dist2(draw(), G); s += d; s2 += d * d; }
  const v = s / R;
  return { v, se: Math.sqrt((s2 / R - v * v) / R) };
}
const within = (mc: { v: number; se: number }, exact: number, what: string) =>
  assert.ok(Math.abs(mc.v - exact) < 4 * mc.se, `${what}: MC ${mc.v} ± ${mc.se}, exact ${exact}`);

function meanOf(idx: number[], gs = grads): Float64Array {
  const m = new Float64Array(P);
  for (const i of idx) for (let j = 0; j < P; j++) m[j] += gs[i][j] / idx.length;
  return m;
}

test('tr(S) = (1/N) Σ||g_i||² − ||G||² equals (1/N) Σ ||g_i − G||²', () => {
  const direct = grads.reduce((s, g) => s + dist2(g, G), 0) / N;
  assert.ok(Math.abs(trS - direct) < 1e-12 * direct);
});

test('Var(SG-2B) / Var(SG-B) = 1/2 with replacement; (N−B)/(N−1) without', () => {
  for (const B of [1, 4, 25]) {
    assert.is(sgVariance(trS, 2 * B) / sgVariance(trS, B), 0.5);
    assert.ok(Math.abs(sgVariance(trS, B, { N, replacement: false }) - (trS / B) * ((N - B) / (N - 1))) < 1e-15);
  }
  assert.is(sgVariance(trS, N, { N, replacement: false }), 0);
  assert.throws(() => sgVariance(trS, 60, { N, replacement: false }), /needs N ≥ B/);
});

test('Monte Carlo SG-B matches tr(S)/B with replacement and ×(N−B)/(N−1) without (B=4, 20000 draws)', () => {
  const rng = new Rng(5);
  const B = 4;
  within(mcVariance(20000, () => meanOf(Array.from({ length: B }, () => rng.int(N)))), sgVariance(trS, B), 'with replacement');
  within(mcVariance(20000, () => meanOf(Array.from(rng.shuffle(Array.from({ length: N }, (_, i) => i)).slice(0, B)))),
    sgVariance(trS, B, { N, replacement: false }), 'without replacement');
  within(mcVariance(20000, () => meanOf(Array.from({ length: 2 * B }, () => rng.int(N)))), sgVariance(trS, B) / 2, 'SG-2B');
});

test('B_simple and NV_B: NV_B = B_simple / (B + B_simple); per-coordinate NV in (0, 1)', () => {
  const bs = simpleNoiseScale(trS, gradSqNorm);
  for (const B of [1, 8, 128]) assert.ok(Math.abs(normVarianceSG(trS, gradSqNorm, B) - bs / (B + bs)) < 1e-14);
  const varCoord = Array.from({ length: P }, (_, j) => grads.reduce((s, g) => s + (g[j] - G[j]) ** 2, 0) / N);
  assert.ok(Math.abs(varCoord.reduce((a, b) => a + b, 0) - trS) < 1e-12);
  const nv1 = coordNormVarianceSG(G, varCoord, 1), nv8 = coordNormVarianceSG(G, varCoord, 8);
  assert.ok(nv1 > nv8 && nv8 > 0 && nv1 < 1, `${nv1} ${nv8}`);
});

test('s_k² from norms equals the direct within-cluster scatter', () => {
  const stats = clusterStatsOf(grads, assign, C);
  stats.forEach((c, k) => {
    const idx = assign.flatMap((a, i) => (a === k ? [i] : []));
    const mu = meanOf(idx);
    const direct = idx.reduce((s, i) => s + dist2(grads[i], mu), 0) / idx.length;
    assert.ok(Math.abs(clusterScatter(c) - direct) < 1e-12 * direct);
  });
});

test('stratified: explicit b_k match the proportional and Neyman closed forms; MC matches b_k draws', () => {
  const stats = clusterStatsOf(grads, assign, C);
  const B = 10;
  // N_k = 10, 10, 20, 10 → proportional b_k = 2, 2, 4, 2 exactly
  const bProp = stats.map((c) => (B * c.size) / N);
  assert.ok(Math.abs(stratifiedVariance(stats, bProp) - stratifiedVariance(stats, 'proportional', B)) < 1e-14);
  const ns = stats.map((c) => c.size * Math.sqrt(clusterScatter(c)));
  const bNey = ns.map((x) => (B * x) / ns.reduce((a, b) => a + b, 0));
  assert.ok(Math.abs(stratifiedVariance(stats, bNey) - stratifiedVariance(stats, 'neyman', B)) < 1e-14);
  assert.ok(stratifiedVariance(stats, 'neyman', B) <= stratifiedVariance(stats, 'proportional', B));
  assert.ok(stratifiedVariance(stats, 'proportional', B) <= sgVariance(trS, B));
  // Monte Carlo: Σ_k (N_k/N)·(mean of b_k draws from cluster k), with and without replacement.
  const rng = new Rng(6);
  const members = Array.from({ length: C }, (_, k) => assign.flatMap((a, i) => (a === k ? [i] : [])));
  const draw = (repl: boolean) => () => {
    const g = new Float64Array(P);
    members.forEach((m, k) => {
      const pick = repl ? Array.from({ length: bProp[k] }, () => m[rng.int(m.length)]) : rng.shuffle([...m]).slice(0, bProp[k]);
      const mk = meanOf(pick);
      for (let j = 0; j < P; j++) g[j] += (m.length / N) * mk[j];
    });
    return g;
  };
  within(mcVariance(20000, draw(true)), stratifiedVariance(stats, bProp), 'with replacement');
  within(mcVariance(20000, draw(false)), stratifiedVariance(stats, bProp, undefined, { withoutReplacement: true }), 'without replacement');
});

test('SVRG: exact (1/B)[(1/N)Σ||g_i − g̃_i||² − ||G − G̃||²] matches Monte Carlo (B=4)', () => {
  const { G: Gs } = gradientStats(snap);
  const { meanSqDiff, gradDiffSqNorm } = svrgStats(grads, snap);
  const B = 4;
  const exact = svrgVariance(meanSqDiff, gradDiffSqNorm, B);
  const rng = new Rng(7);
  const mc = mcVariance(20000, () => {
    const idx = Array.from({ length: B }, () => rng.int(N));
    const a = meanOf(idx), b = meanOf(idx, snap);
    return Float64Array.from(Gs, (x, j) => x - b[j] + a[j]);
  });
  within(mc, exact, 'SVRG');
  assert.ok(exact < 0.1 * sgVariance(trS, B), 'a close snapshot makes SVRG far better than SG-B');
});

test.run();
