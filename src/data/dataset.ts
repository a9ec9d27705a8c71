// An in-memory labelled data set, the form every loader (MNIST, CIFAR, RF, toy 2-D) returns
// and every consumer (batch iterator, GC passes, variance estimators) reads.

export interface Dataset {
  /** N×dim inputs, row-major: item i is x[i·dim .. (i+1)·dim), already normalised. */
  x: Float32Array;
  /** N class labels, each < classes. */
  y: Uint32Array;
  /** N, the number of items. */
  n: number;
  /** Values per item (784 for MNIST). */
  dim: number;
  /** Per-item shape whose product is dim, e.g. [1, 28, 28] (C×H×W) for MNIST. */
  shape: readonly number[];
  /** K, the number of classes. */
  classes: number;
}

/**
 * The first `n` items of `ds`, for small test runs. The arrays are views into `ds` (no copy),
 * so writing to one writes to the other.
 */
export function subset(ds: Dataset, n: number): Dataset {
  if (!Number.isInteger(n) || n < 1 || n > ds.n) {
    throw new RangeError(`subset: n = ${n} must be an integer in [1, ${ds.n}]`);
  }
  return { ...ds, x: ds.x.subarray(0, n * ds.dim), y: ds.y.subarray(0, n), n };
}
