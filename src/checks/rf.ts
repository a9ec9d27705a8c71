// Checks of shaders/rf.wgsl against src/reference/rf.ts on seeded random banks: feature widths
// 4·odd (no multiple of the workgroup), odd row and entry counts, several models per dispatch,
// short last batches and chunks longer than a workgroup.
import type { KernelCheck, CheckResult } from './check.ts';
import type { Tol } from '../util/close.ts';
import { compare, upload, dotTol } from './check.ts';
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { type RfOp, rfSgdStep, rfGrad, rfCoef, rfScatter, rfGvar, rfParamStride, rfRowStride } from '../kernels/rf.ts';
import { rfSgdStepRef, rfGradRef, rfCoefRef, rfScatterRef, rfGvarRef, type RfRefTables } from '../reference/rf.ts';
import { stepPlan, gradPlan, coefPlan, scatterPlan } from '../models/rf_plans.ts';
import { Rng } from '../util/rng.ts';

export interface RfCase {
  op: RfOp;
  /** features per row (a multiple of 4), models, feature rows, data entries */
  H: number;
  M: number;
  R?: number;
  E?: number;
  /** rf_sgd_step: batch and steps; rf_gc_assign: pass batch */
  B?: number;
  K?: number;
  /** jobs (rf_grad, rf_scatter, rf_gvar) or items (rf_coef); items per job */
  J?: number;
  count?: number;
  /** rf_scatter: rows per job */
  C?: number;
  n?: number;
  eps?: number;
}

export function rfCaseName(c: RfCase): string {
  const keys = ['H', 'M', 'R', 'E', 'B', 'K', 'J', 'count', 'C', 'n', 'eps'] as const;
  return `${c.op} ${keys.filter((k) => c[k] !== undefined && c[k] !== 0).map((k) => `${k}=${c[k]}`).join(' ')}`;
}

/** A random bank: phi ≥ 0 (ReLU rows, some exact zeros), entries over random rows with labels 0/1
 *  and their f32 squared norms, parameters [M, 2H + 4] in ±0.5 (padding included: kernels must
 *  leave it alone). */
export function randomRfTables(rng: Rng, H: number, R: number, E: number, M: number, eps = 0) {
  const phi = rng.uniformArray(R * H, -0.5, 1).map((v) => Math.max(v, 0));
  const data = new Uint32Array(3 * E);
  const sqf = new Float32Array(1), squ = new Uint32Array(sqf.buffer);
  for (let e = 0; e < E; e++) {
    const row = rng.int(R);
    let s = 0;
    for (let h = 0; h < H; h++) s += phi[row * H + h] ** 2;
    sqf[0] = s;
    data.set([row, rng.int(2), squ[0]], 3 * e);
  }
  const theta = rng.uniformArray(M * rfParamStride(H), -0.5, 0.5);
  const tables: RfRefTables = { H, phi, data, eps };
  return { phi, data, theta, tables };
}

export const randomEntries = (rng: Rng, n: number, E: number) => Uint32Array.from({ length: n }, () => rng.int(E));

export async function finishCheck(sched: Scheduler, name: string, views: View[], outs: Array<[string, View, ArrayLike<number>, Tol, boolean?]>): Promise<CheckResult> {
  const got: ArrayLike<number>[] = [];
  for (const [, v, , , isU32] of outs) got.push(isU32 ? await sched.readU32(v) : await sched.read(v));
  for (const v of views) sched.free(v);
  return compare(name, outs.map(([n, , want, tol], i) => [n, got[i], want, tol]));
}

export function rfCheck(c: RfCase, seed = 1): KernelCheck {
  const name = rfCaseName(c);
  return { name, run: (sched) => runCase(sched, c, name, seed) };
}

