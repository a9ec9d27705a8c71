// IDX parsing and the MNIST loader on small files written here: valid, gzipped, and every
// kind of damage, each of which must give one DataError line naming the file and the problem.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/data_error.ts';
import { gunzipIfNeeded, parseIdx } from '../../src/data/idx.ts';
import { MNIST_FILES, parseMnist } from '../../src/data/mnist.ts';
import { loadMnist } from '../../src/data/mnist_node.ts';

/** IDX bytes: 00 00 type ndims, big-endian dims, then the payload (or `payloadLen` zeros). */
function idx(dims: number[], payload?: number[], type = 0x08, payloadLen?: number): Uint8Array {
  const len = payloadLen ?? payload?.length ?? dims.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(4 + 4 * dims.length + len);
  const v = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  if (payload) out.set(payload.slice(0, len), 4 + 4 * dims.length);
  return out;
}

/** Runs f, expects a one-line DataError whose message is `message` or matches it. */
function throwsData(f: () => unknown, message: string | RegExp): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, DataError);
    const m = (e as Error).message;
    assert.not.match(m, /\n/, 'error message must be one line');
    if (typeof message === 'string') assert.is(m, message);
    else assert.match(m, message);
    return;
  }
  assert.unreachable(`expected a DataError matching ${message}`);
}

const IMG = { dims: 3, items: 'images' };
const LAB = { dims: 1, items: 'labels' };

