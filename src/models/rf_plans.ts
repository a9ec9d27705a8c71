// Plans for shaders/rf.wgsl: the u32 job tables and item lists the host uploads per call.
// Every builder checks what it is given (entries < E, models < M, clusters < C) so a bad
// index is one clear error here, never an out-of-range read on the GPU.
// Layouts (shaders/rf.wgsl): a job-table plan is [J, 4] job words, then the items; a job's
// `start` is the absolute index of its first item word in the plan.
import { badInput } from '../gpu/errors.ts';

export interface Plan {
  plan: Uint32Array;
  /** jobs (or items, for rf_coef) */
  J: number;
}

function checkEntries(what: string, entries: ArrayLike<number>, E: number): void {
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!(Number.isInteger(e) && e >= 0 && e < E)) badInput(what, `entry ${e} (item ${i}) is not in [0, ${E})`);
  }
}

function checkModel(what: string, m: number, M: number): void {
  if (!(Number.isInteger(m) && m >= 0 && m < M)) badInput(what, `model ${m} is not in [0, ${M})`);
}

/** rf_sgd_step items for K steps: batches[k][m] holds model m's B entries of step k. */
export function stepPlan(batches: ArrayLike<number>[][], B: number, E: number): Uint32Array {
  const K = batches.length;
  const M = K ? batches[0].length : 0;
  const plan = new Uint32Array(K * M * B);
  batches.forEach((row, k) => {
    if (row.length !== M) badInput('rf_sgd_step plan', `step ${k} has ${row.length} models, step 0 has ${M}`);
    row.forEach((es, m) => {
      if (es.length !== B) badInput('rf_sgd_step plan', `step ${k}, model ${m}: ${es.length} entries for batch ${B}`);
      checkEntries('rf_sgd_step plan', es, E);
      plan.set(es, (k * M + m) * B);
    });
  });
  return plan;
}

export interface GradJob {
  m: number;
  entries: ArrayLike<number>;
  /** per-item loss weights (GC's M·N_k/N); default 1 */
  weights?: ArrayLike<number>;
  svrg?: boolean;
}

/** rf_grad: plan [J, 4] (m, start, count, svrg) + entries; wts aligned with plan indices. */
export function gradPlan(jobs: readonly GradJob[], M: number, E: number): Plan & { wts: Float32Array } {
  const items = jobs.reduce((s, j) => s + j.entries.length, 0);
  const plan = new Uint32Array(4 * jobs.length + items);
  const wts = new Float32Array(plan.length);
  let at = 4 * jobs.length;
  jobs.forEach((j, q) => {
    checkModel('rf_grad plan', j.m, M);
    checkEntries('rf_grad plan', j.entries, E);
    if (j.entries.length === 0) badInput('rf_grad plan', `job ${q} has no items`);
    if (j.weights && j.weights.length !== j.entries.length) badInput('rf_grad plan', `job ${q}: ${j.weights.length} weights for ${j.entries.length} items`);
    plan.set([j.m, at, j.entries.length, j.svrg ? 1 : 0], 4 * q);
    plan.set(j.entries, at);
    if (j.weights) wts.set(j.weights, at);
    else wts.fill(1, at, at + j.entries.length);
    at += j.entries.length;
  });
  return { plan, wts, J: jobs.length };
}

/** rf_coef: items (m, e) for every entry of each model's list. */
export function coefPlan(lists: ReadonlyArray<{ m: number; entries: ArrayLike<number> }>, M: number, E: number): Plan {
  const n = lists.reduce((s, l) => s + l.entries.length, 0);
  const plan = new Uint32Array(2 * n);
  let at = 0;
  for (const l of lists) {
    checkModel('rf_coef plan', l.m, M);
    checkEntries('rf_coef plan', l.entries, E);
    for (let i = 0; i < l.entries.length; i++, at++) { plan[2 * at] = l.m; plan[2 * at + 1] = l.entries[i]; }
  }
  return { plan, J: n };
}

export interface ScatterJob {
  entries: ArrayLike<number>;
  /** row offset of each item within the job's rows (cluster); default all 0 */
  clusters?: ArrayLike<number>;
  /** first output row of the job */
  row0: number;
  scale: number;
}

