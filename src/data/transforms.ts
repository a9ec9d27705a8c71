// Data manipulations of the paper's image experiments (SPEC 5.1–5.4) and MNIST reshaped for
// the CIFAR ResNets. Browser-safe: Datasets in, Datasets out, nothing read from disk.
//
//   manipulate(ds, {duplicate: [num, cnt], corruptPerc: P})   SPEC 5.2 and 5.4, as a view
//   mnistAsRgb32(ds)                                          [1, 28, 28] → [3, 32, 32]
//
// Duplicates do not copy pixels: the result is a view whose rowIndex maps each of its items
// to a stored row of the original x (batches.ts gather() follows it), and whose y holds a
// label per item. CIFAR-100 with 10 × 10,000 duplicates is then 150,000 items over the same
// 614 MB of pixels instead of 1.8 GB. Label smoothing (SPEC 5.5) is not a data transform
// here: the softmax_xent kernel takes eps and trains against (1 − eps)·onehot + eps/(K−1)·rest.
// Random-features duplicates (SPEC 5.3) live in rf.ts.
import { Rng } from '../util/rng.ts';
import type { Dataset } from './dataset.ts';
import { normalizePixels } from './mnist.ts';

/**
 * The paper's IndexedDataset calls np.random.seed(2222) in its constructor, so the duplicated
 * images and the corrupted labels are the same in every run and for every training seed; we
 * seed our own stream with 2222 likewise. The stream is not numpy's: numpy's legacy
 * RandomState is MT19937, permutes with Fisher–Yates drawing each swap index by masked
 * rejection sampling, and draws randint by masked rejection too; our Rng (util/rng.ts) is
 * xoroshiro128+ with Fisher–Yates and integers floor(u·n) of a 53-bit uniform u. The
 * distributions are the same (uniform permutation, uniform labels), the particular images and
 * labels are not the paper's. The draws follow the constructor's order on one stream: the
 * permutation (only with duplicates), then one label per corrupted index.
 */
export const MANIPULATION_SEED = 2222;

export interface DataManipulation {
  /** [dup_num, dup_cnt] (`--duplicate 10,10000`): dup_num random images appear dup_cnt extra times. */
  duplicate?: readonly [number, number];
  /** P (`--corrupt_perc`): the first floor(P·N/100) items get a uniform random label. */
  corruptPerc?: number;
}

/** Parses the command line's "dup_num,dup_cnt" form, e.g. "10,10000". */
export function parseDuplicate(s: string): [number, number] {
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(s);
  if (!m) throw new RangeError(`duplicate '${s}' must be "dup_num,dup_cnt", two non-negative integers such as 10,10000`);
  return [Number(m[1]), Number(m[2])];
}

/**
 * SPEC 5.2: the item → original-item map of a dataset of n items enlarged by dupNum·dupCnt
 * duplicates. Items 0..n−1 are themselves; item n + k·dupCnt + j (j < dupCnt) is a copy of
 * dup_ids[k], where dup_ids = the first dupNum entries of a random permutation of 0..n−1
 * drawn from `rng`.
 */
export function duplicateIndex(n: number, dupNum: number, dupCnt: number, rng: Rng): Uint32Array {
  for (const [what, v] of [['dup_num', dupNum], ['dup_cnt', dupCnt]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`duplicate: ${what} = ${v} must be a non-negative integer`);
  }
  if (dupNum > n) throw new RangeError(`duplicate: dup_num = ${dupNum} is more than the ${n} items of the data set`);
  const total = n + dupNum * dupCnt;
  if (total >= 2 ** 32) throw new RangeError(`duplicate: ${total} items do not fit u32 indices`);
  const ids = rng.shuffle(Uint32Array.from({ length: n }, (_, i) => i)).subarray(0, dupNum);
  const map = new Uint32Array(total);
  for (let i = 0; i < n; i++) map[i] = i;
  for (let k = 0; k < dupNum; k++) map.fill(ids[k], n + k * dupCnt, n + (k + 1) * dupCnt);
  return map;
}

/** SPEC 5.4: how many items a corruption of P percent redraws, int(P·n/100) as the code has it. */
export function corruptCount(perc: number, n: number): number {
  if (!(Number.isFinite(perc) && perc >= 0 && perc <= 100)) throw new RangeError(`corrupt_perc = ${perc} must be a number in [0, 100]`);
  return Math.floor((perc * n) / 100);
}

