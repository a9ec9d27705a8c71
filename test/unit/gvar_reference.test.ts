// SPEC 2.5's statistics as written (src/reference/gvar.ts) on the CPU: the GPU route's
// algebra (moments → sums → statsFromSums) equals the SPEC's loops, and est_var measures
// (1 + 1/n)·tr(Cov)/D in expectation (the mean comes from n independent other draws).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { varianceStatsRef, gvarMomentsRef, gvarSumsRef, gvarPartialsRef } from '../../src/reference/gvar.ts';
import { statsFromSums } from '../../src/estimators/variance_stats.ts';
import { gradientStats, traceCov, sgVariance } from '../../src/estimators/exact.ts';
import { Rng } from '../../src/util/rng.ts';

const D = 7;

test('moments + sums + statsFromSums reproduce the SPEC loops exactly (float64)', () => {
  const rng = new Rng(1);
  for (const n of [1, 2, 5]) {
    const draw = () => Float64Array.from({ length: D }, () => rng.normal() * 0.1 + (rng.uniform() < 0.2 ? 0 : 1));
    const md = Array.from({ length: n }, draw), sd = Array.from({ length: n }, draw);
    const E = new Float64Array(D);
    for (const g of md) for (let j = 0; j < D; j++) E[j] += g[j] / n;
    let S: ArrayLike<number> = new Float64Array(D), V: ArrayLike<number> = new Float64Array(D);
    for (const g of sd) ({ S, V } = gvarMomentsRef(g, E, S, V));
    const got = statsFromSums(gvarSumsRef(S, V), n, D);
    const want = varianceStatsRef(md, sd);
    for (const k of ['var', 'nvar', 'snr', 'gnorm'] as const) assert.ok(Math.abs(got[k] - want[k]) <= 1e-12 * Math.abs(want[k]) + 1e-15, `${k} n=${n}`);
  }
});

test('partial rows sum to the totals, whatever the grouping', () => {
  const rng = new Rng(2);
  const S = Float64Array.from({ length: 1001 }, () => rng.uniform());
  const V = Float64Array.from({ length: 1001 }, () => rng.uniform());
  const tot = gvarSumsRef(S, V);
  for (const [groups, wg] of [[1, 1], [3, 64], [40, 32]]) {
    const { rows } = gvarPartialsRef(S, V, groups, wg);
    for (let q = 0; q < 4; q++) {
      let s = 0;
      for (let g = 0; g < groups; g++) s += rows[4 * g + q];
      assert.ok(Math.abs(s - tot[q]) < 1e-9 * Math.abs(tot[q]) + 1e-9);
    }
  }
});

/** mean ± standard error of est_var over R independent measurements with n draws each. */
function measure(R: number, n: number, draw: () => Float64Array) {
  let s = 0, s2 = 0, gn = 0;
  for (let r = 0; r < R; r++) {
    const st = varianceStatsRef(Array.from({ length: n }, draw), Array.from({ length: n }, draw));
    s += st.var; s2 += st.var * st.var; gn += st.gnorm / R;
  }
  const v = s / R;
  return { v, se: Math.sqrt((s2 / R - v * v) / R), gnorm: gn };
}

test('E[est_var] = (1 + 1/n)·tr(Cov)/D for g = μ + σ⊙z (n = 1, 4, 10)', () => {
  const rng = new Rng(3);
  const mu = Array.from({ length: D }, () => rng.normal());
  const sigma = Array.from({ length: D }, () => 0.2 + rng.uniform());
  const trCov = sigma.reduce((s, x) => s + x * x, 0);
  for (const n of [1, 4, 10]) {
    const m = measure(4000, n, () => Float64Array.from(mu, (x, j) => x + sigma[j] * rng.normal()));
    const want = ((1 + 1 / n) * trCov) / D;
    assert.ok(Math.abs(m.v - want) < 4 * m.se, `n=${n}: ${m.v} ± ${m.se}, want ${want}`);
    // est_gnorm = (1/D) Σ_j E[g_j²] = (||μ||² + tr(Cov))/D, up to MC error
    const g2 = (mu.reduce((s, x) => s + x * x, 0) + trCov) / D;
    assert.ok(Math.abs(m.gnorm - g2) < 0.02 * g2, `gnorm ${m.gnorm} vs ${g2}`);
  }
});

test('E[est_var] = (1 + 1/n)·(tr(S)/B)/D for SG-B draws from explicit gradients (N=50, B=5, n=4)', () => {
  const rng = new Rng(4);
  const N = 50, B = 5, n = 4;
  const grads = Array.from({ length: N }, () => Float64Array.from({ length: D }, () => rng.normal() + 0.5));
  const { sqNorms, gradSqNorm } = gradientStats(grads);
  const want = ((1 + 1 / n) * sgVariance(traceCov(sqNorms, gradSqNorm), B)) / D;
  const m = measure(4000, n, () => {
    const g = new Float64Array(D);
    for (let b = 0; b < B; b++) { const x = grads[rng.int(N)]; for (let j = 0; j < D; j++) g[j] += x[j] / B; }
    return g;
  });
  assert.ok(Math.abs(m.v - want) < 4 * m.se, `${m.v} ± ${m.se}, want ${want}`);
});

test('n must match between the loops', () => {
  assert.throws(() => varianceStatsRef([[1]], []), /same n > 0 draws/);
});

test.run();
