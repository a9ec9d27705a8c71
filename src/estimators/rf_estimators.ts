// The four estimators of SPEC 2.3 for every student of an RfBank, and SPEC 2.5's Monte Carlo
// variance measurement of all of them in two dispatches: one rf_grad job per draw (models ×
// estimators × 2n draws, each writing one reduced gradient row), then one rf_gvar job per
// (model, estimator) reducing its 2n rows to SPEC 2.5's sums.
// Each student has its own seeded streams (training order, SG-B, SG-2B and SVRG batches, GC
// sampler), seeded from the student's key, never from its index in the bank: what a student
// trains on and draws does not depend on which other students share the bank.
//   training  batches of B, reshuffled every epoch, the last short batch dropped (SPEC 0)
//   SG-B/SG-2B/SVRG  batches of B / 2B / B, reshuffled every epoch, short batches kept (SPEC 2.3)
//   GC        StratifiedSampler (one example per cluster when M = B), weights M·N_k/N (SPEC 2.1)
// Statistics are per parameter over D = 2H + 2 (W2 and b2); from the reduced rows they are the
// sums over the H + 1 true reduced coordinates divided by H + 1 (see shaders/rf.wgsl).
import type { Dataset } from '../data/dataset.ts';
import { EpochIterator } from '../data/batches.ts';
import { StratifiedSampler } from '../cluster/stratified_sampler.ts';
import { streamSeed } from '../data/rf.ts';
import { rfGrad, rfGvar } from '../kernels/rf.ts';
import { gradPlan, type GradJob } from '../models/rf_plans.ts';
import type { RfBank } from '../models/random_features.ts';
import { ESTIMATORS, type Estimator } from '../report/log_records.ts';

export interface RfStats { var: number; nvar: number; snr: number; gnorm: number }

/** A dataset of N items that only carries indices (the batch iterators need no inputs). */
function indexSet(N: number): Dataset {
  return { x: new Float32Array(0), y: new Uint32Array(N), n: N, dim: 0, shape: [0], classes: 2 };
}

class Streams {
  readonly train: EpochIterator;
  readonly sgB: EpochIterator;
  readonly sg2B: EpochIterator;
  readonly svrg: EpochIterator;
  sampler: StratifiedSampler | null = null;

  constructor(readonly key: string, N: number, B: number) {
    const ds = indexSet(N);
    this.train = new EpochIterator(ds, { batchSize: B, seed: streamSeed(key, 'train'), dropLast: true });
    this.sgB = new EpochIterator(ds, { batchSize: B, seed: streamSeed(key, 'SG-B') });
    this.sg2B = new EpochIterator(ds, { batchSize: 2 * B, seed: streamSeed(key, 'SG-2B') });
    this.svrg = new EpochIterator(ds, { batchSize: B, seed: streamSeed(key, 'SVRG') });
  }
}

export class RfEstimators {
  private readonly streams: Streams[];
  private svrgReady = false;

  /** keys[m]: what defines student m's run (its streams are seeded from it). */
  constructor(private readonly bank: RfBank, keys: readonly string[], private readonly B: number, private readonly trueH: number) {
    if (keys.length !== bank.M) throw new RangeError(`RfEstimators: ${keys.length} keys for ${bank.M} models`);
    this.streams = keys.map((k, m) => new Streams(k, bank.models[m].N, B));
  }

  /** Student m's GC sampler (null before the first GC snapshot). */
  sampler(m: number): StratifiedSampler | null {
    return this.streams[m].sampler;
  }

  get snapshotReady(): boolean {
    return this.svrgReady;
  }

  /** The next K training batches of every student, as data entries: [k][m] → B entries. */
  trainBatches(K: number): Uint32Array[][] {
    return Array.from({ length: K }, () => this.streams.map((s, m) => this.entries(m, s.train.next().indices)));
  }

  private entries(m: number, local: ArrayLike<number>): Uint32Array {
    const t = this.bank.models[m].trainStart;
    return Uint32Array.from(local, (i) => t + i);
  }

  /** SVRG snapshot of every student: θ̃ = θ, μ = full training gradient at θ̃ (reduced). */
  async snapshotSvrg(): Promise<void> {
    const b = this.bank;
    b.sched.copy(b.theta, { buffer: b.snap.buffer, offset: 0, length: b.M * b.PS });
    const lists = b.models.map((_, m) => ({ m, entries: b.trainEntries(m) }));
    const coefs = b.coefs(lists, 'snap');
    const mu = b.scatter('mu', lists.map((l, m) => ({ entries: l.entries, row0: m, scale: 1 / b.models[m].N })), b.M, coefs);
    b.sched.copy(mu, { buffer: b.snap.buffer, offset: b.M * b.PS, length: b.M * b.RS });
    await b.sched.finish();
    this.svrgReady = true;
  }

  /** GC snapshot result of student m: its partition (local indices → cluster). */
  setPartition(m: number, assign: Uint32Array, snapIndex: number): void {
    this.streams[m].sampler = new StratifiedSampler(assign, { batchSize: this.B, seed: streamSeed(this.streams[m].key, 'GC', snapIndex) });
  }

  /** One draw job of estimator `name` for student m. */
  private job(m: number, name: Estimator): GradJob {
    const s = this.streams[m];
    switch (name) {
      case 'SG-B': return { m, entries: this.entries(m, s.sgB.next().indices) };
      case 'SG-2B': return { m, entries: this.entries(m, s.sg2B.next().indices) };
      case 'SVRG': return { m, entries: this.entries(m, s.svrg.next().indices), svrg: true };
      case 'GC': {
        const d = s.sampler!.next();
        return { m, entries: this.entries(m, d.indices), weights: d.weights };
      }
    }
  }

  /** SPEC 2.5 from 2n draws of each estimator of every student (after the first snapshot). */
  async monteCarlo(n: number): Promise<Array<Record<Estimator, RfStats>>> {
    const b = this.bank;
    if (!this.svrgReady || this.streams.some((s) => !s.sampler)) throw new Error('RfEstimators.monteCarlo: SVRG and GC need their first snapshot');
    const jobs: GradJob[] = [];
    for (let m = 0; m < b.M; m++) for (const name of ESTIMATORS) for (let r = 0; r < 2 * n; r++) jobs.push(this.job(m, name));
    const { plan, wts, J } = gradPlan(jobs, b.M, b.E);
    const p = b.upload('draw-plan', plan);
    const w = b.upload('draw-wts', wts);
    const draws = b.scratch('draws', J * b.RS); // rf_grad writes every row whole
    rfGrad(b.sched, { ...b.tables, plan: p, theta: b.theta, snap: b.snap, wts: w, out: draws }, { ...b.shape, J, eps: b.opts.labelSmoothing ?? 0 });
    const pairs = b.M * ESTIMATORS.length;
    const sums = b.scratch('gvar-sums', 4 * pairs);
    rfGvar(b.sched, { draws, out: sums }, { H: b.H, J: pairs, n, wg: b.wg });
    const host = await b.sched.read(sums);
    const D = this.trueH + 1;
    return Array.from({ length: b.M }, (_, m) => Object.fromEntries(ESTIMATORS.map((name, e) => {
      const q = 4 * (m * ESTIMATORS.length + e);
      return [name, { var: host[q] / (n * D), nvar: host[q + 1] / D, snr: host[q + 2] / D, gnorm: host[q + 3] / (n * D) }];
    })) as Record<Estimator, RfStats>);
  }
}
