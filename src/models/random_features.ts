// A bank of M random-features students trained and measured together on the GPU, one
// workgroup per student per dispatch (shaders/rf.wgsl, rf_gc.wgsl). The students share the
// feature rows of a FeatureStore and differ in data entries (training-set size, teacher,
// duplicates), learning rate and initial parameters. The bank owns:
//   data   [E, 3] u32   entries: (phi row, label, ||φ||² bits); model m's training set is
//                       entries [trainStart, trainStart + N), its test set [testStart, + nTest)
//   theta  [M, PS]      parameters, PS = 2Hp + 4 (W2[0], W2[1], b0, b1, 0, 0)
//   snap   [M, PS] + [M, RS]   SVRG: snapshot parameters, then μ (reduced, RS = Hp + 4)
//   lrs [M], stats [2M] (running training loss and accuracy sums)
//   coef, coefSnap [3E]  per-entry s, loss, correct at θ and at θ̃ (rf_coef)
//   one plan buffer (u32) and one f32 side buffer per role, grown on demand
// Every upload into a role buffer is preceded by a submit, so passes already recorded read
// the old contents (uploads land on the queue at once, passes when submitted).
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { adapterKind } from '../kernels/matmul.ts';
import { rfSgdStep, rfCoef, rfScatter, rfParamStride, rfRowStride, RF_WG } from '../kernels/rf.ts';
import { fill } from '../kernels/elementwise.ts';
import type { FeatureStore } from './rf_features.ts';
import { stepPlan, coefPlan, scatterPlan, type ScatterJob } from './rf_plans.ts';
import { badInput } from '../gpu/errors.ts';

export interface RfBankModel {
  trainStart: number;
  N: number;
  testStart: number;
  nTest: number;
  lr: number;
  /** initial parameters [PS] */
  theta0: Float32Array;
}

export interface RfBankOptions {
  batch: number;
  weightDecay: number;
  labelSmoothing?: number;
  /** SGD steps per dispatch (bounds a dispatch's duration) */
  stepsPerDispatch?: number;
  /** lanes per workgroup (default per adapter: 16 on CPU drivers, 64 on GPUs) */
  wg?: number;
}

export class RfBank {
  readonly M: number;
  readonly E: number;
  readonly H: number;
  readonly PS: number;
  readonly RS: number;
  readonly wg: number;
  readonly data: View;
  readonly theta: View;
  readonly snap: View;
  readonly lrs: View;
  readonly stats: View;
  readonly coef: View;
  readonly coefSnap: View;
  /** [E] the phi row of every entry (host copy) */
  readonly entryRows: Uint32Array;
  private readonly roles = new Map<string, View>();

  constructor(readonly sched: Scheduler, readonly store: FeatureStore, entries: Uint32Array, readonly models: readonly RfBankModel[], readonly opts: RfBankOptions) {
    this.M = models.length;
    this.E = entries.length / 3;
    this.H = store.Hp;
    this.PS = rfParamStride(this.H);
    this.RS = rfRowStride(this.H);
    this.wg = opts.wg ?? (adapterKind(sched.gpu) === 'gpu' ? 64 : RF_WG);
    if (!Number.isInteger(this.E) || this.M === 0) badInput('RfBank', `needs ≥ 1 model and [E, 3] entries, got ${this.M} models, ${entries.length} words`);
    models.forEach((m, i) => {
      if (m.trainStart + m.N > this.E || m.testStart + m.nTest > this.E || m.N < opts.batch) badInput('RfBank', `model ${i}: entries out of range or N=${m.N} < batch ${opts.batch}`);
      if (m.theta0.length !== this.PS) badInput('RfBank', `model ${i}: theta0 holds ${m.theta0.length} values, expected ${this.PS}`);
    });
    this.entryRows = Uint32Array.from({ length: this.E }, (_, e) => entries[3 * e]);
    const a = (n: number, label: string) => sched.alloc(n, label);
    this.data = a(entries.length, 'rf.data');
    sched.upload(this.data, entries);
    this.theta = a(this.M * this.PS, 'rf.theta');
    const th = new Float32Array(this.M * this.PS);
    models.forEach((m, i) => th.set(m.theta0, i * this.PS));
    sched.upload(this.theta, th);
    this.snap = a(this.M * (this.PS + this.RS), 'rf.snap');
    this.lrs = a(this.M, 'rf.lrs');
    sched.upload(this.lrs, Float32Array.from(models, (m) => m.lr));
    this.stats = a(2 * this.M, 'rf.stats');
    this.coef = a(3 * this.E, 'rf.coef');
    this.coefSnap = a(3 * this.E, 'rf.coefSnap');
  }

