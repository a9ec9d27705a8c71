// Checks for shaders/gvar.wgsl against src/reference/gvar.ts: each kernel on seeded random
// inputs, and the VarianceStats helper's finish() against SPEC 2.5 written literally.
import type { KernelCheck } from './check.ts';
import { compare, upload } from './check.ts';
import type { Tol } from '../util/close.ts';
import { gvarMoments, gvarPartials, absDiffPartials, partialGroups, sumPartials, type GvarOp } from '../kernels/gvar.ts';
import { gvarMomentsRef, gvarPartialsRef, absDiffPartialsRef, varianceStatsRef, gradBiasRef } from '../reference/gvar.ts';
import { VarianceStats } from '../estimators/variance_stats.ts';
import { Rng } from '../util/rng.ts';

export interface GvarCase {
  op: GvarOp;
  P: number;
  wg?: number;
  maxGroups?: number;
}

export function gvarCaseName(c: GvarCase): string {
  const extra = [c.wg !== undefined && `wg=${c.wg}`, c.maxGroups !== undefined && `maxGroups=${c.maxGroups}`].filter(Boolean);
  return `${c.op} P=${c.P}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

/** S and V as loop 2 leaves them: non-negative, some exactly 0 (the eps terms matter there),
 *  some tiny (large nvar ratios, logs far below 0). */
function moments(rng: Rng, P: number): Float32Array {
  const x = rng.uniformArray(P, 0, 1);
  for (let j = 0; j < P; j++) {
    const u = rng.uniform();
    if (u < 0.05) x[j] = 0;
    else if (u < 0.1) x[j] *= 1e-4;
  }
  return x;
}

const QUANTITIES: Record<Exclude<GvarOp, 'gvar_moments'>, string[]> = {
  gvar_partials: ['ΣV', 'ΣV/(S+eps)', 'Σlog-ratio', 'ΣS'],
  abs_diff_partials: ['Σ|a−b|', 'Σ(a−b)²', 'Σa²', 'Σb²'],
};

/** One comparison per quantity q over the rows: f32 partials of ≤ P/groups terms against
 *  float64, tolerance relative to the row's Σ|term| (the log-ratio terms have both signs). */
function rowPairs(
  names: string[], got: Float32Array, rows: Float64Array, absRows: Float64Array, groups: number,
): Array<[string, ArrayLike<number>, ArrayLike<number>, Tol]> {
  return names.map((what, q) => {
    const col = (a: ArrayLike<number>) => Float64Array.from({ length: groups }, (_, g) => a[4 * g + q]);
    const scale = Math.max(...col(absRows), 1e-30);
    return [what, col(got), col(rows), { atol: 2e-6 * scale, rtol: 1e-5 }];
  });
}

export function gvarCheck(c: GvarCase, seed = 1): KernelCheck {
  const name = gvarCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { op, P, wg, maxGroups } = c;
      if (op === 'gvar_moments') {
        const g = rng.uniformArray(P), E = rng.uniformArray(P);
        const S0 = moments(rng, P), V0 = moments(rng, P);
        const vg = upload(sched, g), vE = upload(sched, E), vS = upload(sched, S0), vV = upload(sched, V0);
        gvarMoments(sched, { g: vg, E: vE, S: vS, V: vV }, { P, wg });
        const S = await sched.read(vS), V = await sched.read(vV);
        for (const v of [vg, vE, vS, vV]) sched.free(v);
        const want = gvarMomentsRef(g, E, S0, V0);
        // a product and a sum of values ≤ 4, each rounded once or twice in f32
        const tol = { atol: 1e-6, rtol: 1e-6 };
        return compare(name, [['S', S, want.S, tol], ['V', V, want.V, tol]]);
      }
      const groups = partialGroups(P, { wg, maxGroups });
      const wgUsed = wg ?? 256;
      const [x, y] = op === 'gvar_partials' ? [moments(rng, P), moments(rng, P)] : [rng.uniformArray(P), rng.uniformArray(P)];
      const vx = upload(sched, x), vy = upload(sched, y);
      // NaN-filled: every row must be written, and nothing past the last row.
      const vp = upload(sched, new Float32Array(4 * groups + 4).fill(NaN));
      const written = op === 'gvar_partials'
        ? gvarPartials(sched, { S: vx, V: vy, partials: vp }, { P, wg, maxGroups })
        : absDiffPartials(sched, { a: vx, b: vy, partials: vp }, { P, wg, maxGroups });
      const all = await sched.read(vp);
      for (const v of [vx, vy, vp]) sched.free(v);
      if (written !== groups) return { name, failure: `returned ${written} rows, expected ${groups}` };
      if (!all.subarray(4 * groups).every(Number.isNaN)) return { name, failure: 'wrote past the last partials row' };
      const got = all.subarray(0, 4 * groups);
      const ref = op === 'gvar_partials'
        ? gvarPartialsRef(x, y, groups, wgUsed, Math.fround(1e-7), Math.fround(1e-10))
        : absDiffPartialsRef(x, y, groups, wgUsed);
      const pairs = rowPairs(QUANTITIES[op], got, ref.rows, ref.absRows, groups);
      // The float64 finish of the rows against the float64 total.
      const tot = sumPartials(got, groups), want = sumPartials(ref.rows, groups), abs = sumPartials(ref.absRows, groups);
      pairs.push(['totals', tot, want, { atol: 2e-6 * Math.max(...abs, 1e-30), rtol: 1e-5 }]);
      return compare(name, pairs);
    },
  };
}

export interface VarianceStatsCase {
  P: number;
  /** draws per loop (SPEC 2.5's n = gvar_estim_iter) */
  n: number;
  maxGroups?: number;
}

/** Draws g = μ + σ⊙z (z uniform in [−1, 1)) through VarianceStats, one upload per draw, and
 *  compares finish() (with grad_bias against a second mean) with varianceStatsRef. */
export function varianceStatsCheck(c: VarianceStatsCase, seed = 1): KernelCheck {
  const name = `variance_stats P=${c.P} n=${c.n}${c.maxGroups !== undefined ? ` maxGroups=${c.maxGroups}` : ''}`;
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { P, n, maxGroups } = c;
      const mu = rng.uniformArray(P), sigma = rng.uniformArray(P, 0, 0.5);
      const draw = () => {
        const g = rng.uniformArray(P);
        for (let j = 0; j < P; j++) g[j] = mu[j] + sigma[j] * g[j];
        return g;
      };
      const meanDraws = Array.from({ length: n }, draw), spreadDraws = Array.from({ length: n }, draw);
      const other = draw();
      const vs = new VarianceStats(sched, P, { maxGroups });
      const vg = sched.alloc(P, 'draw'), vOther = upload(sched, other);
      vs.beginMean(n);
      for (const g of meanDraws) {
        sched.upload(vg, g);
        vs.addMeanDraw(vg);
        sched.submit(); // the next upload must land after this draw was consumed
      }
      vs.beginSpread();
      for (const g of spreadDraws) {
        sched.upload(vg, g);
        vs.addSpreadDraw(vg);
        sched.submit();
      }
      const got = await vs.finish({ compareMean: vOther });
      const E = await sched.read(vs.E);
      vs.dispose();
      sched.free(vg);
      sched.free(vOther);
      const want = varianceStatsRef(meanDraws, spreadDraws);
      const Eref = new Float64Array(P);
      for (const g of meanDraws) for (let j = 0; j < P; j++) Eref[j] += g[j] / n;
      // E and V pass through a few f32 roundings per draw: relative errors ~1e-6 per term.
      // snr averages log-ratios of both signs, so it gets an absolute tolerance.
      return compare(name, [
        ['E', E, Eref, { atol: 1e-6 * n, rtol: 1e-5 }],
        ['var, nvar, gnorm', [got.var, got.nvar, got.gnorm], [want.var, want.nvar, want.gnorm], { atol: 0, rtol: 1e-4 }],
        ['snr', [got.snr], [want.snr], { atol: 1e-4, rtol: 1e-4 }],
        ['grad_bias', [got.compare!.gradBias], [gradBiasRef(Eref, other)], { atol: 0, rtol: 1e-4 }],
      ]);
    },
  };
}
