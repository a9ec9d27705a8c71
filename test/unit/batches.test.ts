// The seeded epoch iterator: batch contents, epoch coverage, determinism, and exact resume
// from a saved state (the resumed run must see the identical batch sequence).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EpochIterator, gather, subset, type Batch, type EpochOptions } from '../../src/data/batches.ts';
import type { Dataset } from '../../src/data/dataset.ts';

// N = 103 items of dim 3; item i holds [i, i + 0.25, i + 0.5] and label i mod 10, so every
// row says which item it is.
function toy(n = 103, dim = 3): Dataset {
  const x = new Float32Array(n * dim);
  const y = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) x[i * dim + j] = i + j / 4;
    y[i] = i % 10;
  }
  return { x, y, n, dim, shape: [dim], classes: 10 };
}
const ds = toy();

const take = (it: EpochIterator, k: number): Batch[] => Array.from({ length: k }, () => it.next());
const key = (b: Batch) => `${b.epoch}:${b.step}:${[...b.indices].join(',')}`;

test('a batch holds the rows and labels of its indices', () => {
  const it = new EpochIterator(ds, { batchSize: 16, seed: 1 });
  for (const b of take(it, 10)) {
    assert.is(b.x.length, b.size * ds.dim);
    assert.is(b.y.length, b.size);
    b.indices.forEach((i, r) => {
      assert.is(b.x[r * ds.dim], i);
      assert.is(b.x[r * ds.dim + 2], i + 0.5);
      assert.is(b.y[r], i % 10);
    });
  }
});

test('without dropLast every index appears once per epoch, last batch smaller (N=103, B=16)', () => {
  const it = new EpochIterator(ds, { batchSize: 16, seed: 7 });
  assert.is(it.batchesPerEpoch, 7);
  const orders: string[] = [];
  for (let e = 0; e < 3; e++) {
    const batches = [...it.epochBatches()];
    assert.equal(batches.map((b) => b.size), [16, 16, 16, 16, 16, 16, 7]);
    assert.equal(batches.map((b) => b.step), [0, 1, 2, 3, 4, 5, 6]);
    assert.ok(batches.every((b) => b.epoch === e));
    const seen = batches.flatMap((b) => [...b.indices]).sort((a, b) => a - b);
    assert.equal(seen, Array.from({ length: ds.n }, (_, i) => i));
    orders.push(batches.map(key).join('|'));
  }
  assert.is(new Set(orders).size, 3, 'each epoch is a new order');
});

test('dropLast serves floor(N/B) full batches of distinct indices', () => {
  const it = new EpochIterator(ds, { batchSize: 16, seed: 7, dropLast: true });
  assert.is(it.batchesPerEpoch, 6);
  const batches = [...it.epochBatches()];
  assert.equal(batches.map((b) => b.size), [16, 16, 16, 16, 16, 16]);
  assert.is(new Set(batches.flatMap((b) => [...b.indices])).size, 96);
  assert.is(it.next().epoch, 1);
});

test('shuffle: false visits 0..N−1 in order every epoch', () => {
  const it = new EpochIterator(ds, { batchSize: 50, seed: 3, shuffle: false });
  for (let e = 0; e < 2; e++) {
    const all = [...it.epochBatches()].flatMap((b) => [...b.indices]);
    assert.equal(all, Array.from({ length: ds.n }, (_, i) => i));
  }
});

test('same seed gives the same sequence, another seed another', () => {
  const a = take(new EpochIterator(ds, { batchSize: 10, seed: 42 }), 25).map(key);
  const b = take(new EpochIterator(ds, { batchSize: 10, seed: 42 }), 25).map(key);
  const c = take(new EpochIterator(ds, { batchSize: 10, seed: 43 }), 25).map(key);
  assert.equal(a, b);
  assert.not.equal(a, c);
});

// Stopping after k batches covers: before the first batch, mid-epoch, exactly at the end of
// an epoch (11 = one epoch of ceil(103/10)), just after, and several epochs in.
for (const opts of [
  { batchSize: 10, seed: 5 },
  { batchSize: 10, seed: 5, dropLast: true },
  { batchSize: 103, seed: 9 },
] as EpochOptions[]) {
  test(`resume after k batches continues identically (B=${opts.batchSize}, dropLast=${!!opts.dropLast})`, () => {
    const want = take(new EpochIterator(ds, opts), 60).map(key);
    for (const k of [0, 1, 7, 10, 11, 12, 33, 47]) {
      const first = new EpochIterator(ds, opts);
      const before = take(first, k).map(key);
      const saved = JSON.parse(JSON.stringify(first.state())); // as a checkpoint stores it
      const resumed = EpochIterator.restore(ds, saved);
      const after = take(resumed, 60 - k).map(key);
      assert.equal([...before, ...after], want, `resume after ${k} batches`);
      assert.equal(take(first, 3).map(key), want.slice(k, k + 3), 'saving does not disturb the original');
    }
  });
}

test('a restored iterator resumes batch contents too, not only indices', () => {
  const it = new EpochIterator(ds, { batchSize: 8, seed: 11 });
  take(it, 20);
  const copy = EpochIterator.restore(ds, it.state());
  const [a, b] = [it.next(), copy.next()];
  assert.equal(a.x, b.x);
  assert.equal(a.y, b.y);
});

test('restore refuses a state for another dataset size or an impossible position', () => {
  const st = new EpochIterator(ds, { batchSize: 8, seed: 1 }).state();
  assert.throws(() => EpochIterator.restore(toy(50), st), /saved state is for 103 items, the dataset has 50/);
  assert.throws(() => EpochIterator.restore(ds, { ...st, epoch: 0, position: 104 }), /position 104 is outside \[0, 103\]/);
});

test('options are checked', () => {
  assert.throws(() => new EpochIterator(ds, { batchSize: 0, seed: 1 }), /batch size 0/);
  assert.throws(() => new EpochIterator(ds, { batchSize: 200, seed: 1, dropLast: true }), /leaves no batch/);
});

test('gather copies rows by index and checks the range', () => {
  const { x, y } = gather(ds, new Uint32Array([5, 0, 5]));
  assert.equal([...x], [5, 5.25, 5.5, 0, 0.25, 0.5, 5, 5.25, 5.5]);
  assert.equal([...y], [5, 0, 5]);
  assert.throws(() => gather(ds, new Uint32Array([103])), /index 103 out of range/);
});

test('subset keeps the first n items as views', () => {
  const s = subset(ds, 20);
  assert.is(s.n, 20);
  assert.is(s.x.length, 60);
  assert.is(s.y[19], 9);
  assert.is(s.x.buffer, ds.x.buffer);
  assert.throws(() => subset(ds, 0), /n = 0/);
  assert.throws(() => subset(ds, 104), /\[1, 103\]/);
  const it = new EpochIterator(s, { batchSize: 8, seed: 2 });
  assert.ok([...it.epochBatches()].every((b) => b.indices.every((i) => i < 20)));
});

test.run();
