// Data manipulations (SPEC 5.2 duplicates, 5.4 label corruption) as dataset views, MNIST as
// 3×32×32, and label smoothing (SPEC 5.5) in the softmax_xent reference checked against the
// cross-entropy of the spec's target distribution, written out independently here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EpochIterator, gather, subset } from '../../src/data/batches.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { MNIST_MEAN, MNIST_STD } from '../../src/data/mnist.ts';
import { corruptCount, duplicateIndex, manipulate, mnistAsRgb32, parseDuplicate, MANIPULATION_SEED } from '../../src/data/transforms.ts';
import { softmaxXentRef } from '../../src/reference/softmax_xent.ts';
import { Rng } from '../../src/util/rng.ts';

// N items of dim 2; item i holds [i, −i] and label i mod K, so a row says which item it is.
function toy(n: number, K = 10): Dataset {
  const x = new Float32Array(n * 2);
  const y = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = -i;
    y[i] = i % K;
  }
  return { x, y, n, dim: 2, shape: [2], classes: K };
}

// ---- duplicates (SPEC 5.2)

test('duplicates: N + num·cnt items, the first N themselves, then cnt copies of each of num distinct images', () => {
  const ds = toy(1003);
  const v = manipulate(ds, { duplicate: [10, 37] });
  assert.is(v.n, 1003 + 370);
  assert.is(v.x, ds.x, 'pixels are shared, not copied');
  const map = v.rowIndex!;
  for (let i = 0; i < 1003; i++) assert.is(map[i], i);
  const ids: number[] = [];
  for (let k = 0; k < 10; k++) {
    const block = map.subarray(1003 + 37 * k, 1003 + 37 * (k + 1));
    assert.ok(block.every((r) => r === block[0]), `block ${k} is one image`);
    ids.push(block[0]);
  }
  assert.is(new Set(ids).size, 10, 'the duplicated images are distinct');
  // dup_ids = the first dup_num entries of one seeded permutation of 0..N−1 (seed 2222).
  const perm = new Rng(MANIPULATION_SEED).shuffle(Uint32Array.from({ length: 1003 }, (_, i) => i));
  assert.equal(ids, [...perm.subarray(0, 10)]);
  assert.equal([...v.y], [...map].map((r) => ds.y[r]), 'each item carries its image\'s label');
  assert.equal([...manipulate(ds, { duplicate: [10, 37] }).rowIndex!], [...map], 'fixed seed: the same every time');
});

test('duplicates: the seeded choice is spread over the data set, not its start', () => {
  // 200 of 10,000 images: their mean index is ~5000 (sd ≈ 2900/√200 ≈ 204).
  const map = duplicateIndex(10000, 200, 1, new Rng(MANIPULATION_SEED));
  const mean = map.subarray(10000).reduce((a, b) => a + b, 0) / 200;
  assert.ok(Math.abs(mean - 4999.5) < 1000, `mean chosen index ${mean}`);
});

test('duplicates through the epoch iterator: every item once per epoch, rows gathered by rowIndex', () => {
  const ds = toy(53);
  const v = manipulate(ds, { duplicate: [3, 20] });
  const it = new EpochIterator(v, { batchSize: 16, seed: 4 });
  const seen: number[] = [];
  for (const b of it.epochBatches()) {
    b.indices.forEach((i, r) => {
      const img = v.rowIndex![i];
      assert.is(b.x[2 * r], img);
      assert.is(b.x[2 * r + 1], -img);
      assert.is(b.y[r], ds.y[img]);
    });
    seen.push(...b.indices);
  }
  assert.equal(seen.sort((a, b) => a - b), Array.from({ length: 113 }, (_, i) => i));
  // subset of a view keeps the map; gather of a copy item returns its source row.
  const s = subset(v, 60);
  assert.equal([...gather(s, new Uint32Array([55])).x], [v.rowIndex![55], -v.rowIndex![55]]);
});

