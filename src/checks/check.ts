// A kernel check runs one kernel on seeded random inputs and compares it with its float64
// reference. The same checks run in the unit tests (odd and large sizes), in
// `gradvar doctor` (small odd sizes) and on the browser page (through navigator.gpu).
import type { Scheduler } from '../sched/scheduler.ts';
import { closeReport, type Tol } from '../util/close.ts';

export interface CheckResult {
  name: string;
  /** null when every element is within tolerance, else the mismatch report */
  failure: string | null;
}

export interface KernelCheck {
  /** carries its parameters, e.g. 'matmul_tiled NT M=37 N=29 K=53 bias relu' */
  name: string;
  run(sched: Scheduler): Promise<CheckResult>;
}

/** Compares several named outputs; the first failure wins. */
export function compare(name: string, pairs: Array<[string, ArrayLike<number>, ArrayLike<number>, Tol?]>): CheckResult {
  for (const [what, got, want, tol] of pairs) {
    const r = closeReport(got, want, tol);
    if (r) return { name, failure: `${what}: ${r}` };
  }
  return { name, failure: null };
}

/** Uploads host data into a fresh pooled buffer. */
export function upload(sched: Scheduler, data: Float32Array | Uint32Array, label = 'input') {
  const v = sched.alloc(data.length, label);
  sched.upload(v, data);
  return v;
}

/** Tolerance for a float32 dot product of length K against float64: error grows ~√K·eps. */
export function dotTol(K: number): Tol {
  return { atol: 2e-6 * Math.sqrt(K), rtol: 1e-5 * Math.sqrt(K) };
}
