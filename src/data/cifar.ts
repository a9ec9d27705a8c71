// CIFAR-10 and CIFAR-100 from the bytes of their "binary version" files (Node reads them from
// a user-given folder in cifar_node.ts; the page fetches them). No npm package ships CIFAR,
// so nothing here knows where the files live.
//
// Layout: a file is a plain sequence of fixed-size records, no header, nothing after them.
//   CIFAR-10   data_batch_1..5.bin (10,000 records each), test_batch.bin (10,000)
//              record = 1 label byte (0..9) + 3072 pixel bytes             = 3073 bytes
//   CIFAR-100  train.bin (50,000 records), test.bin (10,000)
//              record = 1 coarse label byte (0..19) + 1 fine label byte (0..99)
//                       + 3072 pixel bytes                                 = 3074 bytes
// The 3072 pixel bytes are the R, G and B planes of a 32×32 image, each row-major: already
// C×H×W, so item i of the Dataset is the record's pixel bytes in order (NCHW [N, 3, 32, 32]).
// We keep the fine label (100 classes), as the paper's CIFAR-100 runs do.
//
// Pixels become float32 with the paper's ToTensor + Normalize(mean, std) using the CIFAR-10
// statistics for both data sets (SPEC 3.2, 3.3: the CIFAR-100 runs reuse them).
import { dataError } from './data_error.ts';
import type { Dataset } from './dataset.ts';
import type { NamedBytes } from './mnist.ts';

export const CIFAR_MEAN = [0.4914, 0.4822, 0.4465] as const;
export const CIFAR_STD = [0.2023, 0.1994, 0.201] as const;
export const CIFAR_SHAPE = [3, 32, 32] as const;
/** Pixel bytes per record (3 planes of 32×32). */
export const CIFAR_PIXELS = 3072;

export type CifarKind = 'cifar10' | 'cifar100';
export type CifarSplit = 'train' | 'test';

export interface CifarFormat {
  title: string;
  /** The folder the official archive unpacks to. */
  folder: string;
  /** Label bytes before the pixels: 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine). */
  labelBytes: 1 | 2;
  /** Classes of the label we keep (the last label byte). */
  classes: number;
  /** CIFAR-100's coarse classes (the first label byte, validated but dropped). */
  coarseClasses?: number;
  files: Record<CifarSplit, readonly string[]>;
  /** Records in each file of a split, in the official archive. */
  records: Record<CifarSplit, number>;
}