  /** Shape arguments of every rf call. */
  get shape() {
    return { H: this.H, M: this.M, E: this.E, wg: this.wg };
  }

  get tables() {
    return { phi: this.store.phi, data: this.data };
  }

  /** The role's buffer holding `data` (grown when needed); submits first (see the header). */
  upload(role: string, data: Uint32Array | Float32Array): View {
    this.sched.submit();
    let v = this.roles.get(role);
    if (!v || v.length < data.length) {
      if (v) this.sched.free(v);
      v = this.sched.alloc(Math.max(data.length, 64), `rf.${role}`);
      this.roles.set(role, v);
    }
    this.sched.upload(v, data);
    return { ...v, length: data.length };
  }

  /** A scratch view of `n` f32 for a role (grown when needed; contents undefined). */
  scratch(role: string, n: number): View {
    let v = this.roles.get(role);
    if (!v || v.length < n) {
      this.sched.submit();
      if (v) this.sched.free(v);
      v = this.sched.alloc(Math.max(n, 64), `rf.${role}`);
      this.roles.set(role, v);
    }
    return { ...v, length: n };
  }

  /** scratch() zeroed by a recorded fill. */
  zeros(role: string, n: number): View {
    const out = this.scratch(role, n);
    fill(this.sched, { x: out }, { value: 0, n });
    return out;
  }

  /** Records K = batches.length SGD steps of every model (batches[k][m]: B entries) and submits. */
  trainSteps(batches: ArrayLike<number>[][], stepsPerDispatch = this.opts.stepsPerDispatch ?? 50): void {
    const { batch: B, weightDecay: wd, labelSmoothing: eps = 0 } = this.opts;
    const K = batches.length;
    if (K === 0) return;
    const plan = this.upload('steps', stepPlan(batches, B, this.E));
    for (let k0 = 0; k0 < K; k0 += stepsPerDispatch) {
      rfSgdStep(this.sched, { ...this.tables, plan, theta: this.theta, lrs: this.lrs, stats: this.stats },
        { ...this.shape, B, K: Math.min(stepsPerDispatch, K - k0), item0: k0 * this.M * B, wd, eps });
    }
    this.sched.submit();
  }

  /** Records s, loss, correct of `lists` (entries per model) at θ (or θ̃) into coef (coefSnap). */
  coefs(lists: ReadonlyArray<{ m: number; entries: ArrayLike<number> }>, at: 'theta' | 'snap' = 'theta'): View {
    const { plan, J } = coefPlan(lists, this.M, this.E);
    const out = at === 'theta' ? this.coef : this.coefSnap;
    if (J === 0) return out;
    const theta = at === 'theta' ? this.theta : { buffer: this.snap.buffer, offset: 0, length: this.M * this.PS };
    rfCoef(this.sched, { ...this.tables, plan: this.upload(`coef-${at}`, plan), theta, coef: out }, { ...this.shape, J, eps: this.opts.labelSmoothing ?? 0 });
    return out;
  }

  /** sums [rows, RS] = Σ per job (see rf_scatter), from per-entry coefficients `coefs` [≥ E]. */
  scatter(role: string, jobs: readonly ScatterJob[], rows: number, coefs: View): View {
    const { plan, J } = scatterPlan(jobs, this.E, rows);
    const p = this.upload(`${role}-plan`, plan);
    const sums = this.zeros(`${role}-sums`, rows * this.RS);
    if (J > 0) rfScatter(this.sched, { ...this.tables, plan: p, coefs, sums }, { ...this.shape, J });
    return sums;
  }

  /** Training entries of model m. */
  trainEntries(m: number): Uint32Array {
    const { trainStart, N } = this.models[m];
    return Uint32Array.from({ length: N }, (_, i) => trainStart + i);
  }

  testEntries(m: number): Uint32Array {
    const { testStart, nTest } = this.models[m];
    return Uint32Array.from({ length: nTest }, (_, i) => testStart + i);
  }

  /** Every model's parameters [M, PS]. */
  async readTheta(): Promise<Float32Array> {
    return this.sched.read(this.theta);
  }

  destroy(): void {
    for (const v of [this.data, this.theta, this.snap, this.lrs, this.stats, this.coef, this.coefSnap, ...this.roles.values()]) this.sched.free(v);
    this.roles.clear();
  }
}