test('duplicates of a view compose with its rowIndex', () => {
  const ds = toy(40);
  const inner = manipulate(ds, { duplicate: [2, 5] }); // 50 items
  const outer = manipulate(inner, { duplicate: [4, 3] }); // 62 items
  const map = duplicateIndex(50, 4, 3, new Rng(MANIPULATION_SEED));
  assert.equal([...outer.rowIndex!], [...map].map((i) => inner.rowIndex![i]));
  assert.equal([...gather(outer, Uint32Array.from({ length: 62 }, (_, i) => i)).y], [...map].map((i) => inner.y[i]));
});

test('duplicate options are checked; "10,10000" parses', () => {
  assert.equal(parseDuplicate('10,10000'), [10, 10000]);
  assert.throws(() => parseDuplicate('10'), /must be "dup_num,dup_cnt"/);
  assert.throws(() => manipulate(toy(5), { duplicate: [6, 1] }), /dup_num = 6 is more than the 5 items/);
  assert.throws(() => manipulate(toy(5), { duplicate: [1.5, 1] }), /dup_num = 1\.5 must be a non-negative integer/);
  assert.throws(() => manipulate(toy(5), { duplicate: [1, -1] }), /dup_cnt = -1/);
  assert.is(manipulate(toy(5), { duplicate: [3, 0] }).rowIndex, undefined, 'no copies: no view');
});

// ---- label corruption (SPEC 5.4)

test('corruption: exactly the first floor(P·N/100) labels are redrawn, the rest untouched', () => {
  const K = 10, N = 10007, P = 30;
  const ds = toy(N, K);
  ds.y.fill(3); // every true label 3: a redrawn label shows unless it happens to be 3 again
  const v = manipulate(ds, { corruptPerc: P });
  const cr = corruptCount(P, N);
  assert.is(cr, 3002, 'int(30·10007/100) = int(3002.1)');
  assert.ok(v.y.subarray(cr).every((l) => l === 3), 'labels from index cr on are untouched');
  assert.is(ds.y[0], 3, 'the original labels are not modified');
  assert.is(v.x, ds.x);
  const counts = new Array(K).fill(0);
  for (const l of v.y.subarray(0, cr)) counts[l]++;
  // Uniform over all K classes, the true one included: each count ~ Binomial(3002, 1/10),
  // mean 300.2, sd ≈ 16.4; 5 sd bounds.
  for (const c of counts) assert.ok(Math.abs(c - cr / K) < 82, `class counts ${counts}`);
  // One seeded draw per corrupted index, in index order.
  const rng = new Rng(MANIPULATION_SEED);
  for (let i = 0; i < cr; i++) if (v.y[i] !== rng.int(K)) assert.unreachable(`label ${i} is not the seeded draw`);
});

test('corruption with duplicates: the permutation is drawn first; copies keep the true label', () => {
  const K = 7, N = 500;
  const ds = toy(N, K);
  const v = manipulate(ds, { duplicate: [5, 10], corruptPerc: 40 });
  const rng = new Rng(MANIPULATION_SEED);
  const map = duplicateIndex(N, 5, 10, rng);
  const want = Uint32Array.from(map, (r) => ds.y[r]);
  for (let i = 0; i < corruptCount(40, N); i++) want[i] = rng.int(K); // 40 % of N = 200, not of 550
  assert.equal([...v.y], [...want]);
  for (let i = N; i < v.n; i++) assert.is(v.y[i], ds.y[v.rowIndex![i]], `copy ${i} carries its image's clean label`);
});

test('corruption options: P = 0 is the data set itself, P outside [0, 100] is refused', () => {
  const ds = toy(20);
  assert.is(manipulate(ds, {}), ds);
  assert.is(manipulate(ds, { corruptPerc: 0 }), ds);
  assert.is(manipulate(ds, { corruptPerc: 4 }), ds, 'int(4·20/100) = 0 items');
  assert.ok(manipulate(ds, { corruptPerc: 100 }).y !== ds.y);
  assert.throws(() => manipulate(ds, { corruptPerc: 101 }), /corrupt_perc = 101/);
  assert.throws(() => manipulate(ds, { corruptPerc: NaN }), /corrupt_perc = NaN/);
});

