// One pass over a data set that gathers, without materialising a single per-example
// gradient, every input of the closed forms of SPEC 11 for the MLP:
//   - per layer l and example i, ||g_i^(l)||² = ||a_i||²·||δ_i||² + ||δ_i||² (weight + bias);
//   - the full gradient G = (1/n) Σ_i g_i;
//   - with a partition (clusterOf), each cluster's squared gradient-sum norm ||Σ_{i∈k} g_i||²:
//     the pass visits the examples cluster by cluster, so a chunk holds one cluster only and
//     the backward pass's summed gradient is that cluster's partial sum;
//   - with a snapshot engine (snap, at θ̃), ||g_i(θ) − g_i(θ̃)||² and G(θ) − G(θ̃), per layer
//     from the factors at both weights: with Δa = a − ã and Δδ = δ − δ̃,
//       g_i − g̃_i = Δδ aᵀ + δ̃ Δaᵀ,  ||·||² = ||Δδ||²||a||² + ||δ̃||²||Δa||² + 2(Δδ·δ̃)(a·Δa),
//     plus the bias term ||Δδ||². Every term is second order in the difference, so nothing
//     cancels when θ̃ is close to θ (the expanded ||g||² + ||g̃||² − 2<g, g̃> would);
//   - with coordSq, the per-coordinate second moment Q_j = (1/n) Σ_i g_ij², per layer from the
//     squared factors: a weight's Σ_i δ_io² a_ij² = ((δ∘δ)ᵀ(a∘a))_oj, one TN matmul like dW's,
//     a bias's Σ_i δ_io² a column sum. Var_i[g_ij] = Q_j − G_j² then gives the GSNR
//     r_j = G_j²/Var_i[g_ij] and the exact per-coordinate normalized variance (SPEC 11).
// Gradients are those of the per-example loss (dscale 1), as in SPEC 11.
//
// Chunks hold at most passBatch examples and are padded up to a power of two (at most
// passBatch) with zero-weight rows, whose gradients are exactly zero: MlpGrad and Mlp keep
// buffers per batch size, so a pass creates at most log2(passBatch) + 1 sizes however the
// clusters are sized. Every result stays on the GPU until one readback per buffer at the end
// (once per measurement, never per chunk).
//
// GPU memory: norms [L × slots] (per layer, per chunk row, each chunk at a 64-aligned slot),
// G [P]; clusters: csum [P] (a cluster spanning chunks), csq [K × 64] (K clusters: the cluster
// sum viewed as 64 rows of P/64, squared and summed per row by rowsumsq, the 64 partial sums
// finished in float64 on the host; absDiffPartials' 1024 workgroups with a barrier tree took
// ~20 ms per cluster on llvmpipe, this 2 workgroups with one barrier each, a 128-cluster pass
// over 5000 MNIST examples 5.8 s → 3.0 s); snapshot: dsq [slots], Gd [P], dA, dD
// [passBatch × widest], and two [passBatch] row-statistics vectors; coordSq: Q [P] and the
// squared factors sqA, sqD [passBatch × widest].
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import type { MlpGrad } from '../run/mlp_grad.ts';
import type { Dataset } from '../data/dataset.ts';
import { gather } from '../data/batches.ts';
import { axpy, square } from '../kernels/elementwise.ts';
import { rowsumsq, rowdot, colsum } from '../kernels/reduce.ts';
import { matmul } from '../kernels/matmul.ts';
import { peSqnormAccum } from '../kernels/gc.ts';
import type { ClusterStats } from './exact.ts';

export interface ExactPassOptions {
  /** most examples per forward/backward (default 1024) */
  passBatch?: number;
  /** cluster id (any non-negative integer) of every example of ds */
  clusterOf?: ArrayLike<number>;
  /** the gradient engine at the SVRG snapshot θ̃ (same architecture as grad's model) */
  snap?: MlpGrad;
  /** also gather Q_j = (1/n) Σ_i g_ij² per coordinate (one more TN matmul per layer) */
  coordSq?: boolean;
}

export interface ExactPassResult {
  n: number;
  /** layerSq[l][i] = ||g_i^(l)||², layer l's weight and bias, example i of ds */
  layerSq: Float64Array[];
  /** G = (1/n) Σ g_i in the parameter layout (alignment padding is zero) */
  G: Float32Array;
  /** per cluster id 0..max: N_k, Σ_{i∈k} ||g_i||², ||μ_k||² (over ds); null without clusterOf */
  clusters: ClusterStats[] | null;
  /** (1/n) Σ ||g_i(θ) − g_i(θ̃)||² and ||G(θ) − G(θ̃)||²; null without snap */
  svrg: { meanSqDiff: number; gradDiffSqNorm: number } | null;
  /** Q = (1/n) Σ g_i∘g_i in the parameter layout; null without coordSq */
  coordSq: Float32Array | null;
}

