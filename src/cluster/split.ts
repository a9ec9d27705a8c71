// The small/empty-cluster split of batch GC (SPEC 1.5, 7.9; GradientClusterBatch.update_batch),
// applied after the A-pass and before the U-pass, at most once per GC iteration:
//   i = argmin_k N_k; if N_k(i) < minSize (= --g_min_size = 1: an empty cluster),
//   j = argmax_k total_dist[k] over clusters with N_k ≥ minSize,
//   and a uniformly random half (⌊N_j / 2⌋ members, chosen without replacement) of cluster
//   j's members is re-assigned to i.
// Ties go to the lowest cluster id (torch's min/argmax pick the first). Clusters that are
// still empty afterwards are dropped by the sampler (M < C, SPEC 7.9).
import type { Rng } from '../util/rng.ts';

export interface SplitResult {
  /** the cluster that received members (was the smallest) */
  target: number;
  /** the cluster they came from (largest total distortion among those with ≥ minSize) */
  source: number;
  /** dataset indices moved from source to target, in the order they were drawn */
  moved: Uint32Array;
}

/** Cluster sizes N_k = |{i : assign[i] = k}| for k < C. */
export function clusterSizes(assign: ArrayLike<number>, C: number): Uint32Array {
  const n = new Uint32Array(C);
  for (let i = 0; i < assign.length; i++) {
    const k = assign[i];
    if (!(Number.isInteger(k) && k >= 0 && k < C)) throw new RangeError(`clusterSizes: assign[${i}] = ${k} is not in [0, ${C})`);
    n[k]++;
  }
  return n;
}

/** Performs at most one split, mutating `assign` (example → cluster id < C). `totalDist[k]`
 *  is the A-pass distortion of cluster k (SPEC 1.5's total_dist). Returns null when the
 *  smallest cluster already has ≥ minSize members or no cluster qualifies as a source. */
export function splitSmallest(
  assign: Uint32Array | Int32Array | number[],
  C: number,
  totalDist: ArrayLike<number>,
  rng: Rng,
  minSize = 1,
): SplitResult | null {
  if (totalDist.length < C) throw new RangeError(`splitSmallest: totalDist holds ${totalDist.length} values for ${C} clusters`);
  const sizes = clusterSizes(assign, C);
  let target = 0;
  for (let k = 1; k < C; k++) if (sizes[k] < sizes[target]) target = k;
  if (sizes[target] >= minSize) return null;
  let source = -1;
  for (let k = 0; k < C; k++) {
    if (sizes[k] >= minSize && (source < 0 || totalDist[k] > totalDist[source])) source = k;
  }
  if (source < 0) return null;
  const members = new Uint32Array(sizes[source]);
  let m = 0;
  for (let i = 0; i < assign.length; i++) if (assign[i] === source) members[m++] = i;
  rng.shuffle(members);
  const moved = members.slice(0, Math.floor(members.length / 2));
  for (const i of moved) assign[i] = target;
  return { target, source, moved };
}