async function runCase(sched: Scheduler, c: RfCase, name: string, seed: number): Promise<CheckResult> {
  const rng = new Rng(seed);
  const { H, M, R = 23, E = 41, eps = 0 } = c;
  const { phi, data, theta, tables } = randomRfTables(rng, H, R, E, M, eps);
  const vPhi = upload(sched, phi), vData = upload(sched, data), vTheta = upload(sched, theta);
  const base = [vPhi, vData, vTheta];
  const shape = { H, M, E };
  const tol = dotTol(H);
  const loose = { atol: 50 * tol.atol!, rtol: 50 * tol.rtol! };
  switch (c.op) {
    case 'rf_sgd_step': {
      const { B = 5, K = 3 } = c;
      const batches = Array.from({ length: K }, () => Array.from({ length: M }, () => randomEntries(rng, B, E)));
      const item0 = 7;
      const plan = new Uint32Array(item0 + K * M * B);
      plan.set(stepPlan(batches, B, E), item0);
      const lrs = rng.uniformArray(M, 0.05, 0.5);
      const stats0 = rng.uniformArray(2 * M, 0, 1);
      const [vPlan, vLrs, vStats] = [upload(sched, plan), upload(sched, lrs), upload(sched, stats0)];
      rfSgdStep(sched, { phi: vPhi, data: vData, plan: vPlan, theta: vTheta, lrs: vLrs, stats: vStats }, { ...shape, B, K, item0, wd: 1e-2, eps });
      const ref = rfSgdStepRef(tables, theta, lrs, plan, { M, B, K, item0, wd: 1e-2, stats0 });
      return finishCheck(sched, name, [...base, vPlan, vLrs, vStats], [['theta', vTheta, ref.theta, loose], ['stats', vStats, ref.stats, loose]]);
    }
    case 'rf_grad': {
      const { J = 5, count = 3 } = c;
      const jobs = Array.from({ length: J }, (_, j) => ({
        m: rng.int(M), entries: randomEntries(rng, count + (j % 3), E), svrg: j % 2 === 1,
        weights: j % 3 === 2 ? rng.uniformArray(count + 2, 0.5, 2) : undefined,
      }));
      const { plan, wts } = gradPlan(jobs, M, E);
      const snapmu = rng.uniformArray(M * rfParamStride(H) + M * rfRowStride(H), -0.5, 0.5);
      const [vPlan, vSnap, vW, vOut] = [upload(sched, plan), upload(sched, snapmu), upload(sched, wts), sched.alloc(J * rfRowStride(H))];
      rfGrad(sched, { phi: vPhi, data: vData, plan: vPlan, theta: vTheta, snap: vSnap, wts: vW, out: vOut }, { ...shape, J, eps });
      const want = rfGradRef(tables, theta, snapmu, plan, wts, { M, J });
      return finishCheck(sched, name, [...base, vPlan, vSnap, vW, vOut], [['out', vOut, want, tol]]);
    }
    case 'rf_coef': {
      const lists = Array.from({ length: M }, (_, m) => ({ m, entries: randomEntries(rng, 1 + rng.int(c.J ?? 9), E) }));
      // every entry at most once (rf_coef writes per entry)
      const seen = new Set<number>();
      for (const l of lists) l.entries = l.entries.filter((e) => (seen.has(e) ? false : (seen.add(e), true)));
      const { plan, J } = coefPlan(lists, M, E);
      const out0 = rng.uniformArray(3 * E, -1, 1);
      const [vPlan, vOut] = [upload(sched, plan), upload(sched, out0)];
      rfCoef(sched, { phi: vPhi, data: vData, plan: vPlan, theta: vTheta, coef: vOut }, { ...shape, J, eps });
      const want = rfCoefRef(tables, theta, plan, { J, E, out0 });
      return finishCheck(sched, name, [...base, vPlan, vOut], [['coef', vOut, want, tol]]);
    }
    case 'rf_scatter': {
      const { J = 4, count = 70, C = 3 } = c;
      const rows = J * C;
      const jobs = Array.from({ length: J }, (_, j) => {
        const n = count + j;
        const clusters = Uint32Array.from({ length: n }, () => rng.int(C)).sort();
        return { entries: randomEntries(rng, n, E), clusters, row0: j * C, scale: 1 / (j + 2) };
      });
      // one job with unsorted clusters: still correct, only more flushes
      jobs[0].clusters = Uint32Array.from({ length: jobs[0].entries.length }, () => rng.int(C));
      const { plan } = scatterPlan(jobs, E, rows);
      const coefs = rng.uniformArray(E, -1, 1);
      const sums0 = rng.uniformArray(rows * rfRowStride(H), -1, 1);
      const [vPlan, vCoef, vSums] = [upload(sched, plan), upload(sched, coefs), upload(sched, sums0)];
      rfScatter(sched, { phi: vPhi, data: vData, plan: vPlan, coefs: vCoef, sums: vSums }, { ...shape, J });
      const want = rfScatterRef(tables, plan, coefs, { J, sums0 });
      return finishCheck(sched, name, [...base, vPlan, vCoef, vSums], [['sums', vSums, want, dotTol(count + J)]]);
    }
    case 'rf_gvar': {
      const { J = 3, n = 4 } = c;
      const RS = rfRowStride(H);
      const draws = rng.uniformArray(J * 2 * n * RS, -1, 1);
      for (let h = 0; h < RS; h += 7) for (let r = 0; r < 2 * n; r++) draws[r * RS + h] = 0; // S = V = 0 coordinates
      const [vD, vOut] = [upload(sched, draws), sched.alloc(4 * J)];
      rfGvar(sched, { draws: vD, out: vOut }, { H, J, n });
      const want = rfGvarRef(draws, { J, n, H });
      return finishCheck(sched, name, [...base, vD, vOut], [['sums', vOut, want, { atol: 1e-4 * RS, rtol: 1e-4 }]]);
    }
  }
}