/** A chunk: real examples idx, padded to `rows`, its results at `slot` (64-aligned). */
interface Chunk { idx: Uint32Array; rows: number; slot: number; cluster: number; first: boolean; last: boolean }

const align64 = (n: number) => Math.ceil(n / 64) * 64;
const bucket = (m: number, max: number) => Math.min(2 ** Math.ceil(Math.log2(m)), max);

/** Consecutive chunks of ds, or each cluster's members (increasing id order) in chunks. */
function planChunks(n: number, passBatch: number, clusterOf?: ArrayLike<number>): { chunks: Chunk[]; slots: number } {
  const groups: Array<{ members: number[]; cluster: number }> = [];
  if (!clusterOf) groups.push({ members: Array.from({ length: n }, (_, i) => i), cluster: -1 });
  else {
    if (clusterOf.length !== n) throw new RangeError(`exactPass: clusterOf holds ${clusterOf.length} ids for ${n} examples`);
    const byId = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const k = clusterOf[i];
      if (!Number.isInteger(k) || k < 0) throw new RangeError(`exactPass: clusterOf[${i}] = ${k} is not a cluster id`);
      if (!byId.has(k)) byId.set(k, []);
      byId.get(k)!.push(i);
    }
    for (const k of [...byId.keys()].sort((a, b) => a - b)) groups.push({ members: byId.get(k)!, cluster: k });
  }
  const chunks: Chunk[] = [];
  let slots = 0;
  for (const g of groups) {
    for (let s = 0; s < g.members.length; s += passBatch) {
      const idx = Uint32Array.from(g.members.slice(s, s + passBatch));
      const rows = bucket(idx.length, passBatch);
      chunks.push({ idx, rows, slot: slots, cluster: g.cluster, first: s === 0, last: s + passBatch >= g.members.length });
      slots += align64(rows);
    }
  }
  return { chunks, slots };
}

/** The chunk's inputs padded to `rows` (zero images, label 0) and weights 1 (real) / 0 (pad). */
function paddedBatch(ds: Dataset, c: Chunk): { x: Float32Array; y: Uint32Array; weights: Float32Array } {
  const g = gather(ds, c.idx);
  const x = new Float32Array(c.rows * ds.dim);
  x.set(g.x);
  const y = new Uint32Array(c.rows);
  y.set(g.y);
  const weights = new Float32Array(c.rows);
  weights.fill(1, 0, c.idx.length);
  return { x, y, weights };
}

type Buffers = Record<'norms' | 'G' | 's1' | 's2', View> & Partial<Record<'csum' | 'csq' | 'dsq' | 'Gd' | 'dA' | 'dD' | 'Q' | 'sqA' | 'sqD', View>>;

/** Rows of the [P/64 columns] view of a flat parameter vector (P is a multiple of 64). */
const SQ_ROWS = 64;

function allocBuffers(sched: Scheduler, grad: MlpGrad, slots: number, passBatch: number, nClusters: number, snap: boolean, coordSq: boolean): Buffers {
  const m = grad.model;
  const P = m.layout.total;
  const b: Buffers = {
    norms: sched.alloc(m.layers.length * slots, 'exact.norms'), G: sched.alloc(P, 'exact.G'),
    s1: sched.alloc(passBatch, 'exact.s1'), s2: sched.alloc(passBatch, 'exact.s2'),
  };
  if (nClusters > 0) {
    b.csum = sched.alloc(P, 'exact.csum');
    b.csq = sched.alloc(nClusters * SQ_ROWS, 'exact.csq');
  }
  if (snap) {
    b.dsq = sched.alloc(slots, 'exact.dsq');
    b.Gd = sched.alloc(P, 'exact.Gd');
    b.dA = sched.alloc(passBatch * Math.max(...m.layers.map((L) => L.din)), 'exact.dA');
    b.dD = sched.alloc(passBatch * Math.max(...m.layers.map((L) => L.dout)), 'exact.dD');
  }
  if (coordSq) {
    b.Q = sched.alloc(P, 'exact.Q');
    b.sqA = sched.alloc(passBatch * Math.max(...m.layers.map((L) => L.din)), 'exact.sqA');
    b.sqD = sched.alloc(passBatch * Math.max(...m.layers.map((L) => L.dout)), 'exact.sqD');
  }
  return b;
}

const at = (v: View, offset: number, length: number): View => ({ buffer: v.buffer, offset: v.offset + offset, length });

