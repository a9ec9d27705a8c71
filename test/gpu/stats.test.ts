// `gradvar stats` on a checkpoint written by a tiny `gradvar train mnist-mlp` run: per layer
// and in total, ||G||² and tr(S) equal a float64 computation from explicitly materialised
// per-example gradients (the reference MLP at the checkpoint's weights) on a small MNIST
// subset; the derived columns follow from them; --json from the real CLI parses and agrees.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu.ts';
import { trainMnistMlp } from '../../src/run/train_mnist.ts';
import { parseTrainConfig } from '../../src/run/train_config.ts';
import { loadMlpCheckpoint, parseStatsFlags, runStats, type StatsReport } from '../../src/cli/stats.ts';
import { loadMnist } from '../../src/data/mnist_node.ts';
import { subset } from '../../src/data/dataset.ts';
import { gather } from '../../src/data/batches.ts';
import { mlpLayers, mlpLayout } from '../../src/models/mlp.ts';
import { mlpForwardRef, xentRef, mlpBackwardRef, type RefLayer } from '../../src/reference/mlp.ts';

const bin = new URL('../../bin/gradvar.js', import.meta.url).pathname;
const N = 41, B = 16;
let checkpoint = '';
let report: StatsReport;

/** Per layer: the float64 ||G_l||², tr(S_l), mean GSNR and SG-B per-coordinate nvar over the
 *  first n MNIST training examples, straight from the definitions. */
function reference(file: string, n: number): Array<{ G2: number; trS: number; gsnr: number; nvar: number }> {
  const { cfg, params } = loadMlpCheckpoint(file);
  const t = mlpLayout(cfg).split(params);
  const layers: RefLayer[] = mlpLayers(cfg).map((L) => ({
    din: L.din, dout: L.dout, W: Float64Array.from(t.get(`${L.name}.weight`)!), b: Float64Array.from(t.get(`${L.name}.bias`)!),
  }));
  const ds = subset(loadMnist('train'), n);
  const sum = layers.map((L) => new Float64Array(L.din * L.dout + L.dout));
  const sq = layers.map(() => 0);
  const coordSq = layers.map((L) => new Float64Array(L.din * L.dout + L.dout));
  for (let i = 0; i < n; i++) {
    const { x, y } = gather(ds, Uint32Array.of(i));
    const acts = mlpForwardRef(layers, x, 1);
    const g = mlpBackwardRef(layers, acts, xentRef(acts.at(-1)!, y, 1, cfg.classes).dlogits, 1);
    g.forEach(({ dW, db }, l) => {
      [...dW, ...db].forEach((v, j) => { sum[l][j] += v; sq[l] += v * v; coordSq[l][j] += v * v; });
    });
  }
  return sum.map((s, l) => {
    const G2 = s.reduce((a, v) => a + (v / n) ** 2, 0);
    let r = 0, varying = 0, nv = 0;
    s.forEach((v, j) => {
      const g = v / n, variance = coordSq[l][j] / n - g * g;
      if (variance > 1e-12 * (coordSq[l][j] / n)) { r += (g * g) / variance; varying++; }
      if (variance > 0) nv += variance / B / (g * g + variance / B);
    });
    return { G2, trS: sq[l] / n - G2, gsnr: r / varying, nvar: nv / s.length };
  });
}

test('a tiny training run writes a checkpoint', async () => {
  const { gpu } = await testGpu();
  const out = join(mkdtempSync(join(tmpdir(), 'gradvar-stats-')), 'run');
  const cfg = parseTrainConfig({
    iters: '30', hidden: '24,13', lr: '0.05', momentum: '0.5', weightDecay: '5e-4', batch: '32', milestones: '', lrDecay: '0.1',
    labelSmoothing: '0', evalEvery: '30', logEvery: '30', ckptEvery: '30', out, resume: false, seed: '3', trainSubset: '600', testSubset: '100', progress: false,
  });
  checkpoint = (await trainMnistMlp(cfg, () => {}, gpu)).checkpoint;
});

test(`||G||² and tr(S) per layer and in total equal float64 per-example gradients (first ${N} examples)`, async () => {
  const { gpu } = await testGpu();
  const lines: string[] = [];
  report = await runStats(parseStatsFlags({ checkpoint, subset: String(N), batch: String(B), json: false }), (s) => lines.push(s), gpu);
  assert.equal(report.layers.map((r) => r.name), ['fc1', 'fc2', 'fc4']);
  assert.equal([report.examples, report.batch, report.iteration, report.model.hidden], [N, B, 30, [24, 13]]);
  const want = reference(checkpoint, N);
  const total = { G2: want.reduce((s, w) => s + w.G2, 0), trS: want.reduce((s, w) => s + w.trS, 0) };
  for (const [row, w] of [...report.layers.map((r, l) => [r, want[l]] as const), [report.total, total] as const]) {
    for (const k of ['G2', 'trS'] as const) {
      const rel = Math.abs(row[k] - w[k]) / w[k];
      assert.ok(rel < 1e-5, `${row.name} ${k}: ${row[k]} vs float64 ${w[k]} (rel ${rel.toExponential(2)})`);
    }
    assert.ok(Math.abs(row.B_simple / (row.trS / row.G2) - 1) < 1e-12, `${row.name} B_simple`);
    assert.ok(Math.abs(row.var['SG-B'] / (row.trS / (B * row.params)) - 1) < 1e-12 && Math.abs(row.var['SG-2B'] * 2 / row.var['SG-B'] - 1) < 1e-12, `${row.name} var`);
  }
  // Mean GSNR and exact nvar per layer (the total mixes layers, so it is checked per layer).
  report.layers.forEach((row, l) => {
    const relG = Math.abs(row.gsnr! - want[l].gsnr) / want[l].gsnr, relN = Math.abs(row.nvar!['SG-B'] - want[l].nvar) / want[l].nvar;
    assert.ok(relG < 1e-3, `${row.name} mean GSNR ${row.gsnr} vs float64 ${want[l].gsnr}`);
    assert.ok(relN < 1e-4, `${row.name} nvar ${row.nvar!['SG-B']} vs float64 ${want[l].nvar}`);
    assert.ok(row.nvar!['SG-2B'] < row.nvar!['SG-B'], `${row.name}: nvar of SG-2B below SG-B's`);
  });
  assert.is(report.total.params, report.layers.reduce((s, r) => s + r.params, 0));
  assert.ok(lines.some((l) => /^total\s+\d+\s/.test(l)), lines.join('\n'));
});

test('gradvar stats --json prints one JSON object that agrees with the in-process run', () => {
  const r = spawnSync(process.execPath, [bin, 'stats', '--checkpoint', checkpoint, '--subset', String(N), '--batch', String(B), '--json'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as StatsReport;
  assert.equal(Object.keys(j), ['checkpoint', 'iteration', 'model', 'examples', 'batch', 'layers', 'total']);
  assert.equal(j.model, report.model);
  for (const k of ['G2', 'trS', 'B_simple'] as const) assert.ok(Math.abs(j.total[k] / report.total[k] - 1) < 1e-6, `${k}: ${j.total[k]} vs ${report.total[k]}`);
  assert.equal(Object.keys(j.layers[0].var), ['SG-B', 'SG-2B']);
});

test.run();
