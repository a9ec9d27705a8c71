// The frozen halves of many random-features students and their teachers, on the GPU: for each
// feature group (run seed, input dim) the student features φ = relu(W1·x) of its training
// rows and test rows go into one shared buffer `phi` [R, Hp], and every teacher of the group
// gives its output 0, y = W2[0]·relu(W1t·x) + b2[0], for the same rows (read back once, for the
// labels). Students of a group differ in training-set size (a prefix of the group's rows),
// teacher, learning rate and duplicates, and all share these rows.
//
// Rows go through the matmuls in chunks of CHUNK rows padded with zero rows, so every row is
// computed by the same kernel configuration whatever the group's size: a student's features
// are bit-identical whichever other students share its bank. Hp = H rounded up to a multiple
// of 4 (the rf kernels read vec4); the padded columns come from zero rows of W1, so they are 0.
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { matmul } from '../kernels/matmul.ts';
import { rowsumsq } from '../kernels/reduce.ts';
import { GpuError } from '../gpu/errors.ts';
import {
  type RfInit, initRfNet, weightRows, teacherSeed, studentSeed, trainRows, testRows, streamSeed, type GaussianRows,
} from '../data/rf.ts';
import { Rng } from '../util/rng.ts';

export interface FeatureGroupSpec {
  seed: number;
  dim: number;
  /** training rows needed (the largest training set of the group's students) */
  nTrain: number;
  nTest: number;
  /** teacher hidden widths used by the group's students */
  teachers: readonly number[];
}

export interface FeatureGroup {
  spec: FeatureGroupSpec;
  /** phi row of training row 0; test row t is at base + nTrain + t */
  base: number;
  /** per teacher width: output 0 for the nTrain training rows, then the nTest test rows */
  yraw: Map<number, Float64Array>;
}

export interface FeatureStore {
  /** [R, Hp] features; Hp = H padded to a multiple of 4 */
  phi: View;
  H: number;
  Hp: number;
  rows: number;
  groups: FeatureGroup[];
  /** [R] ||φ_r||² (f32, as the kernels use them) */
  sq: Float32Array;
  destroy(): void;
}

export const CHUNK = 256;
const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/** W1 of the student (hidden H, padded to Hp with zero rows) as a GPU view. */
function studentW1(sched: Scheduler, seed: number, dim: number, H: number, Hp: number, init: RfInit): View {
  const W = new Float32Array(Hp * dim);
  W.set(initRfNet(dim, H, init, studentSeed(seed, dim, H, init)).W1);
  const v = sched.alloc(W.length, 'rf.W1');
  sched.upload(v, W);
  return v;
}

/** Teacher hidden units per W1 chunk: at most 16 Mi floats (64 MiB) of W1 per chunk. */
const teacherChunkRows = (th: number, dim: number) => Math.min(th, Math.max(4, Math.floor((16 * 2 ** 20) / dim)));

/** A teacher's W1 in chunks of hidden units, and W2[0] per chunk: the rows initRfNet draws,
 *  drawn a chunk at a time from the same stream (a 10000 × 10000 teacher never sits in host
 *  memory at once). */
function teacherChunks(sched: Scheduler, seed: number, dim: number, th: number, init: RfInit) {
  const ts = teacherSeed(seed, dim, th, init);
  const head = initRfNet(1, th, init, ts); // W2 and b2 come from their own streams; W1 of dim 1 is discarded
  const w1Stream = new Rng(streamSeed(ts, 'W1'));
  const per = teacherChunkRows(th, dim);
  const chunks: Array<{ W1: View; w2: View; rows: number }> = [];
  for (let r0 = 0; r0 < th; r0 += per) {
    const rows = Math.min(per, th - r0);
    const W1 = sched.alloc(rows * dim, 'rf.teacherW1');
    sched.upload(W1, weightRows(w1Stream, rows, dim, init));
    const w2 = sched.alloc(rows, 'rf.teacherW2');
    sched.upload(w2, head.W2.subarray(r0, r0 + rows));
    chunks.push({ W1, w2, rows });
  }
  return { chunks, b0: head.b2[0] };
}

