// CIFAR-10/100 binary-version loading on small files written here: a round trip (records
// written, loaded, compared pixel by pixel with torchvision's float32 normalisation), and every
// kind of damage, each of which must give one DataError line naming the file (or folder).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../src/data/data_error.ts';
import { CIFAR_FORMATS, CIFAR_MEAN, CIFAR_STD, encodeCifarRecord, parseCifar, type CifarKind } from '../../src/data/cifar.ts';
import { loadCifar } from '../../src/data/cifar_node.ts';

function throwsData(f: () => unknown, message: string | RegExp): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, DataError, `expected a DataError, got ${(e as Error)?.stack}`);
    const m = (e as Error).message;
    assert.not.match(m, /\n/, 'the message is one line');
    if (typeof message === 'string') assert.is(m, message);
    else assert.match(m, message);
    return;
  }
  assert.unreachable(`expected a DataError matching ${message}`);
}

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'gradvar-cifar-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const R = 3; // records per file in these tests
// Item i (record r of file k, i = R·k + r): pixel byte p is (7p + 13i) mod 256, so positions
// and images differ and every byte value occurs.
const pixelsOf = (item: number) => Array.from({ length: 3072 }, (_, p) => (p * 7 + 13 * item) % 256);
const labelsOf = (kind: CifarKind, item: number): number[] => (kind === 'cifar10' ? [(item * 3) % 10] : [item % 20, (item * 37) % 100]);

/** Writes a split of R records per file; returns the folder's files' expected labels. */
function writeSplit(kind: CifarKind, split: 'train' | 'test', dir: string): number[] {
  const labels: number[] = [];
  CIFAR_FORMATS[kind].files[split].forEach((name, k) => {
    const recs = Array.from({ length: R }, (_, r) => {
      const item = R * k + r;
      const l = labelsOf(kind, item);
      labels.push(l[l.length - 1]);
      return encodeCifarRecord(kind, l, pixelsOf(item));
    });
    writeFileSync(join(dir, name), Buffer.concat(recs));
  });
  return labels;
}

/** torchvision's ToTensor + Normalize on one byte of channel c, in float32 steps. */
function normalised(v: number, c: number): number {
  const f = Math.fround;
  return f(f(f(v / 255) - f(CIFAR_MEAN[c])) / f(CIFAR_STD[c]));
}

for (const kind of ['cifar10', 'cifar100'] as const) {
  test(`${kind}: written records load back as NCHW [N, 3, 32, 32] with their labels`, () => {
    withDir((dir) => {
      const labels = writeSplit(kind, 'train', dir);
      writeSplit(kind, 'test', dir);
      const ds = loadCifar(kind, 'train', dir, { recordsPerFile: R });
      const files = CIFAR_FORMATS[kind].files.train.length;
      assert.is(ds.n, R * files);
      assert.is(ds.dim, 3072);
      assert.equal(ds.shape, [3, 32, 32]);
      assert.is(ds.classes, kind === 'cifar10' ? 10 : 100);
      assert.equal([...ds.y], labels);
      for (let i = 0; i < ds.n; i++) {
        const px = pixelsOf(i);
        for (let p = 0; p < 3072; p++) {
          const want = normalised(px[p], Math.floor(p / 1024));
          if (ds.x[i * 3072 + p] !== want) assert.unreachable(`item ${i} element ${p}: ${ds.x[i * 3072 + p]} != ${want}`);
          assert.ok(Math.abs(want - (px[p] / 255 - CIFAR_MEAN[Math.floor(p / 1024)]) / CIFAR_STD[Math.floor(p / 1024)]) < 1e-5);
        }
      }
      const t = loadCifar(kind, 'test', dir, { recordsPerFile: R });
      assert.is(t.n, R);
    });
  });
}

test('padValue is the normalised raw 0 of each channel (what zero padding becomes)', () => {
  withDir((dir) => {
    writeSplit('cifar10', 'test', dir);
    const ds = loadCifar('cifar10', 'test', dir, { recordsPerFile: R });
    // item 0's pixel p is 7p mod 256: p = 0 (R), 1024 (G: 7168 mod 256 = 0), 2048 (B) hold 0.
    assert.equal(ds.padValue, [0, 1, 2].map((c) => ds.x[c * 1024]));
    assert.equal(ds.padValue, [0, 1, 2].map((c) => normalised(0, c)));
  });
});

test('browser path: parseCifar on the bytes equals the Node loader', () => {
  withDir((dir) => {
    writeSplit('cifar10', 'train', dir);
    const files = CIFAR_FORMATS.cifar10.files.train.map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
    const a = parseCifar('cifar10', 'train', files, { recordsPerFile: R });
    const b = loadCifar('cifar10', 'train', dir, { recordsPerFile: R });
    assert.equal(a.x, b.x);
    assert.equal([...a.y], [...b.y]);
  });
});

test('the folder above the unpacked archive folder works too', () => {
  withDir((dir) => {
    const inner = join(dir, CIFAR_FORMATS.cifar100.folder);
    mkdirSync(inner);
    const labels = writeSplit('cifar100', 'test', inner);
    assert.equal([...loadCifar('cifar100', 'test', dir, { recordsPerFile: R }).y], labels);
  });
});

