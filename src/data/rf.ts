// Random-features teacher/student data (SPEC 3.5, 5.3, 5.7), CPU side and browser-safe:
// seeded weights for both init modes, Gaussian input rows, labels thresholded at the training
// mean of the teacher's first output, and the duplicates of SPEC 5.3.
//
// Seeding. Every stream is its own xoroshiro seeded from a hash of the run seed and what the
// stream is for, so a quantity depends only on what defines it:
//   inputs    (seed, dim): train rows and test rows are two streams drawn row by row, so a
//             smaller training set is a prefix of a larger one (nested sets across ψ);
//   teacher   (seed, dim, teacher hidden, init); student init (seed, dim, hidden, init).
// The original code seeds torch once and draws teacher, data and student from one stream, so
// there every quantity also depends on the sizes drawn before it; nothing in the paper rests
// on that coupling.
import { Rng } from '../util/rng.ts';
import type { Dataset } from './dataset.ts';
import { DataError } from './data_error.ts';

/** 'gaussian': each row ~ N(0, I)/||·|| (unit norm), the paper's text and commit e0980fe;
 *  'uniform': PyTorch's default Linear init U(±1/√fan_in), what the code at HEAD runs because
 *  its weight_reset is a no-op (SPEC 3.5, 7.17). */
export type RfInit = 'gaussian' | 'uniform';
export const RF_INITS: readonly RfInit[] = ['gaussian', 'uniform'];

/** FNV-1a over the parts' text: a 31-bit seed for one named stream. */
export function streamSeed(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff;
}

/** `rows` more weight rows of length `cols` from `rng` (call again for the next rows). */
export function weightRows(rng: Rng, rows: number, cols: number, init: RfInit): Float32Array {
  const W = new Float32Array(rows * cols);
  const bound = 1 / Math.sqrt(cols);
  for (let r = 0; r < rows; r++) {
    if (init === 'uniform') {
      for (let c = 0; c < cols; c++) W[r * cols + c] = (2 * rng.uniform() - 1) * bound;
      continue;
    }
    const row = new Float64Array(cols);
    let n2 = 0;
    for (let c = 0; c < cols; c++) { row[c] = rng.normal(); n2 += row[c] * row[c]; }
    const inv = 1 / Math.sqrt(n2);
    for (let c = 0; c < cols; c++) W[r * cols + c] = row[c] * inv;
  }
  return W;
}

/** A random-features network x → W2·relu(W1·x) + b2 with 2 outputs (SPEC 3.5). */
export interface RfNet {
  dim: number;
  hidden: number;
  /** [hidden, dim], the frozen first layer */
  W1: Float32Array;
  /** [2, hidden] */
  W2: Float32Array;
  /** [2]: U(±1/√hidden) in both modes (no version of the code samples it from N(0, 1)) */
  b2: Float32Array;
}

/** A network's weights from three streams of `seed` (W1 rows, W2 rows, b2). */
export function initRfNet(dim: number, hidden: number, init: RfInit, seed: number): RfNet {
  const W1 = weightRows(new Rng(streamSeed(seed, 'W1')), hidden, dim, init);
  const W2 = weightRows(new Rng(streamSeed(seed, 'W2')), 2, hidden, init);
  const rb = new Rng(streamSeed(seed, 'b2'));
  const b2 = Float32Array.from([0, 1], () => (2 * rb.uniform() - 1) / Math.sqrt(hidden));
  return { dim, hidden, W1, W2, b2 };
}

export const teacherSeed = (seed: number, dim: number, teacherHidden: number, init: RfInit) => streamSeed(seed, 'teacher', dim, teacherHidden, init);
export const studentSeed = (seed: number, dim: number, hidden: number, init: RfInit) => streamSeed(seed, 'student', dim, hidden, init);

/** Row-by-row N(0, I_dim) inputs: rows(n) returns the next n rows, so any prefix is fixed. */
export class GaussianRows {
  private readonly rng: Rng;
  constructor(readonly dim: number, seed: number) {
    this.rng = new Rng(seed);
  }
  rows(n: number): Float32Array {
    const x = new Float32Array(n * this.dim);
    for (let i = 0; i < x.length; i++) x[i] = this.rng.normal();
    return x;
  }
}

export const trainRows = (seed: number, dim: number) => new GaussianRows(dim, streamSeed(seed, 'x-train', dim));
export const testRows = (seed: number, dim: number) => new GaussianRows(dim, streamSeed(seed, 'x-test', dim));

/** Labels 1[y − ymean > 0] with ymean the mean of the first nTrain outputs (the training set);
 *  every output is thresholded at that mean, test outputs included (SPEC 3.5). */
