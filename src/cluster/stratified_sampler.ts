// The GC sampler (SPEC 2.2, data.py:GlusterSampler) and the weights of Eq. 1 as implemented
// (SPEC 2.1, estim/gluster.py:GlusterEstimator.grad):
//   - clusters with at least one member get dense ids 0..M−1 in increasing original id order
//     (empty ones are dropped, so M ≤ C);
//   - each cluster is an endless loader: its members in a fresh random order on every pass,
//     i.e. without replacement within a cluster until it is exhausted;
//   - the stream is cycles of M draws: a fresh random permutation of the M clusters per cycle,
//     one member from each cluster in that order;
//   - batches of B = batchSize consecutive draws, always full (DataLoader drop_last=True over
//     num_samples = epochIters·B draws); with M == B every batch holds one example per
//     cluster, with M < B batches straddle cycles (still unbiased, SPEC 2.2);
//   - every sampled example i of cluster k has weight w_i = M·N_k/N (SPEC 2.1, 7.10), and the
//     loss is mean_b(w_b·l_b), so with M == B the gradient is (1/N) Σ_k N_k g_{j_k} (Eq. 1).
// The sampler owns its Rng stream; state() / restore() continue the stream exactly.
import { Rng } from '../util/rng.ts';

export interface StratifiedBatch {
  /** B dataset indices */
  indices: Uint32Array;
  /** B dense cluster ids (0..M−1) of those examples */
  clusters: Uint32Array;
  /** B weights w_b = M·N_k/N; the estimator's loss is mean_b(w_b·l_b) */
  weights: Float64Array;
}

export interface StratifiedSamplerOptions {
  batchSize: number;
  /** the sampler's own Rng: a seed or a saved Rng state */
  seed: number | readonly number[];
  /** batches per pass of the DataLoader (num_samples = epochIters·B); each new pass starts a
   *  new cluster cycle, abandoning a partial one. Default: one endless pass. */
  epochIters?: number;
}

/** Everything needed to continue the stream exactly; plain JSON (O(N) numbers). */
export interface StratifiedSamplerState {
  N: number;
  M: number;
  batchSize: number;
  epochIters: number | null;
  rng: number[];
  /** per dense cluster: its current pass order (dataset indices) and how many were handed out */
  orders: number[][];
  positions: number[];
  /** the current cycle's cluster permutation and how many of it were emitted */
  cycle: number[];
  cyclePos: number;
  /** draws made in the current DataLoader pass */
  drawn: number;
}

export class StratifiedSampler {
  /** dataset size and number of non-empty clusters */
  readonly N: number;
  readonly M: number;
  readonly batchSize: number;
  /** [N] dense cluster id of each example */
  readonly clusterOf: Uint32Array;
  /** [M] N_k per dense id, and the original cluster id each dense id came from */
  readonly sizes: Uint32Array;
  readonly originalIds: Uint32Array;
  /** [M] w = M·N_k/N of a sample from cluster k */
  readonly clusterWeights: Float64Array;
  private readonly epochIters: number | null;
  private rng: Rng;
  private readonly orders: Uint32Array[];
  private readonly positions: Uint32Array;
  private readonly cycle: Uint32Array;
  private cyclePos: number;
  private drawn = 0;

