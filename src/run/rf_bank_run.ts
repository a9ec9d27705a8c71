// One bank of random-features students through the paper's RF recipe (SPEC 0, 4.4): every
// student trained with plain SGD (batch B, weight decay, momentum 0), SVRG and GC snapshots
// every snapEvery iterations from gvarStart, the four estimators measured every logEvery
// iterations once a snapshot exists (Monte Carlo, SPEC 2.5; exact forms, SPEC 11, optional),
// all students advancing together: the SGD steps between two events go out as a few
// dispatches that each advance every student many steps.
// As in `gradvar run mnist`, the estimators draw from their own streams and only write
// scratch, so measuring does not change a trajectory (SPEC 7.15: one trajectory per student,
// all four estimators measured on it).
import type { RfBank } from '../models/random_features.ts';
import { RfEstimators, type RfStats } from '../estimators/rf_estimators.ts';
import { rfExact, type RfExact } from '../estimators/rf_exact.ts';
import { RfGradientClustering } from '../cluster/rf_gc.ts';
import type { Estimator } from '../report/log_records.ts';
import type { RfSweepConfig } from './rf_sweep_config.ts';

/** The sweep's trajectory settings (see RfSweepConfig) and the students' real feature count
 *  (the bank pads it to a multiple of 4). */
export type RfTrajectorySettings = Pick<RfSweepConfig,
  'iters' | 'batch' | 'logEvery' | 'estimDraws' | 'snapEvery' | 'gvarStart' | 'gcClusters' | 'gcIters' | 'gcQuant' | 'exact'> & { trueH: number };

export interface RfLogPoint {
  iter: number;
  /** mean training loss and accuracy of the SGD batches since the previous point */
  loss: number;
  acc: number;
  gvar: Record<Estimator, RfStats>;
  exact?: RfExact;
  /** non-empty clusters and total distortion of the last GC snapshot */
  gc: { M: number; td: number; splits: number };
}

export interface RfStudentResult {
  points: RfLogPoint[];
  final: { trainLoss: number; trainAcc: number; testLoss: number; testAcc: number };
  /** the final parameters [2Hp + 4] (W2[0], W2[1], b0, b1, padding) */
  theta: Float32Array;
}

/** Steps recorded per trainSteps call at most (each call uploads its batches once). */
const MAX_BLOCK = 250;

export async function runRfBank(bank: RfBank, keys: readonly string[], s: RfTrajectorySettings,
  onProgress: (done: number) => void = () => {}): Promise<RfStudentResult[]> {
  const est = new RfEstimators(bank, keys, s.batch, s.trueH);
  const gc = new RfGradientClustering(bank, keys, { clusters: s.gcClusters, iters: s.gcIters, batch: s.batch, quant: s.gcQuant }, s.trueH);
  const points: RfLogPoint[][] = bank.models.map(() => []);
  const isSnap = (it: number) => it >= s.gvarStart && (it - s.gvarStart) % s.snapEvery === 0;
  const isLog = (done: number) => done % s.logEvery === 0 || done === s.iters;
  let gcInfo: Array<RfLogPoint['gc']> | null = null;
  let snapIndex = 0;
  let stepsSinceRead = 0;
  try {
    for (let it = 0; it < s.iters;) {
      let end = it;
      while (end < s.iters - 1 && end - it < MAX_BLOCK - 1 && !isSnap(end) && !(gcInfo && isLog(end + 1))) end++;
      bank.trainSteps(est.trainBatches(end - it + 1));
      stepsSinceRead += end - it + 1;
      if (isSnap(end)) {
        await est.snapshotSvrg();
        const parts = await gc.snapshot();
        parts.forEach((p, m) => est.setPartition(m, p.assign, snapIndex));
        gcInfo = parts.map((p, m) => ({ M: est.sampler(m)!.M, td: p.totalDist, splits: p.splits }));
        snapIndex++;
      }
      const done = end + 1;
      if (gcInfo && isLog(done)) {
        const mc = await est.monteCarlo(s.estimDraws);
        const exact = s.exact ? await rfExact(bank, s.batch, s.trueH, bank.models.map((_, m) => est.sampler(m)), true) : null;
        const stats = await bank.sched.read(bank.stats);
        bank.sched.upload(bank.stats, new Float32Array(2 * bank.M));
        bank.models.forEach((_, m) => points[m].push({
          iter: done, loss: stats[2 * m] / stepsSinceRead, acc: stats[2 * m + 1] / stepsSinceRead,
          gvar: mc[m], ...(exact ? { exact: exact[m] } : {}), gc: gcInfo![m],
        }));
        stepsSinceRead = 0;
      }
      it = done;
      onProgress(done);
    }
    const finals = await evaluate(bank);
    const theta = await bank.readTheta();
    return bank.models.map((_, m) => ({ points: points[m], final: finals[m], theta: theta.slice(m * bank.PS, (m + 1) * bank.PS) }));
  } finally {
    gc.destroy();
  }
}

/** Mean loss and accuracy of every student on its training and test entries. */
async function evaluate(bank: RfBank): Promise<RfStudentResult['final'][]> {
  const train = bank.models.map((_, m) => bank.trainEntries(m));
  const test = bank.models.map((_, m) => bank.testEntries(m));
  bank.coefs(bank.models.map((_, m) => ({ m, entries: Uint32Array.from([...train[m], ...test[m]]) })));
  const c = await bank.sched.read(bank.coef);
  const E = bank.E;
  const mean = (es: Uint32Array, at: number) => (es.length ? es.reduce((acc, e) => acc + c[at + e], 0) / es.length : NaN);
  return bank.models.map((_, m) => ({
    trainLoss: mean(train[m], E), trainAcc: mean(train[m], 2 * E), testLoss: mean(test[m], E), testAcc: mean(test[m], 2 * E),
  }));
}