test('a truncated file: its size is not a whole number of records', () => {
  withDir((dir) => {
    writeSplit('cifar10', 'train', dir);
    const f = join(dir, 'data_batch_3.bin');
    writeFileSync(f, readFileSync(f).subarray(0, 3 * 3073 - 100));
    throwsData(() => loadCifar('cifar10', 'train', dir, { recordsPerFile: R }),
      `${f}: size 9119 bytes is not a whole number of 3073-byte CIFAR-10 records (1 label byte + 3072 pixel bytes): truncated, or not a CIFAR-10 binary-version file`);
  });
});

test('a wrong record count, against the test size and against the official 10,000', () => {
  withDir((dir) => {
    writeSplit('cifar10', 'train', dir);
    const f = join(dir, 'data_batch_4.bin');
    writeFileSync(f, readFileSync(f).subarray(0, 2 * 3073));
    throwsData(() => loadCifar('cifar10', 'train', dir, { recordsPerFile: R }), `${f}: holds 2 CIFAR-10 records (6146 bytes), expected 3 (9219 bytes)`);
    throwsData(() => loadCifar('cifar10', 'train', dir), `${join(dir, 'data_batch_1.bin')}: holds 3 CIFAR-10 records (9219 bytes), expected 10000 (30730000 bytes)`);
    writeFileSync(f, new Uint8Array(0));
    throwsData(() => loadCifar('cifar10', 'train', dir, { recordsPerFile: R }), `${f}: holds 0 CIFAR-10 records (0 bytes), expected 3 (9219 bytes)`);
  });
});

test('a bad label names the file and the record', () => {
  withDir((dir) => {
    writeSplit('cifar10', 'train', dir);
    const f = join(dir, 'data_batch_2.bin');
    const b = new Uint8Array(readFileSync(f));
    b[2 * 3073] = 10;
    writeFileSync(f, b);
    throwsData(() => loadCifar('cifar10', 'train', dir, { recordsPerFile: R }), `${f}: record 2 (byte 6146): label 10 is not a class 0–9`);
  });
  withDir((dir) => {
    writeSplit('cifar100', 'train', dir);
    const f = join(dir, 'train.bin');
    const b = new Uint8Array(readFileSync(f));
    b[3074 + 1] = 100;
    writeFileSync(f, b);
    throwsData(() => loadCifar('cifar100', 'train', dir, { recordsPerFile: R }), `${f}: record 1 (byte 3075): fine label 100 is not a class 0–99`);
    b[3074 + 1] = 5;
    b[0] = 20;
    writeFileSync(f, b);
    throwsData(() => loadCifar('cifar100', 'train', dir, { recordsPerFile: R }), `${f}: record 0 (byte 0): coarse label 20 is not a class 0–19`);
  });
});

test('CIFAR-10 files read as CIFAR-100 do not parse as whole records', () => {
  withDir((dir) => {
    writeSplit('cifar10', 'test', dir);
    writeFileSync(join(dir, 'test.bin'), readFileSync(join(dir, 'test_batch.bin')));
    throwsData(() => loadCifar('cifar100', 'test', dir, { recordsPerFile: R }), /test\.bin: size 9219 bytes is not a whole number of 3074-byte CIFAR-100 records \(2 label bytes/);
  });
});

test('a missing file names the folder and the files it should hold', () => {
  withDir((dir) => {
    writeSplit('cifar10', 'train', dir);
    rmSync(join(dir, 'data_batch_5.bin'));
    throwsData(() => loadCifar('cifar10', 'train', dir, { recordsPerFile: R }),
      new RegExp(`^${dir}: data_batch_5\\.bin not found: a CIFAR-10 folder holds the binary-version files data_batch_1\\.bin, .*test_batch\\.bin \\(the "CIFAR-10 binary version" from https://www\\.cs\\.toronto\\.edu/~kriz/cifar\\.html, unpacked; its folder cifar-10-batches-bin/ or the folder above it\\)\\.$`));
    writeFileSync(join(dir, 'data_batch_5'), 'a pickle');
    throwsData(() => loadCifar('cifar10', 'train', dir, { recordsPerFile: R }), /data_batch_5\.bin not found: .* This folder looks like the python version/);
    const gone = join(dir, 'nope');
    assert.ok(!existsSync(gone));
    throwsData(() => loadCifar('cifar100', 'test', gone), /nope: CIFAR-100 folder not found \(download the binary version from https/);
  });
});

test('bad arguments are range errors, not data errors', () => {
  assert.throws(() => parseCifar('cifar10', 'train', []), /CIFAR-10 train is 5 file\(s\)/);
  assert.throws(() => parseCifar('cifar10', 'test', [{ name: 't', bytes: new Uint8Array(3073) }], { recordsPerFile: 0 }), /recordsPerFile 0/);
  assert.throws(() => encodeCifarRecord('cifar100', [1], new Uint8Array(3072)), /2 label byte/);
});

test.run();
