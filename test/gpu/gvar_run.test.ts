// `gradvar run mnist` end to end on a small slice: measuring the four estimators leaves the
// training trajectory bit for bit unchanged (they draw from their own streams and only
// overwrite scratch), and every variance record holds finite statistics for all four.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu.ts';
import { runVariance } from '../../src/run/gvar_run.ts';
import { gvarRunConfig } from '../../src/run/gvar_config.ts';

const small = (out: string, measure: boolean) => gvarRunConfig('default', {
  hidden: '24', iters: '40', batch: '16', logEvery: '20', estimDraws: '3', snapEvery: '20', gvarStart: '5',
  gcIters: '1', gcClusters: '16', exactSubset: '300', trainSubset: '600', evalEvery: '40', out,
}, { progress: false, measure });

test('measuring all four estimators leaves the training trajectory unchanged, bit for bit', async () => {
  const { gpu } = await testGpu();
  const root = mkdtempSync(join(tmpdir(), 'gradvar-run-'));
  const quiet = () => {};
  const a = await runVariance(small(join(root, 'plain'), false), quiet, gpu);
  const b = await runVariance(small(join(root, 'measured'), true), quiet, gpu);
  assert.equal(Array.from(b.params), Array.from(a.params));
  const recs = readFileSync(b.log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.gvar);
  assert.equal(recs.map((r) => r.iter), [20, 40]);
  for (const r of recs) {
    for (const name of ['SG-B', 'SG-2B', 'SVRG', 'GC']) {
      for (const k of ['var', 'nvar']) assert.ok(Number.isFinite(r.gvar[name][k]) && r.gvar[name][k] > 0, `${name}.${k} at ${r.iter}: ${r.gvar[name]?.[k]}`);
    }
    assert.ok(r.exact.trS > 0 && r.exact.B_simple > 0);
    // Exact SVRG always; exact GC while the sampler has one cluster per batch slot (M == B).
    assert.ok(r.exact.var.SVRG > 0, `exact SVRG at ${r.iter}: ${r.exact.var.SVRG}`);
    assert.ok(r.gc.M === 16 ? r.exact.var.GC > 0 : r.exact.var.GC === undefined, `exact GC at ${r.iter}: ${r.exact.var.GC} (M ${r.gc.M})`);
  }
  for (const f of ['report.html', 'variance.svg', 'normalized_variance.svg']) assert.ok(existsSync(join(root, 'measured', f)), f);
});

test('--resume from a measurement point continues the same trajectory and estimator streams', async () => {
  const { gpu } = await testGpu();
  const root = mkdtempSync(join(tmpdir(), 'gradvar-run-'));
  const quiet = () => {};
  const at = (out: string, iters: string, resume = false) => gvarRunConfig('default', {
    hidden: '24', iters, batch: '16', logEvery: '20', estimDraws: '2', snapEvery: '20', gvarStart: '5',
    gcIters: '1', gcClusters: '16', exactSubset: '300', trainSubset: '600', evalEvery: '40', out,
  }, { progress: false, resume });
  const whole = await runVariance(at(join(root, 'whole'), '60'), quiet, gpu);
  await runVariance(at(join(root, 'split'), '20'), quiet, gpu);
  const lines: string[] = [];
  const resumed = await runVariance(at(join(root, 'split'), '60', true), (l) => lines.push(l), gpu);
  assert.ok(lines.some((l) => /^resuming at iteration 20/.test(l)), lines.join('\n'));
  assert.equal(Array.from(resumed.params), Array.from(whole.params));
  const recs = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const a = recs(whole.log), b = recs(resumed.log);
  assert.equal(b.map((r) => r.iter), a.map((r) => r.iter), 'no iteration missing or written twice');
  // After the resume point every variance record is the same draw for draw (GC re-snapshots
  // at 25 and 45 from the restored centres and Rng, SVRG from the restored θ_snap and μ).
  for (const [x, y] of a.map((r, i) => [r, b[i]]).filter(([r]) => r.gvar && r.iter > 20)) {
    assert.equal(y.gvar, x.gvar, `variances at ${x.iter}`);
    assert.equal(y.exact, x.exact, `exact statistics at ${x.iter}`);
  }
  try {
    await runVariance(at(join(root, 'split'), '60', false), quiet, gpu);
    assert.unreachable('a second run into the same directory must be refused');
  } catch (e) {
    assert.match((e as Error).message, /exists: pass --resume/);
  }
});

test('duplicates, corrupt labels and label smoothing run through training and all four estimators', async () => {
  const { gpu } = await testGpu();
  const out = join(mkdtempSync(join(tmpdir(), 'gradvar-run-')), 'manip');
  const cfg = gvarRunConfig('default', {
    hidden: '24', iters: '20', batch: '16', logEvery: '20', estimDraws: '2', snapEvery: '20', gvarStart: '5', gcIters: '1', gcClusters: '16',
    exactSubset: '300', trainSubset: '400', evalEvery: '20', duplicate: '5,120', corruptPerc: '10', labelSmoothing: '0.1', out,
  }, { progress: false });
  const lines: string[] = [];
  const r = await runVariance(cfg, (l) => lines.push(l), gpu);
  assert.match(lines[0], /mnist \(1000 training examples, 5 × 120 duplicates of 400, 10% corrupt labels\)/);
  const rec = readFileSync(r.log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.gvar);
  for (const name of ['SG-B', 'SG-2B', 'SVRG', 'GC']) assert.ok(Number.isFinite(rec.gvar[name].var) && rec.gvar[name].var > 0, name);
  assert.ok(rec.exact.trS > 0);
});

test('ResNet8 on MNIST as 3×32×32 with GPU augmentation: all four estimators logged; --resume is bit-identical', async () => {
  const { gpu } = await testGpu();
  const root = mkdtempSync(join(tmpdir(), 'gradvar-run-'));
  const quiet = () => {};
  const at = (out: string, iters: string, resume = false) => gvarRunConfig('default', {
    iters, batch: '8', logEvery: '6', estimDraws: '2', snapEvery: '6', gvarStart: '3', gcIters: '1', gcClusters: '8',
    trainSubset: '96', testSubset: '64', evalEvery: '12', out,
  }, { progress: false, resume, augment: true }, 'mnist', 'resnet8');
  const lines: string[] = [];
  const whole = await runVariance(at(join(root, 'whole'), '12'), (l) => lines.push(l), gpu);
  assert.match(lines[0], /resnet8 \(no BN, input 3×32×32, 10 classes\) \(crop \+ flip augmentation\) \(74810 parameters\)/);
  const recs = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const a = recs(whole.log);
  const measured = a.filter((r) => r.gvar);
  assert.equal(measured.map((r) => r.iter), [6, 12]);
  for (const rec of measured) {
    for (const name of ['SG-B', 'SG-2B', 'SVRG', 'GC']) assert.ok(Number.isFinite(rec.gvar[name].var) && rec.gvar[name].var > 0, `${name} at ${rec.iter}`);
  }
  await runVariance(at(join(root, 'split'), '6'), quiet, gpu);
  const resumed = await runVariance(at(join(root, 'split'), '12', true), quiet, gpu);
  assert.equal(Array.from(resumed.params), Array.from(whole.params));
  const b = recs(resumed.log);
  assert.equal(b.map((r) => r.iter), a.map((r) => r.iter));
  assert.equal(b.filter((r) => r.gvar && r.iter > 6).map((r) => r.gvar), measured.filter((r) => r.iter > 6).map((r) => r.gvar));
});

test.run();
