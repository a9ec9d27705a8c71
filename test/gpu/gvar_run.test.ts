// `gradvar run mnist` end to end on a small slice: measuring the four estimators leaves the
// training trajectory bit for bit unchanged (they draw from their own streams and only
// overwrite scratch), and every variance record holds finite statistics for all four.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu.ts';
import { runMnistVariance } from '../../src/run/gvar_run.ts';
import { gvarRunConfig } from '../../src/run/gvar_config.ts';

const small = (out: string, measure: boolean) => gvarRunConfig('default', {
  hidden: '24', iters: '40', batch: '16', logEvery: '20', estimDraws: '3', snapEvery: '20', gvarStart: '5',
  gcIters: '1', gcClusters: '16', exactSubset: '300', trainSubset: '600', evalEvery: '40', out,
}, { progress: false, measure });

test('measuring all four estimators leaves the training trajectory unchanged, bit for bit', async () => {
  const { gpu } = await testGpu();
  const root = mkdtempSync(join(tmpdir(), 'gradvar-run-'));
  const quiet = () => {};
  const a = await runMnistVariance(small(join(root, 'plain'), false), quiet, gpu);
  const b = await runMnistVariance(small(join(root, 'measured'), true), quiet, gpu);
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

test.run();