test('parseIdx reads dims and a payload view of a 2×2×3 ubyte file', () => {
  const bytes = idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const a = parseIdx(bytes, 'f', IMG);
  assert.equal(a.dims, [2, 2, 3]);
  assert.equal([...a.data], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.is(a.data.buffer, bytes.buffer, 'payload is a view, not a copy');
});

test('parseIdx: truncated images file names counts, shape and sizes', () => {
  throwsData(() => parseIdx(idx([3, 2, 2], [], 0x08, 4), 'imgs', IMG), 'imgs: truncated: header says 3 images of 2×2 = 28 bytes, file has 20');
});
test('parseIdx: trailing bytes after the payload', () => {
  throwsData(() => parseIdx(idx([2], [1, 2, 3]), 'labs', LAB), 'labs: 1 unexpected trailing bytes: header says 2 labels = 10 bytes, file has 11');
});
test('parseIdx: header cut before the dimension sizes', () => {
  throwsData(() => parseIdx(idx([3, 2, 2]).subarray(0, 9), 'imgs', IMG), 'imgs: truncated: header needs 16 bytes for 3 dimension(s), file has 9');
  throwsData(() => parseIdx(new Uint8Array(3), 'imgs', IMG), 'imgs: truncated: 3 bytes, too short for an IDX header');
});
test('parseIdx: a labels file where images are expected (wrong magic)', () => {
  throwsData(() => parseIdx(idx([2], [1, 2]), 'x', IMG), /^x: wrong magic number 0x00000801 \(IDX unsigned byte with 1 dimension\(s\)\); expected 0x00000803/);
});
test('parseIdx: another element type, and a file that is not IDX at all', () => {
  throwsData(() => parseIdx(idx([2], [1, 2], 0x0d, 8), 'x', LAB), /^x: wrong magic number 0x00000d01 \(IDX float32 with 1 dimension\(s\)\)/);
  throwsData(() => parseIdx(new TextEncoder().encode('<html>not found</html>'), 'x', LAB), /^x: wrong magic number 0x3c68746d \(not an IDX file\)/);
});
test('parseIdx refuses gzip bytes; gunzipIfNeeded undoes gzip and reports corrupt gzip', async () => {
  const plain = idx([2], [7, 3]);
  const gz = new Uint8Array(gzipSync(plain));
  throwsData(() => parseIdx(gz, 'l.gz', LAB), /^l\.gz: is gzip-compressed/);
  assert.equal([...(await gunzipIfNeeded(gz, 'l.gz'))], [...plain]);
  assert.is(await gunzipIfNeeded(plain, 'l'), plain, 'non-gzip bytes pass through');
  const bad = gz.slice(0, 12);
  try {
    await gunzipIfNeeded(bad, 'l.gz');
    assert.unreachable('corrupt gzip accepted');
  } catch (e) {
    assert.instance(e, DataError);
    assert.match((e as Error).message, /^l\.gz: corrupt gzip data/);
  }
});

// ---- parseMnist and the Node loader on a fake 3-item MNIST written to a temp folder

const pixels = (n: number) => Array.from({ length: n * 784 }, (_, i) => (i * 37) % 256);

function writeSplit(dir: string, nImages: number, labels: number[], gz = false): void {
  const put = (name: string, b: Uint8Array) => writeFileSync(join(dir, gz ? name + '.gz' : name), gz ? gzipSync(b) : b);
  put(MNIST_FILES.train.images, idx([nImages, 28, 28], pixels(nImages)));
  put(MNIST_FILES.train.labels, idx([labels.length], labels));
}

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'gradvar-idx-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('loadMnist reads a user folder, plain or .gz, to the same dataset', () => {
  withDir((dir) => {
    writeSplit(dir, 3, [4, 0, 9]);
    const ds = loadMnist('train', dir);
    assert.is(ds.n, 3);
    assert.is(ds.dim, 784);
    assert.equal(ds.shape, [1, 28, 28]);
    assert.equal([...ds.y], [4, 0, 9]);
    const f = Math.fround;
    assert.is(ds.x[1], f(f(f(37 / 255) - f(0.1307)) / f(0.3081)), 'pixel 37 normalised in float32 steps');
    rmSync(join(dir, MNIST_FILES.train.images));
    rmSync(join(dir, MNIST_FILES.train.labels));
    writeSplit(dir, 3, [4, 0, 9], true);
    const gz = loadMnist('train', dir);
    assert.equal([...gz.y], [...ds.y]);
    assert.equal(gz.x, ds.x);
  });
});
test('loadMnist: mismatched image and label counts name both files', () => {
  withDir((dir) => {
    writeSplit(dir, 3, [1, 2]);
    const imgs = join(dir, MNIST_FILES.train.images);
    const labs = join(dir, MNIST_FILES.train.labels);
    throwsData(() => loadMnist('train', dir), `${labs}: holds 2 labels but ${imgs} holds 3 images`);
  });
});
test('loadMnist: a label outside 0–9', () => {
  withDir((dir) => {
    writeSplit(dir, 3, [1, 10, 2]);
    throwsData(() => loadMnist('train', dir), /train-labels-idx1-ubyte: label 10 at item 1 is not a digit class 0–9$/);
  });
});
test('loadMnist: a 60000-image header on a 1234-byte file', () => {
  withDir((dir) => {
    writeSplit(dir, 3, [1, 2, 3]);
    const imgs = join(dir, MNIST_FILES.train.images);
    writeFileSync(imgs, idx([60000, 28, 28], [], 0x08, 1234 - 16));
    throwsData(() => loadMnist('train', dir), `${imgs}: truncated: header says 60000 images of 28×28 = 47040016 bytes, file has 1234`);
  });
});
test('loadMnist: a missing file, a corrupt .gz', () => {
  withDir((dir) => {
    throwsData(() => loadMnist('test', dir), `${join(dir, MNIST_FILES.test.images)}: not found (nor a .gz of it)`);
    writeSplit(dir, 3, [1, 2, 3]);
    rmSync(join(dir, MNIST_FILES.train.labels));
    writeFileSync(join(dir, MNIST_FILES.train.labels + '.gz'), gzipSync(idx([3], [1, 2, 3])).subarray(0, 15));
    throwsData(() => loadMnist('train', dir), /train-labels-idx1-ubyte\.gz: corrupt gzip data/);
  });
});
test('parseMnist: an empty images file', () => {
  throwsData(() => parseMnist({ name: 'i', bytes: idx([0, 28, 28]) }, { name: 'l', bytes: idx([0]) }), 'i: holds no images');
});

test.run();