/**
 * SPEC 5.4: the first `count` labels of y (in place) become rng.int(classes), one draw per
 * index in index order; the new label may equal the old one (probability 1/classes).
 */
export function corruptLabels(y: Uint32Array, count: number, classes: number, rng: Rng): void {
  if (!(Number.isInteger(count) && count >= 0 && count <= y.length)) throw new RangeError(`corruptLabels: count ${count} is not in [0, ${y.length}]`);
  for (let i = 0; i < count; i++) y[i] = rng.int(classes);
}

/**
 * Applies SPEC 5.2 and 5.4 as the paper's IndexedDataset does, returning a view of `ds` (its x
 * is shared, never copied): n grows to N + dup_num·dup_cnt and the view carries rowIndex;
 * y is a new array. Corruption redraws items 0..floor(P·N/100)−1 (N the size before
 * duplicates), so a duplicate always carries its source image's TRUE label, even when the
 * source itself is corrupted (the code corrupts by index, and duplicate indices are ≥ N).
 * Deterministic: the same ds and config give the same view (the train-accuracy set reuses
 * the train set's corrupt labels in the code; applying the same config reproduces them).
 * An empty config returns ds itself. Apply it to the training set and the train-accuracy set
 * only: the paper's test set has neither duplicates nor corrupt labels (SPEC 5.1, 5.4).
 */
export function manipulate(ds: Dataset, cfg: DataManipulation): Dataset {
  const dup = cfg.duplicate;
  const crNum = corruptCount(cfg.corruptPerc ?? 0, ds.n);
  if (dup === undefined && crNum === 0) return ds;
  const rng = new Rng(MANIPULATION_SEED);
  let view: Dataset = ds;
  if (dup !== undefined) {
    // Drawn whenever a duplicate option is given, even one adding no items (as the code does),
    // so the corrupt labels that follow on the stream do not depend on dup_num·dup_cnt.
    const map = duplicateIndex(ds.n, dup[0], dup[1], rng);
    if (map.length > ds.n) {
      const base = ds.rowIndex;
      const rowIndex = base ? Uint32Array.from(map, (i) => base[i]) : map;
      view = { ...ds, n: map.length, rowIndex, y: Uint32Array.from(map, (i) => ds.y[i]) };
    }
  }
  if (crNum > 0) {
    const y = view === ds ? ds.y.slice(0, ds.n) : view.y;
    corruptLabels(y, crNum, ds.classes, rng);
    view = { ...view, y };
  }
  return view;
}

/**
 * MNIST for the CIFAR ResNets (3 input channels, 32×32): each 28×28 digit is padded by 2
 * pixels on every side and its one channel copied to three. The values keep MNIST's own
 * normalisation (mean 0.1307, std 0.3081) and the border gets the normalised black,
 * (0 − 0.1307)/0.3081 ≈ −0.424, which is what torchvision's Pad(2) before Normalize would give.
 * Why not re-normalise with CIFAR statistics: MNIST pixels are mostly 0, so CIFAR's
 * mean ≈ 0.48, std ≈ 0.2 would put the background at ≈ −2.4 and the mean input near −1.8
 * instead of 0, a bad start for a BN-free ResNet; MNIST's statistics keep every channel near zero mean and unit variance, and
 * the border is indistinguishable from the digit's background. Pass `fill` for an input that
 * was normalised differently. The result has padValue set, for the GPU augmentation.
 */
export function mnistAsRgb32(ds: Dataset, fill = normalizePixels(new Uint8Array(1))[0]): Dataset {
  const [C, H, W] = ds.shape;
  if (ds.shape.length !== 3 || C !== 1 || H !== 28 || W !== 28) {
    throw new RangeError(`mnistAsRgb32: expects items of shape [1, 28, 28], got [${ds.shape.join(', ')}]`);
  }
  const rows = ds.x.length / ds.dim; // stored rows: n, or fewer under a rowIndex
  const plane = 32 * 32;
  const x = new Float32Array(rows * 3 * plane).fill(fill);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < 3; c++) {
      const o = (r * 3 + c) * plane + 2 * 32 + 2; // row 2, column 2 of channel c
      for (let y = 0; y < 28; y++) x.set(ds.x.subarray(r * 784 + y * 28, r * 784 + (y + 1) * 28), o + y * 32);
    }
  }
  return { ...ds, x, dim: 3 * plane, shape: [3, 32, 32], padValue: [fill, fill, fill] };
}