export function thresholdLabels(yraw: ArrayLike<number>, nTrain: number): { ymean: number; labels: Uint32Array } {
  if (!(nTrain >= 1 && nTrain <= yraw.length)) throw new RangeError(`thresholdLabels: nTrain ${nTrain} of ${yraw.length} outputs`);
  let s = 0;
  for (let i = 0; i < nTrain; i++) s += yraw[i];
  const ymean = s / nTrain;
  return { ymean, labels: Uint32Array.from(yraw, (v) => (v - ymean > 0 ? 1 : 0)) };
}

export interface Duplicates {
  /** number of distinct points copied (dup_num) */
  num: number;
  /** share of the training set replaced by copies (dup_ratio) */
  ratio: number;
}

/** Parses "dup_num,dup_ratio", e.g. "5,0.9" (SPEC 5.3); errors name the flag value. */
export function parseDuplicates(s: string): Duplicates {
  const m = /^\s*(\d+)\s*,\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)\s*$/i.exec(s);
  const num = m ? Number(m[1]) : NaN, ratio = m ? Number(m[2]) : NaN;
  if (!m || !(num >= 1) || !(ratio >= 0 && ratio < 1)) {
    throw new DataError('--duplicates', `'${s}' must be "num,ratio" with num ≥ 1 and 0 ≤ ratio < 1, e.g. 5,0.9`);
  }
  return { num, ratio };
}

/** SPEC 5.3: the source point of each of the N training examples. The last
 *  dup_total = ⌊N·ratio⌋ points are replaced by copies of points 0..num−1 in turn, so the set
 *  keeps N examples: N = 100, ratio 0.9 gives points 0..9, then 90 copies of points 0..4
 *  (each of them 19 times in all). Copies carry their source's label (computed before). */
export function duplicateSources(N: number, d: Duplicates | null): Uint32Array {
  const src = Uint32Array.from({ length: N }, (_, i) => i);
  if (!d) return src;
  // int(N * ratio) in the original code; the product is rounded first so 100 · 0.9 stays 90.
  const total = Math.floor(Number((N * d.ratio).toPrecision(12)));
  if (d.num > N) throw new DataError('--duplicates', `${d.num} duplicated points do not fit a training set of ${N}`);
  for (let t = 0; t < total; t++) src[N - total + t] = t % d.num;
  return src;
}

/** W1 [H, dim] applied with ReLU to X [n, dim], in float64: the CPU feature map. */
function features(X: Float32Array, n: number, W1: Float32Array, H: number, dim: number): Float64Array {
  const out = new Float64Array(n * H);
  for (let i = 0; i < n; i++) {
    for (let h = 0; h < H; h++) {
      let z = 0;
      for (let d = 0; d < dim; d++) z += X[i * dim + d] * W1[h * dim + d];
      out[i * H + h] = z > 0 ? z : 0;
    }
  }
  return out;
}

/** Output 0 of a network for n rows (float64). */
export function rfOutput0(net: RfNet, X: Float32Array, n: number): Float64Array {
  const phi = features(X, n, net.W1, net.hidden, net.dim);
  return Float64Array.from({ length: n }, (_, i) => {
    let y = net.b2[0];
    for (let h = 0; h < net.hidden; h++) y += net.W2[h] * phi[i * net.hidden + h];
    return y;
  });
}

export interface RfDataConfig {
  seed: number;
  dim: number;
  teacherHidden: number;
  numTrain: number;
  numTest: number;
  init: RfInit;
  duplicates?: Duplicates | null;
}

/** The whole teacher/student data set on the CPU (float64 teacher): for tests and small sizes;
 *  the sweep computes the same labels on the GPU (src/models/rf_features.ts). */
export function rfDataset(c: RfDataConfig): { train: Dataset; test: Dataset; teacher: RfNet; ymean: number } {
  const teacher = initRfNet(c.dim, c.teacherHidden, c.init, teacherSeed(c.seed, c.dim, c.teacherHidden, c.init));
  const Xtr = trainRows(c.seed, c.dim).rows(c.numTrain);
  const Xte = testRows(c.seed, c.dim).rows(c.numTest);
  const ytr = rfOutput0(teacher, Xtr, c.numTrain);
  const { ymean, labels } = thresholdLabels(ytr, c.numTrain);
  const testLabels = Uint32Array.from(rfOutput0(teacher, Xte, c.numTest), (v) => (v - ymean > 0 ? 1 : 0));
  const src = duplicateSources(c.numTrain, c.duplicates ?? null);
  const x = new Float32Array(c.numTrain * c.dim);
  src.forEach((s, i) => x.set(Xtr.subarray(s * c.dim, (s + 1) * c.dim), i * c.dim));
  const set = (xs: Float32Array, y: Uint32Array, n: number): Dataset => ({ x: xs, y, n, dim: c.dim, shape: [c.dim], classes: 2 });
  return { train: set(x, Uint32Array.from(src, (s) => labels[s]), c.numTrain), test: set(Xte, testLabels, c.numTest), teacher, ymean };
}
