// Random-features data (SPEC 3.5, 5.3): seeded, labels thresholded at the training mean,
// nested training sets, both initialisations, duplicates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  rfDataset, initRfNet, rfOutput0, trainRows, duplicateSources, parseDuplicates, thresholdLabels, weightRows, streamSeed,
} from '../../src/data/rf.ts';
import { Rng } from '../../src/util/rng.ts';

const cfg = { seed: 123, dim: 7, teacherHidden: 11, numTrain: 60, numTest: 25, init: 'gaussian' as const };

test('rfDataset is seeded: the same config gives the same data, another seed other data', () => {
  const a = rfDataset(cfg), b = rfDataset(cfg), c = rfDataset({ ...cfg, seed: 456 });
  assert.equal(Array.from(a.train.x), Array.from(b.train.x));
  assert.equal(Array.from(a.train.y), Array.from(b.train.y));
  assert.equal(Array.from(a.test.y), Array.from(b.test.y));
  assert.not.equal(Array.from(a.train.x.subarray(0, 7)), Array.from(c.train.x.subarray(0, 7)));
});

test('labels are 1[teacher output 0 > the mean over the TRAINING set], test set included', () => {
  const d = rfDataset(cfg);
  const y = rfOutput0(d.teacher, d.train.x, cfg.numTrain);
  const mean = y.reduce((s, v) => s + v, 0) / cfg.numTrain;
  assert.ok(Math.abs(d.ymean - mean) < 1e-12);
  assert.equal(Array.from(d.train.y), Array.from(y, (v) => (v > mean ? 1 : 0)));
  const yt = rfOutput0(d.teacher, d.test.x, cfg.numTest);
  assert.equal(Array.from(d.test.y), Array.from(yt, (v) => (v > mean ? 1 : 0)));
  // Thresholding at the mean, not at 0: the teacher's outputs are not centred.
  const ones = d.train.y.reduce((s, v) => s + v, 0);
  assert.ok(ones > 10 && ones < 50, `${ones} of 60 labels are 1`);
  assert.throws(() => thresholdLabels([1, 2], 3), /nTrain 3 of 2 outputs/);
});

test('training sets are nested: a smaller N is a prefix of a larger one; test rows do not depend on N', () => {
  const small = rfDataset({ ...cfg, numTrain: 20 }), big = rfDataset(cfg);
  assert.equal(Array.from(small.train.x), Array.from(big.train.x.subarray(0, 20 * 7)));
  assert.equal(Array.from(small.test.x), Array.from(big.test.x));
  assert.equal(Array.from(trainRows(1, 3).rows(5)), [...trainRows(1, 3).rows(2), ...trainRows(1, 3).rows(5).subarray(6)]);
});

test("init 'gaussian': unit-norm rows (W1 and W2); 'uniform': PyTorch's U(±1/√fan_in); b2 uniform in both", () => {
  const dim = 300, H = 40;
  const g = initRfNet(dim, H, 'gaussian', 1);
  for (let r = 0; r < H; r++) {
    const n = Math.hypot(...g.W1.subarray(r * dim, (r + 1) * dim));
    assert.ok(Math.abs(n - 1) < 1e-5, `W1 row ${r} norm ${n}`);
  }
  for (let r = 0; r < 2; r++) assert.ok(Math.abs(Math.hypot(...g.W2.subarray(r * H, (r + 1) * H)) - 1) < 1e-5);
  // Gaussian rows are not confined to ±1/√dim (a unit-norm uniform row would be).
  assert.ok(g.W1.some((v) => Math.abs(v) > 1 / Math.sqrt(dim)));
  const u = initRfNet(dim, H, 'uniform', 1);
  assert.ok(u.W1.every((v) => Math.abs(v) <= 1 / Math.sqrt(dim)));
  assert.ok(u.W2.every((v) => Math.abs(v) <= 1 / Math.sqrt(H)));
  const meanNorm = Array.from({ length: H }, (_, r) => Math.hypot(...u.W1.subarray(r * dim, (r + 1) * dim))).reduce((s, v) => s + v, 0) / H;
  assert.ok(Math.abs(meanNorm - 1 / Math.sqrt(3)) < 0.02, `uniform rows have norm ≈ 0.577 (SPEC 3.5), got ${meanNorm}`);
  for (const net of [g, u]) assert.ok(net.b2.every((v) => Math.abs(v) <= 1 / Math.sqrt(H)));
  // Rows drawn in chunks from one stream equal the rows drawn at once.
  const once = weightRows(new Rng(streamSeed(9, 'W1')), 6, 5, 'gaussian');
  const r = new Rng(streamSeed(9, 'W1'));
  assert.equal(Array.from(once), [...weightRows(r, 2, 5, 'gaussian'), ...weightRows(r, 4, 5, 'gaussian')]);
});

test('duplicates (SPEC 5.3): N = 100, ratio 0.9 → points 0..9 then 90 copies of 0..4, each of those 19 times', () => {
  const src = duplicateSources(100, { num: 5, ratio: 0.9 });
  assert.equal(Array.from(src.subarray(0, 10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const counts = new Map<number, number>();
  for (const s of src) counts.set(s, (counts.get(s) ?? 0) + 1);
  assert.equal([...counts.keys()].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (let p = 0; p < 5; p++) assert.is(counts.get(p), 19);
  for (let p = 5; p < 10; p++) assert.is(counts.get(p), 1);
  // int(N·ratio) copies: 666 · 0.9 = 599.4 → 599, and the set keeps N examples.
  const s666 = duplicateSources(666, { num: 5, ratio: 0.9 });
  assert.is(s666.length, 666);
  assert.equal(Array.from(s666.subarray(0, 67)), Array.from({ length: 67 }, (_, i) => i));
  assert.equal(Array.from(s666.subarray(67, 72)), [0, 1, 2, 3, 4]);
  assert.equal(Array.from(duplicateSources(4, null)), [0, 1, 2, 3]);
  // Copies carry their source's label.
  const d = rfDataset({ ...cfg, numTrain: 40, duplicates: { num: 5, ratio: 0.5 } });
  const plain = rfDataset({ ...cfg, numTrain: 40 });
  for (let i = 20; i < 40; i++) {
    assert.is(d.train.y[i], plain.train.y[(i - 20) % 5]);
    assert.equal(Array.from(d.train.x.subarray(i * 7, i * 7 + 7)), Array.from(plain.train.x.subarray(((i - 20) % 5) * 7, ((i - 20) % 5) * 7 + 7)));
  }
});

test('parseDuplicates: "num,ratio" or one clear error', () => {
  assert.equal(parseDuplicates('5,0.9'), { num: 5, ratio: 0.9 });
  assert.equal(parseDuplicates(' 10 , .5 '), { num: 10, ratio: 0.5 });
  for (const bad of ['5', '5,1', '0,0.5', 'a,b', '5,-0.1', '']) assert.throws(() => parseDuplicates(bad), /--duplicates: '.*' must be "num,ratio"/);
  assert.throws(() => duplicateSources(3, { num: 5, ratio: 0.5 }), /5 duplicated points do not fit a training set of 3/);
});

test.run();