  /** `assign[i]`: the cluster id (any non-negative integer) of example i. */
  constructor(assign: ArrayLike<number>, opts: StratifiedSamplerOptions) {
    const { batchSize: B, epochIters = null } = opts;
    if (!Number.isInteger(B) || B < 1) throw new RangeError(`StratifiedSampler: batch size ${B} must be a positive integer`);
    if (epochIters !== null && !(Number.isInteger(epochIters) && epochIters >= 1)) {
      throw new RangeError(`StratifiedSampler: epochIters ${epochIters} must be a positive integer`);
    }
    const N = assign.length;
    if (N === 0) throw new RangeError('StratifiedSampler: no examples');
    let maxId = 0;
    for (let i = 0; i < N; i++) {
      const a = assign[i];
      if (!Number.isInteger(a) || a < 0) throw new RangeError(`StratifiedSampler: assign[${i}] = ${a} is not a cluster id`);
      maxId = Math.max(maxId, a);
    }
    const counts = new Uint32Array(maxId + 1);
    for (let i = 0; i < N; i++) counts[assign[i]]++;
    const dense = new Int32Array(maxId + 1).fill(-1);
    const originalIds: number[] = [];
    counts.forEach((c, id) => { if (c > 0) { dense[id] = originalIds.length; originalIds.push(id); } });
    this.N = N;
    this.M = originalIds.length;
    this.batchSize = B;
    this.epochIters = epochIters;
    this.originalIds = Uint32Array.from(originalIds);
    this.sizes = Uint32Array.from(originalIds, (id) => counts[id]);
    this.clusterOf = Uint32Array.from({ length: N }, (_, i) => dense[assign[i]]);
    this.clusterWeights = Float64Array.from(this.sizes, (nk) => (this.M * nk) / N);
    // Members in increasing index order; every loader starts exhausted, so its first draw
    // shuffles (each pass's order is drawn when the pass begins).
    const fill = new Uint32Array(this.M);
    this.orders = Array.from(this.sizes, (nk) => new Uint32Array(nk));
    for (let i = 0; i < N; i++) { const k = this.clusterOf[i]; this.orders[k][fill[k]++] = i; }
    this.positions = Uint32Array.from(this.sizes);
    this.cycle = new Uint32Array(this.M);
    this.cyclePos = this.M;
    this.rng = typeof opts.seed === 'number' ? new Rng(opts.seed) : Rng.fromState(opts.seed);
  }

  /** The next full batch of B draws. */
  next(): StratifiedBatch {
    const B = this.batchSize;
    const indices = new Uint32Array(B), clusters = new Uint32Array(B), weights = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      const k = this.nextCluster();
      indices[b] = this.nextMember(k);
      clusters[b] = k;
      weights[b] = this.clusterWeights[k];
    }
    return { indices, clusters, weights };
  }

  private nextCluster(): number {
    if (this.epochIters !== null && this.drawn === this.epochIters * this.batchSize) {
      this.drawn = 0;
      this.cyclePos = this.M; // a new DataLoader pass: a new cycle
    }
    this.drawn++;
    if (this.cyclePos === this.M) {
      for (let k = 0; k < this.M; k++) this.cycle[k] = k;
      this.rng.shuffle(this.cycle);
      this.cyclePos = 0;
    }
    return this.cycle[this.cyclePos++];
  }

  private nextMember(k: number): number {
    const order = this.orders[k];
    if (this.positions[k] === order.length) {
      this.rng.shuffle(order); // any start order + Fisher–Yates = a uniform permutation
      this.positions[k] = 0;
    }
    return order[this.positions[k]++];
  }

  state(): StratifiedSamplerState {
    return {
      N: this.N, M: this.M, batchSize: this.batchSize, epochIters: this.epochIters,
      rng: this.rng.state(),
      orders: this.orders.map((o) => Array.from(o)),
      positions: Array.from(this.positions),
      cycle: Array.from(this.cycle),
      cyclePos: this.cyclePos,
      drawn: this.drawn,
    };
  }

  /** A sampler over the same assignment continuing exactly where `state` was taken. */
  static restore(assign: ArrayLike<number>, state: StratifiedSamplerState): StratifiedSampler {
    const s = new StratifiedSampler(assign, { batchSize: state.batchSize, seed: state.rng, epochIters: state.epochIters ?? undefined });
    const bad = (what: string) => { throw new RangeError(`StratifiedSampler.restore: ${what}`); };
    if (s.N !== state.N || s.M !== state.M) bad(`state is for N=${state.N}, M=${state.M}; the assignment gives N=${s.N}, M=${s.M}`);
    state.orders.forEach((o, k) => {
      if (o.length !== s.sizes[k]) bad(`cluster ${k} holds ${s.sizes[k]} examples, the state ${o.length}`);
      const members = new Set(s.orders[k]);
      if (!o.every((i) => members.has(i))) bad(`cluster ${k}'s saved order holds examples of other clusters`);
      s.orders[k].set(o);
      if (!(state.positions[k] >= 0 && state.positions[k] <= o.length)) bad(`position ${state.positions[k]} of cluster ${k} is out of range`);
      s.positions[k] = state.positions[k];
    });
    if (state.cycle.length !== s.M || !(state.cyclePos >= 0 && state.cyclePos <= s.M)) bad('the cluster cycle does not fit M');
    s.cycle.set(state.cycle);
    s.cyclePos = state.cyclePos;
    s.drawn = state.drawn;
    s.rng = Rng.fromState(state.rng);
    return s;
  }
}