/** Computes every group's features and teacher outputs (see the header). */
export async function buildFeatures(sched: Scheduler, specs: readonly FeatureGroupSpec[], H: number, init: RfInit): Promise<FeatureStore> {
  const Hp = pad4(H);
  const groups: FeatureGroup[] = [];
  let rows = 0;
  for (const spec of specs) { groups.push({ spec, base: rows, yraw: new Map() }); rows += spec.nTrain + spec.nTest; }
  const limit = sched.device.limits.maxStorageBufferBindingSize;
  if (rows * Hp * 4 > limit) {
    throw new GpuError('bad-input', `${rows} feature rows × ${Hp} = ${(rows * Hp * 4 / 2 ** 20).toFixed(0)} MiB exceed this adapter's ${(limit / 2 ** 20).toFixed(0)} MiB storage binding; run fewer groups per bank`, 'rf features');
  }
  const phi = sched.alloc(rows * Hp, 'rf.phi');
  const maxDim = Math.max(...specs.map((s) => s.dim));
  const widest = Math.max(Hp, ...specs.flatMap((s) => s.teachers.map((th) => teacherChunkRows(th, s.dim))));
  const X = sched.alloc(CHUNK * maxDim, 'rf.X');
  const tmp = sched.alloc(CHUNK * widest, 'rf.chunk');
  const yc = sched.alloc(CHUNK, 'rf.y');
  const yBufs: Array<{ g: FeatureGroup; th: number; v: View; b0: number }> = [];
  for (const g of groups) {
    const { seed, dim, nTrain, nTest } = g.spec;
    const W1 = studentW1(sched, seed, dim, H, Hp, init);
    const teachers = g.spec.teachers.map((th) => ({ th, ...teacherChunks(sched, seed, dim, th, init), y: sched.alloc(nTrain + nTest, 'rf.yraw') }));
    for (const t of teachers) yBufs.push({ g, th: t.th, v: t.y, b0: t.b0 });
    const streams: Array<[GaussianRows, number, number]> = [[trainRows(seed, dim), nTrain, g.base], [testRows(seed, dim), nTest, g.base + nTrain]];
    for (const [stream, n, rowBase] of streams) {
      for (let r0 = 0; r0 < n; r0 += CHUNK) {
        const k = Math.min(CHUNK, n - r0);
        const x = new Float32Array(CHUNK * dim);
        x.set(stream.rows(k));
        sched.submit(); // the previous chunk's passes read X before this upload lands
        sched.upload(X, x);
        matmul(sched, { A: X, B: W1, C: tmp }, { M: CHUNK, N: Hp, K: dim, transB: true, relu: true });
        sched.copy({ buffer: tmp.buffer, offset: 0, length: k * Hp }, { buffer: phi.buffer, offset: (rowBase + r0) * Hp, length: k * Hp });
        for (const t of teachers) {
          t.chunks.forEach((c, ci) => {
            matmul(sched, { A: X, B: c.W1, C: tmp }, { M: CHUNK, N: c.rows, K: dim, transB: true, relu: true });
            matmul(sched, { A: tmp, B: c.w2, C: yc }, { M: CHUNK, N: 1, K: c.rows, beta: ci === 0 ? 0 : 1 });
          });
          const yOff = rowBase - g.base + r0;
          sched.copy({ buffer: yc.buffer, offset: 0, length: k }, { buffer: t.y.buffer, offset: yOff, length: k });
        }
      }
    }
    sched.submit();
    await sched.finish();
    sched.free(W1);
    for (const t of teachers) for (const c of t.chunks) { sched.free(c.W1); sched.free(c.w2); }
  }
  for (const y of yBufs) {
    const host = await sched.read(y.v);
    y.g.yraw.set(y.th, Float64Array.from(host, (v) => v + y.b0));
    sched.free(y.v);
  }
  const sqv = sched.alloc(rows, 'rf.sq');
  rowsumsq(sched, { X: phi, out: sqv }, { R: rows, Cc: Hp });
  const sq = await sched.read(sqv);
  for (const v of [X, tmp, yc, sqv]) sched.free(v);
  return { phi, H, Hp, rows, groups, sq, destroy: () => sched.free(phi) };
}

/** The padded student parameters [2Hp + 4] of one student: W2 rows and b2 at their places. */
export function studentTheta(seed: number, dim: number, H: number, init: RfInit): Float32Array {
  const Hp = pad4(H);
  const net = initRfNet(dim, H, init, studentSeed(seed, dim, H, init));
  const theta = new Float32Array(2 * Hp + 4);
  theta.set(net.W2.subarray(0, H), 0);
  theta.set(net.W2.subarray(H, 2 * H), Hp);
  theta[2 * Hp] = net.b2[0];
  theta[2 * Hp + 1] = net.b2[1];
  return theta;
}