/** Per layer: norms[l, slot + j] = ||a_j||²·||δ_j||² + ||δ_j||² for the chunk's rows. */
function recordNorms(sched: Scheduler, grad: MlpGrad, b: Buffers, c: Chunk, slots: number): void {
  const R = c.rows;
  grad.model.layers.forEach((L, l) => {
    const { A, G: dz } = grad.layerFactors(R, l);
    rowsumsq(sched, { X: A, out: at(b.s1, 0, R) }, { R, Cc: L.din });
    rowsumsq(sched, { X: dz, out: at(b.s2, 0, R) }, { R, Cc: L.dout });
    peSqnormAccum(sched, { aa: at(b.s1, 0, R), gg: at(b.s2, 0, R), out: at(b.norms, l * slots + c.slot, R) }, { B: R, bias: true });
  });
}

/** Adds the chunk's gradient sum to its cluster's; at the cluster's last chunk, records the
 *  squared norm of the cluster sum as 64 row sums in the cluster's block of csq. */
function recordClusterSum(sched: Scheduler, grad: MlpGrad, b: Buffers, c: Chunk, block: number): void {
  const grads = grad.model.grads;
  let sum = grads;
  if (!(c.first && c.last)) {
    if (c.first) sched.copy(grads, b.csum!);
    else axpy(sched, { x: grads, y: b.csum! }, { a: 1 });
    sum = b.csum!;
  }
  if (!c.last) return;
  const P = grad.model.layout.total;
  rowsumsq(sched, { X: sum, out: at(b.csq!, block * SQ_ROWS, SQ_ROWS) }, { R: SQ_ROWS, Cc: P / SQ_ROWS });
}

/** Q += (1/n) Σ_rows g∘g per layer: (δ∘δ)ᵀ(a∘a) into the weight block, Σ δ∘δ into the bias.
 *  Padding rows have δ = 0 and add nothing. The first chunk overwrites (beta 0). */
function recordCoordSq(sched: Scheduler, grad: MlpGrad, b: Buffers, R: number, n: number, first: boolean): void {
  const m = grad.model;
  const beta = first ? 0 : 1;
  m.layers.forEach((L, l) => {
    const { A, G: D } = grad.layerFactors(R, l);
    const sqA = at(b.sqA!, 0, R * L.din), sqD = at(b.sqD!, 0, R * L.dout);
    square(sched, { x: A, y: sqA }, { n: R * L.din });
    square(sched, { x: D, y: sqD }, { n: R * L.dout });
    const w = m.layout.entry(`${L.name}.weight`), bias = m.layout.entry(`${L.name}.bias`);
    matmul(sched, { A: sqD, B: sqA, C: at(b.Q!, w.offset, w.length) }, { M: L.dout, N: L.din, K: R, transA: true, alpha: 1 / n, beta });
    colsum(sched, { X: sqD, out: at(b.Q!, bias.offset, bias.length) }, { R, Cc: L.dout, alpha: 1 / n, beta });
  });
}

/** dsq[slot + j] = ||g_j(θ) − g_j(θ̃)||² over all layers (header formula); Gd += (G − G̃)/n. */
function recordSnapDiff(sched: Scheduler, grad: MlpGrad, snap: MlpGrad, b: Buffers, c: Chunk, n: number): void {
  const R = c.rows;
  axpy(sched, { x: grad.model.grads, y: b.Gd! }, { a: 1 / n });
  axpy(sched, { x: snap.model.grads, y: b.Gd! }, { a: -1 / n });
  const s1 = at(b.s1, 0, R), s2 = at(b.s2, 0, R), out = at(b.dsq!, c.slot, R);
  grad.model.layers.forEach((L, l) => {
    const { A, G: D } = grad.layerFactors(R, l);
    const { A: At, G: Dt } = snap.layerFactors(R, l);
    const dD = at(b.dD!, 0, R * L.dout);
    sched.copy(D, dD);
    axpy(sched, { x: Dt, y: dD }, { a: -1 });
    rowsumsq(sched, { X: A, out: s1 }, { R, Cc: L.din });
    rowsumsq(sched, { X: dD, out: s2 }, { R, Cc: L.dout });
    peSqnormAccum(sched, { aa: s1, gg: s2, out }, { B: R, beta: l === 0 ? 0 : 1, bias: true });
    if (l === 0) return; // layer 0's input is x at both weights: Δa = 0
    const dA = at(b.dA!, 0, R * L.din);
    sched.copy(A, dA);
    axpy(sched, { x: At, y: dA }, { a: -1 });
    rowsumsq(sched, { X: dA, out: s1 }, { R, Cc: L.din });
    rowsumsq(sched, { X: Dt, out: s2 }, { R, Cc: L.dout });
    peSqnormAccum(sched, { aa: s1, gg: s2, out }, { B: R, beta: 1 });
    rowdot(sched, { X: A, Y: dA, out: s1 }, { R, Cc: L.din });
    rowdot(sched, { X: dD, Y: Dt, out: s2 }, { R, Cc: L.dout, alpha: 2 });
    peSqnormAccum(sched, { aa: s1, gg: s2, out }, { B: R, beta: 1 });
  });
}

