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
  /**
   * Optional index map (a dataset view, e.g. with duplicates, src/data/transforms.ts): when
   * present, item i's inputs are row rowIndex[i] of x, which then holds only the distinct rows
   * (x.length is a multiple of dim, not n·dim); y and rowIndex have n entries. Read inputs
   * through gather() (batches.ts), which honours it, never by slicing x at i·dim.
   */
  rowIndex?: Uint32Array;
  /**
   * Optional, per channel (shape[0] values): the normalised value of a raw 0 pixel, i.e.
   * (0 − mean_c)/std_c. It is what torchvision's zero padding before Normalize becomes, so
   * GPU augmentation pads with it (src/kernels/augment.ts).
   */
  padValue?: readonly number[];
}

/**
 * The first `n` items of `ds`, for small test runs. The arrays are views into `ds` (no copy),
 * so writing to one writes to the other. A view with rowIndex keeps all of x (its first n
 * items may use any row).
 */
export function subset(ds: Dataset, n: number): Dataset {
  if (!Number.isInteger(n) || n < 1 || n > ds.n) {
    throw new RangeError(`subset: n = ${n} must be an integer in [1, ${ds.n}]`);
  }
  if (ds.rowIndex) return { ...ds, y: ds.y.subarray(0, n), rowIndex: ds.rowIndex.subarray(0, n), n };
  return { ...ds, x: ds.x.subarray(0, n * ds.dim), y: ds.y.subarray(0, n), n };
}
