// The empty-cluster split of batch GC (SPEC 1.5, 7.9).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { splitSmallest, clusterSizes } from '../../src/cluster/split.ts';
import { Rng } from '../../src/util/rng.ts';

// C = 4: cluster 2 empty; cluster 1 (10 members) has the largest total distortion, cluster 3
// (12 members) is larger but tighter.
const base = () => [...Array(5).fill(0), ...Array(10).fill(1), ...Array(12).fill(3)];
const dist = [1.0, 5.0, 0.0, 3.0];

test('moves a uniformly random half of the worst cluster into the empty one', () => {
  const a = base();
  const r = splitSmallest(a, 4, dist, new Rng(1))!;
  assert.is(r.target, 2);
  assert.is(r.source, 1);
  assert.is(r.moved.length, 5);
  assert.equal(Array.from(clusterSizes(a, 4)), [5, 5, 5, 12]);
  for (const i of r.moved) { assert.is(base()[i], 1); assert.is(a[i], 2); }
  // only members of the source changed
  base().forEach((k, i) => { if (k !== 1) assert.is(a[i], k); });
  // seeded: the same seed moves the same members, other seeds other subsets
  assert.equal(Array.from(splitSmallest(base(), 4, dist, new Rng(1))!.moved), Array.from(r.moved));
  const subsets = new Set(Array.from({ length: 20 }, (_, s) => [...splitSmallest(base(), 4, dist, new Rng(100 + s))!.moved].sort().join(',')));
  assert.ok(subsets.size > 10, `${subsets.size} distinct halves in 20 seeds`);
});

test('each member of the source is moved with probability 1/2', () => {
  const counts = new Array(10).fill(0);
  const rng = new Rng(7);
  const T = 4000;
  for (let t = 0; t < T; t++) for (const i of splitSmallest(base(), 4, dist, rng)!.moved) counts[i - 5]++;
  // binomial(T, 1/2): sd = √T/2 ≈ 32
  counts.forEach((c, m) => assert.ok(Math.abs(c - T / 2) < 4 * Math.sqrt(T) / 2, `member ${m}: ${c}`));
});

test('at most one split per call; odd sizes move ⌊N_j/2⌋; ties go to the lowest id', () => {
  const a = [0, 0, 0, 0, 0, 0, 0, 3, 3]; // clusters 1 and 2 empty, cluster 0 has 7
  const r = splitSmallest(a, 4, [2, 0, 0, 2], new Rng(3))!;
  assert.is(r.target, 1);
  assert.is(r.source, 0);
  assert.is(r.moved.length, 3);
  assert.equal(Array.from(clusterSizes(a, 4)), [4, 3, 0, 2]);
});

test('no split when the smallest cluster has ≥ minSize members; minSize is honoured', () => {
  const a = base();
  a[0] = 2; // cluster 2 now holds one member
  const before = [...a];
  assert.is(splitSmallest(a, 4, dist, new Rng(1)), null);
  assert.equal(a, before);
  const r = splitSmallest(a, 4, dist, new Rng(1), 2)!;
  assert.is(r.target, 2);
  assert.is(r.source, 1);
  assert.equal(Array.from(clusterSizes(a, 4)), [4, 5, 6, 12]);
});

test('bad assignments are refused', () => {
  assert.throws(() => splitSmallest([0, 5], 4, dist, new Rng(1)), /assign\[1\] = 5 is not in \[0, 4\)/);
  assert.throws(() => splitSmallest([0, 1], 4, [1, 2], new Rng(1)), /totalDist holds 2 values for 4 clusters/);
});

test.run();