// ---- MNIST as 3×32×32

test('mnistAsRgb32: the digit centred (pad 2), copied to 3 channels, the border the normalised black', () => {
  const n = 3;
  const x = new Rng(3).uniformArray(n * 784, -0.4, 2.8);
  const ds: Dataset = { x, y: Uint32Array.from([4, 0, 9]), n, dim: 784, shape: [1, 28, 28], classes: 10 };
  const r = mnistAsRgb32(ds);
  assert.is(r.dim, 3072);
  assert.equal(r.shape, [3, 32, 32]);
  assert.equal([...r.y], [4, 0, 9]);
  const black = Math.fround(Math.fround(-Math.fround(MNIST_MEAN)) / Math.fround(MNIST_STD));
  assert.equal(r.padValue, [black, black, black]);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let j = 0; j < 32; j++) {
          const inside = y >= 2 && y < 30 && j >= 2 && j < 30;
          const want = inside ? x[i * 784 + (y - 2) * 28 + j - 2] : black;
          if (r.x[i * 3072 + c * 1024 + y * 32 + j] !== want) assert.unreachable(`item ${i} c ${c} (${y}, ${j})`);
        }
      }
    }
  }
  assert.throws(() => mnistAsRgb32({ ...ds, shape: [3, 32, 32], dim: 3072 }), /expects items of shape \[1, 28, 28\]/);
});

test('mnistAsRgb32 of a duplicated view converts the stored rows and keeps the map', () => {
  const n = 4;
  const ds: Dataset = { x: new Rng(5).uniformArray(n * 784), y: Uint32Array.from([1, 2, 3, 4]), n, dim: 784, shape: [1, 28, 28], classes: 10 };
  const v = mnistAsRgb32(manipulate(ds, { duplicate: [2, 3] }));
  assert.is(v.x.length, n * 3072);
  assert.is(v.n, 10);
  const g = gather(v, new Uint32Array([8]));
  const src = v.rowIndex![8];
  assert.is(g.x[2 * 32 + 2], ds.x[src * 784]);
  assert.is(g.y[0], ds.y[src]);
});

// ---- label smoothing (SPEC 5.5) in the softmax_xent reference

test('label smoothing: reference loss = CE against (1−ε)·onehot + ε/(K−1)·(1−onehot), dlogits = (p − q)/B', () => {
  const rng = new Rng(11);
  for (const [B, K, eps] of [[7, 10, 0.1], [5, 2, 0.3], [4, 100, 0.1], [3, 13, 0]] as const) {
    const z = Array.from(rng.uniformArray(B * K, -8, 8), Number);
    const labels = Uint32Array.from({ length: B }, () => rng.int(K));
    const ref = softmaxXentRef(z, labels, { B, K, smoothing: eps });
    for (let i = 0; i < B; i++) {
      const row = z.slice(i * K, (i + 1) * K);
      const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0)); // |z| ≤ 8: no overflow
      let loss = 0;
      for (let k = 0; k < K; k++) {
        const onehot = k === labels[i] ? 1 : 0;
        const q = (1 - eps) * onehot + (eps / (K - 1)) * (1 - onehot);
        loss -= q * (row[k] - lse);
        const grad = (Math.exp(row[k] - lse) - q) / B;
        assert.ok(Math.abs(ref.dlogits[i * K + k] - grad) < 1e-14, `dlogits B=${B} K=${K} eps=${eps} [${i},${k}]`);
      }
      assert.ok(Math.abs(ref.loss[i] - loss) < 1e-12 * Math.max(1, loss), `loss B=${B} K=${K} eps=${eps} row ${i}: ${ref.loss[i]} vs ${loss}`);
    }
  }
});

test.run();
