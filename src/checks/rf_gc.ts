// Checks of shaders/rf_gc.wgsl against src/reference/rf_gc.ts: several students per dispatch,
// each with its own disjoint entries in a shuffled pass order, odd entry counts (short last
// batches), feature widths 4·odd, quantised and plain A-passes, clusters left empty.
import type { KernelCheck, CheckResult } from './check.ts';
import { upload, dotTol } from './check.ts';
import type { Scheduler } from '../sched/scheduler.ts';
import { type RfGcOp, rfGcAssign, rfGcUpdate, rfCentresSize } from '../kernels/rf_gc.ts';
import { rfGcAssignRef, rfGcUpdateRef } from '../reference/rf_gc.ts';
import { gcAssignPlan, gcUpdatePlan } from '../models/rf_plans.ts';
import { randomRfTables, finishCheck } from './rf.ts';
import { Rng } from '../util/rng.ts';

export interface RfGcCase {
  op: RfGcOp;
  /** features per row (a multiple of 4), models, entries per model, clusters */
  H: number;
  M: number;
  per: number;
  C: number;
  /** A-pass batch */
  B?: number;
  quant?: number;
  /** U-pass: clusters drawn from the first C − empty only (the rest get no items) */
  empty?: number;
}

export function rfGcCaseName(c: RfGcCase): string {
  const extra = [c.B !== undefined && `B=${c.B}`, c.quant && `quant=${c.quant}`, c.empty && `empty=${c.empty}`].filter(Boolean);
  return `${c.op} H=${c.H} M=${c.M} per=${c.per} C=${c.C}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

export function rfGcCheck(c: RfGcCase, seed = 1): KernelCheck {
  const name = rfGcCaseName(c);
  return { name, run: (sched) => runCase(sched, c, name, seed) };
}

async function runCase(sched: Scheduler, c: RfGcCase, name: string, seed: number): Promise<CheckResult> {
  const rng = new Rng(seed);
  const { H, M, per, C, B = 4, quant = 0, empty = 0 } = c;
  const E = M * per + 3; // three entries no job visits
  const { phi, data, tables } = randomRfTables(rng, H, 29, E, M);
  const lists = Array.from({ length: M }, (_, m) => ({ m, entries: rng.shuffle(Uint32Array.from({ length: per }, (_, i) => m * per + i)) }));
  const coefs = rng.uniformArray(E, -1, 1);
  const centres = rng.uniformArray(rfCentresSize(M, C, H), -0.3, 0.3);
  const vPhi = upload(sched, phi), vData = upload(sched, data), vCoef = upload(sched, coefs), vCen = upload(sched, centres);
  const shape = { H, M, E };
  if (c.op === 'rf_gc_assign') {
    const { plan, J } = gcAssignPlan(lists, M, E);
    const [vPlan, vAssign, vOut] = [upload(sched, plan), upload(sched, new Uint32Array(E).fill(0xffffffff)), sched.alloc(2 * M * C)];
    rfGcAssign(sched, { phi: vPhi, data: vData, plan: vPlan, coefs: vCoef, centres: vCen, assign: vAssign, gcout: vOut }, { ...shape, J, B, C, quant });
    const ref = rfGcAssignRef(tables, plan, coefs, centres, { M, J, B, C, quant, E });
    const wantAssign = Array.from(ref.assign, (a) => (a < 0 ? 0xffffffff : a));
    return finishCheck(sched, name, [vPhi, vData, vCoef, vCen, vPlan, vAssign, vOut],
      [['assign', vAssign, wantAssign, { atol: 0, rtol: 0 }, true], ['gcout', vOut, ref.gcout, dotTol(H * per)]]);
  }
  const jobs = lists.map((l) => {
    const clusters = Uint32Array.from(l.entries, () => rng.int(C - empty));
    const order = Array.from(l.entries.keys()).sort((a, b) => clusters[a] - clusters[b]);
    const sizes = new Float32Array(C);
    clusters.forEach((k) => sizes[k]++);
    return { m: l.m, entries: order.map((i) => l.entries[i]), clusters: order.map((i) => clusters[i]), scales: order.map(() => 1 / (1 + rng.int(5))), sizes };
  });
  const { plan, aux, J } = gcUpdatePlan(jobs, M, C, E);
  const [vPlan, vAux] = [upload(sched, plan), upload(sched, aux)];
  rfGcUpdate(sched, { phi: vPhi, data: vData, plan: vPlan, coefs: vCoef, aux: vAux, centres: vCen }, { ...shape, J, C });
  const want = rfGcUpdateRef(tables, plan, coefs, aux, { M, J, C, stable: 100, centres0: centres });
  return finishCheck(sched, name, [vPhi, vData, vCoef, vPlan, vAux, vCen], [['centres', vCen, want, { atol: 1e-5, rtol: 1e-4 }]]);
}