export async function exactPass(sched: Scheduler, grad: MlpGrad, ds: Dataset, opts: ExactPassOptions = {}): Promise<ExactPassResult> {
  const { passBatch = 1024, clusterOf, snap, coordSq = false } = opts;
  if (!Number.isInteger(passBatch) || passBatch < 1) throw new RangeError(`exactPass: passBatch ${passBatch} must be a positive integer`);
  if (ds.n < 1) throw new RangeError('exactPass: no examples');
  if (snap && snap.model.layout.total !== grad.model.layout.total) throw new RangeError('exactPass: the snapshot engine has another architecture');
  const { chunks, slots } = planChunks(ds.n, passBatch, clusterOf);
  const clusterIds = [...new Set(chunks.map((c) => c.cluster))].filter((k) => k >= 0);
  const block = new Map(clusterIds.map((k, j) => [k, j]));
  const b = allocBuffers(sched, grad, slots, passBatch, clusterIds.length, !!snap, coordSq);
  try {
    for (const c of chunks) {
      const { x, y, weights } = paddedBatch(ds, c);
      // dscale 1: dz rows are per-example gradients δ_i, model.grads their sum.
      grad.compute(x, y, { weights, dscale: 1 });
      recordNorms(sched, grad, b, c, slots);
      axpy(sched, { x: grad.model.grads, y: b.G }, { a: 1 / ds.n });
      if (c.cluster >= 0) recordClusterSum(sched, grad, b, c, block.get(c.cluster)!);
      if (coordSq) recordCoordSq(sched, grad, b, c.rows, ds.n, c === chunks[0]);
      if (snap) {
        snap.compute(x, y, { weights, dscale: 1 });
        recordSnapDiff(sched, grad, snap, b, c, ds.n);
      }
      // Submit before the next chunk's upload overwrites the inputs these passes read.
      sched.submit();
    }
    return await collect(sched, grad, ds.n, chunks, slots, b, clusterIds);
  } finally {
    for (const v of Object.values(b)) sched.free(v);
  }
}

/** The single readback of every buffer and the float64 host finish. */
async function collect(sched: Scheduler, grad: MlpGrad, n: number, chunks: Chunk[], slots: number, b: Buffers, clusterIds: number[]): Promise<ExactPassResult> {
  const L = grad.model.layers.length;
  const norms = await sched.read(b.norms);
  const layerSq = Array.from({ length: L }, () => new Float64Array(n));
  const perRow = (buf: Float32Array, base: number, fn: (i: number, v: number) => void) => {
    for (const c of chunks) c.idx.forEach((i, j) => fn(i, buf[base + c.slot + j]));
  };
  for (let l = 0; l < L; l++) perRow(norms, l * slots, (i, v) => (layerSq[l][i] = v));
  const G = await sched.read(b.G);
  let clusters: ClusterStats[] | null = null;
  if (b.csq) {
    const csq = await sched.read(b.csq);
    clusters = Array.from({ length: Math.max(...clusterIds) + 1 }, () => ({ size: 0, sumSqNorm: 0, meanSqNorm: 0 }));
    for (const c of chunks) {
      const k = clusters[c.cluster];
      k.size += c.idx.length;
      for (const i of c.idx) for (let l = 0; l < L; l++) k.sumSqNorm += layerSq[l][i];
    }
    clusterIds.forEach((id, j) => {
      const k = clusters![id];
      let sq = 0;
      for (let r = 0; r < SQ_ROWS; r++) sq += csq[j * SQ_ROWS + r];
      k.meanSqNorm = sq / (k.size * k.size);
    });
  }
  let svrg: ExactPassResult['svrg'] = null;
  if (b.dsq && b.Gd) {
    const dsq = await sched.read(b.dsq);
    let s = 0;
    perRow(dsq, 0, (_, v) => (s += v));
    const gd = await sched.read(b.Gd);
    let g2 = 0;
    for (const v of gd) g2 += v * v;
    svrg = { meanSqDiff: s / n, gradDiffSqNorm: g2 };
  }
  const coordSq = b.Q ? await sched.read(b.Q) : null;
  return { n, layerSq, G, clusters, svrg, coordSq };
}