export const CIFAR_FORMATS: Record<CifarKind, CifarFormat> = {
  cifar10: {
    title: 'CIFAR-10',
    folder: 'cifar-10-batches-bin',
    labelBytes: 1,
    classes: 10,
    files: { train: [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`), test: ['test_batch.bin'] },
    records: { train: 10000, test: 10000 },
  },
  cifar100: {
    title: 'CIFAR-100',
    folder: 'cifar-100-binary',
    labelBytes: 2,
    classes: 100,
    coarseClasses: 20,
    files: { train: ['train.bin'], test: ['test.bin'] },
    records: { train: 50000, test: 10000 },
  },
};

export function cifarRecordBytes(kind: CifarKind): number {
  return CIFAR_FORMATS[kind].labelBytes + CIFAR_PIXELS;
}

// Per channel, the 256 possible normalised values, each computed in float32 steps as
// torchvision does (x/255 rounded to f32, minus f32(mean_c), divided by f32(std_c)), so inputs
// match PyTorch's bit for bit (the MNIST table in mnist.ts does the same with one channel).
const PIXEL_TABLES: Float32Array[] = CIFAR_MEAN.map((m, c) => {
  const f = Math.fround;
  const mean = f(m);
  const std = f(CIFAR_STD[c]);
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = f(f(f(v / 255) - mean) / std);
  return t;
});

/** Per channel, the normalised value of a raw 0 pixel: torchvision's zero padding after Normalize. */
export const CIFAR_PAD_VALUE: readonly number[] = PIXEL_TABLES.map((t) => t[0]);

/** Normalises one record's 3072 raw pixel bytes (R, G, B planes) into `out` at `at`. */
export function normalizeCifarPixels(pixels: Uint8Array, out: Float32Array, at: number): void {
  const plane = CIFAR_PIXELS / 3;
  for (let c = 0; c < 3; c++) {
    const t = PIXEL_TABLES[c];
    const o = at + c * plane;
    const p = c * plane;
    for (let k = 0; k < plane; k++) out[o + k] = t[pixels[p + k]];
  }
}

export interface CifarParseOptions {
  /** Records each file must hold; default the official count (CIFAR_FORMATS[kind].records).
   *  Tests on small files pass their own. */
  recordsPerFile?: number;
}

/** The record count of one file, or a DataError naming it: the size must be a whole number of
 *  records and that number must be the expected one. */
function countRecords(kind: CifarKind, file: NamedBytes, expect: number): number {
  const fmt = CIFAR_FORMATS[kind];
  const rec = cifarRecordBytes(kind);
  const size = file.bytes.length;
  const labels = fmt.labelBytes === 1 ? '1 label byte' : '2 label bytes';
  if (size % rec !== 0) {
    dataError(file.name, `size ${size} bytes is not a whole number of ${rec}-byte ${fmt.title} records ` +
      `(${labels} + ${CIFAR_PIXELS} pixel bytes): truncated, or not a ${fmt.title} binary-version file`);
  }
  const n = size / rec;
  if (n !== expect) {
    dataError(file.name, `holds ${n} ${fmt.title} records (${size} bytes), expected ${expect} (${expect * rec} bytes)`);
  }
  return n;
}

/** Copies one file's labels into y and normalised pixels into x, from item `at` on. */
function readRecords(kind: CifarKind, file: NamedBytes, n: number, x: Float32Array, y: Uint32Array, at: number): void {
  const fmt = CIFAR_FORMATS[kind];
  const rec = cifarRecordBytes(kind);
  const b = file.bytes;
  for (let r = 0; r < n; r++) {
    const o = r * rec;
    if (fmt.coarseClasses !== undefined && b[o] >= fmt.coarseClasses) {
      dataError(file.name, `record ${r} (byte ${o}): coarse label ${b[o]} is not a class 0–${fmt.coarseClasses - 1}`);
    }
    const label = b[o + fmt.labelBytes - 1];
    if (label >= fmt.classes) {
      const what = fmt.coarseClasses !== undefined ? 'fine label' : 'label';
      dataError(file.name, `record ${r} (byte ${o + fmt.labelBytes - 1}): ${what} ${label} is not a class 0–${fmt.classes - 1}`);
    }
    y[at + r] = label;
    normalizeCifarPixels(b.subarray(o + fmt.labelBytes, o + rec), x, (at + r) * CIFAR_PIXELS);
  }
}

/**
 * Parses one split from its files, given in the order of CIFAR_FORMATS[kind].files[split]
 * (their names are only used in errors: a path in Node, a URL on the page). Items keep file
 * order, then record order. Every problem is one DataError naming the file.
 */
export function parseCifar(kind: CifarKind, split: CifarSplit, files: readonly NamedBytes[], opts: CifarParseOptions = {}): Dataset {
  const fmt = CIFAR_FORMATS[kind];
  if (!fmt) throw new RangeError(`parseCifar: unknown data set '${kind}' (cifar10 or cifar100)`);
  const want = fmt.files[split];
  if (!want) throw new RangeError(`parseCifar: unknown split '${split}' (train or test)`);
  if (files.length !== want.length) {
    throw new RangeError(`parseCifar: ${fmt.title} ${split} is ${want.length} file(s) (${want.join(', ')}), got ${files.length}`);
  }
  const expect = opts.recordsPerFile ?? fmt.records[split];
  if (!Number.isInteger(expect) || expect < 1) throw new RangeError(`parseCifar: recordsPerFile ${expect} must be a positive integer`);
  // Sizes first, so a bad last file fails before the big allocation and the copying.
  const counts = files.map((f) => countRecords(kind, f, expect));
  const n = counts.reduce((a, b) => a + b, 0);
  const x = new Float32Array(n * CIFAR_PIXELS);
  const y = new Uint32Array(n);
  let at = 0;
  files.forEach((f, k) => {
    readRecords(kind, f, counts[k], x, y, at);
    at += counts[k];
  });
  return { x, y, n, dim: CIFAR_PIXELS, shape: [...CIFAR_SHAPE], classes: fmt.classes, padValue: [...CIFAR_PAD_VALUE] };
}

/** Raw record bytes for one image (tests and tools that write CIFAR-format files). `labels`
 *  is [label] for CIFAR-10, [coarse, fine] for CIFAR-100; `pixels` the 3072 R, G, B bytes. */
export function encodeCifarRecord(kind: CifarKind, labels: readonly number[], pixels: ArrayLike<number>): Uint8Array {
  const fmt = CIFAR_FORMATS[kind];
  if (labels.length !== fmt.labelBytes) throw new RangeError(`encodeCifarRecord: ${fmt.title} records carry ${fmt.labelBytes} label byte(s)`);
  if (pixels.length !== CIFAR_PIXELS) throw new RangeError(`encodeCifarRecord: ${pixels.length} pixel bytes, expected ${CIFAR_PIXELS}`);
  const out = new Uint8Array(cifarRecordBytes(kind));
  out.set(labels, 0);
  out.set(pixels, fmt.labelBytes);
  return out;
}