/** rf_scatter: plan [J, 4] (start, count, row0, scale bits) + items (e, k); `rows`: output rows. */
export function scatterPlan(jobs: readonly ScatterJob[], E: number, rows: number): Plan {
  const items = jobs.reduce((s, j) => s + j.entries.length, 0);
  const plan = new Uint32Array(4 * jobs.length + 2 * items);
  const bits = new Uint32Array(new Float32Array(jobs.map((j) => j.scale)).buffer);
  let at = 4 * jobs.length;
  jobs.forEach((j, q) => {
    checkEntries('rf_scatter plan', j.entries, E);
    if (!Number.isFinite(j.scale)) badInput('rf_scatter plan', `job ${q}: scale ${j.scale} is not finite`);
    const n = j.entries.length;
    plan.set([at, n, j.row0, bits[q]], 4 * q);
    for (let b = 0; b < n; b++) {
      const k = j.clusters ? j.clusters[b] : 0;
      if (!(Number.isInteger(k) && k >= 0 && j.row0 + k < rows)) badInput('rf_scatter plan', `job ${q}, item ${b}: row ${j.row0}+${k} is not below ${rows}`);
      plan[at + 2 * b] = j.entries[b];
      plan[at + 2 * b + 1] = k;
    }
    at += 2 * n;
  });
  return { plan, J: jobs.length };
}

/** rf_gc_assign: plan [J, 4] (m, start, count, 0) + entries in pass order. */
export function gcAssignPlan(jobs: ReadonlyArray<{ m: number; entries: ArrayLike<number> }>, M: number, E: number): Plan {
  const items = jobs.reduce((s, j) => s + j.entries.length, 0);
  const plan = new Uint32Array(4 * jobs.length + items);
  let at = 4 * jobs.length;
  jobs.forEach((j, q) => {
    checkModel('rf_gc_assign plan', j.m, M);
    checkEntries('rf_gc_assign plan', j.entries, E);
    plan.set([j.m, at, j.entries.length, 0], 4 * q);
    plan.set(j.entries, at);
    at += j.entries.length;
  });
  return { plan, J: jobs.length };
}

export interface GcUpdateJob {
  m: number;
  /** entries sorted by cluster (any order is correct; sorted, each centre is one sum) */
  entries: ArrayLike<number>;
  clusters: ArrayLike<number>;
  /** per item: 1 / (size of its batch in the U-pass order) */
  scales: ArrayLike<number>;
  /** cluster sizes N_k [C] */
  sizes: ArrayLike<number>;
}

/** rf_gc_update: plan [J, 4] (m, start, count, scale index) + items (e, k); aux [sizes M·C | scales]
 *  (models without a job keep size 0 in aux; their centres are not touched). */
export function gcUpdatePlan(jobs: readonly GcUpdateJob[], M: number, C: number, E: number): Plan & { aux: Float32Array } {
  const items = jobs.reduce((s, j) => s + j.entries.length, 0);
  const plan = new Uint32Array(4 * jobs.length + 2 * items);
  const aux = new Float32Array(M * C + items);
  let at = 4 * jobs.length;
  let s0 = 0;
  jobs.forEach((j, q) => {
    checkModel('rf_gc_update plan', j.m, M);
    checkEntries('rf_gc_update plan', j.entries, E);
    const n = j.entries.length;
    if (j.clusters.length !== n || j.scales.length !== n || j.sizes.length !== C) badInput('rf_gc_update plan', `job ${q}: clusters, scales and sizes must have ${n}, ${n} and ${C} values`);
    plan.set([j.m, at, n, s0], 4 * q);
    for (let b = 0; b < n; b++) {
      const k = j.clusters[b];
      if (!(Number.isInteger(k) && k >= 0 && k < C)) badInput('rf_gc_update plan', `job ${q}, item ${b}: cluster ${k} is not in [0, ${C})`);
      plan[at + 2 * b] = j.entries[b];
      plan[at + 2 * b + 1] = k;
    }
    aux.set(j.sizes, j.m * C);
    aux.set(j.scales, M * C + s0);
    at += 2 * n;
    s0 += n;
  });
  return { plan, aux, J: jobs.length };
}
