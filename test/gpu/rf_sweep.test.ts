// The RF sweep on the GPU: a student's trajectory in a bank equals the same student alone
// (bit for bit), the features and labels equal the CPU float64 data, duplicates make GC's
// variance far smaller than SG-B's, and the CLI writes its files or one line of error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu.ts';
import { rfSweepConfig } from '../../src/run/rf_sweep_config.ts';
import { expandRuns, buildBank } from '../../src/run/rf_sweep.ts';
import { runRfBank, type RfStudentResult } from '../../src/run/rf_bank_run.ts';
import { rfDataset } from '../../src/data/rf.ts';
import { rfFeaturesRef } from '../../src/reference/rf.ts';
import { initRfNet, studentSeed, trainRows } from '../../src/data/rf.ts';
import type { RfRun } from '../../src/report/rf_sweep_report.ts';
import type { RfSweepConfig } from '../../src/run/rf_sweep_config.ts';

const tiny = (raw: Record<string, unknown>) => rfSweepConfig('small', {
  hidden: '36', seeds: '1,2', lrs: '0.1,0.01', taus: '1,2.5', iters: '60', logEvery: '20', snapEvery: '30', gvarStart: '5', numTest: '20', ...raw,
}, { progress: false });

async function run(runs: readonly RfRun[], c: RfSweepConfig): Promise<RfStudentResult[]> {
  const { sched } = await testGpu();
  const { store, bank } = await buildBank(sched, runs, c);
  try {
    return await runRfBank(bank, runs.map((r) => r.key), { ...c, trueH: c.hidden });
  } finally {
    bank.destroy();
    store.destroy();
  }
}

test('a student trained in a bank of 8 has the trajectory it has alone, bit for bit (parameters, every logged statistic)', async () => {
  const c = tiny({});
  const runs = expandRuns(c);
  assert.is(runs.length, 8);
  const together = await run(runs, c);
  for (const i of [3, 6]) {
    const [alone] = await run([runs[i]], c);
    assert.equal(Array.from(alone.theta), Array.from(together[i].theta), `${runs[i].key}: parameters`);
    assert.equal(JSON.stringify(alone.points), JSON.stringify(together[i].points), `${runs[i].key}: logged statistics`);
    assert.equal(alone.final, together[i].final);
  }
  assert.equal(together[3].points.map((p) => p.iter), [20, 40, 60]);
  assert.not.equal(Array.from(together[3].theta), Array.from(together[2].theta));
});

test('GPU features and teacher labels equal the CPU float64 data (rfDataset)', async () => {
  const { sched } = await testGpu();
  const c = tiny({ seeds: '3', lrs: '0.01', taus: '0.5', dims: '9', teachers: '13', numTest: '30' });
  const [r] = expandRuns(c);
  const { store, bank } = await buildBank(sched, [r], c);
  try {
    const cpu = rfDataset({ seed: 3, dim: 9, teacherHidden: 13, numTrain: r.N, numTest: 30, init: c.init });
    const entries = await sched.readU32(bank.data);
    const labels = [...bank.trainEntries(0), ...bank.testEntries(0)].map((e) => entries[3 * e + 1]);
    const want = [...cpu.train.y, ...cpu.test.y];
    // f32 teacher vs float64: a label may only differ where the output sits at the threshold.
    const y = store.groups[0].yraw.get(13)!;
    const bad = labels.filter((l, i) => l !== want[i] && Math.abs(y[i] - cpu.ymean) > 1e-5);
    assert.is(bad.length, 0);
    assert.ok(Math.abs(y.subarray(0, r.N).reduce((s, v) => s + v, 0) / r.N - cpu.ymean) < 1e-5);
    const phi = await sched.read(store.phi);
    const W1 = initRfNet(9, 36, c.init, studentSeed(3, 9, 36, c.init)).W1;
    const ref = rfFeaturesRef(trainRows(3, 9).rows(r.N), W1, r.N, 9, 36);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(phi[i] - ref[i]));
    assert.ok(worst < 1e-5, `features differ by ${worst}`);
  } finally {
    bank.destroy();
    store.destroy();
  }
});

test('with 90 % duplicates (5 points), GC variance is far below SG-B (Monte Carlo and exact) once clustered', async () => {
  // N = 100 = 10 distinct points; C = 10 clusters can hold each one, so a converged clustering
  // has no within-cluster spread (SPEC 10.5: "about zero"). Snapshots at 5, 35, 65: the first
  // one, from near-zero centres, may still leave a cluster empty (M = 9 < B, measured); from
  // the second one on, GC is measured at ≤ 1/100 of SG-B (~1e-3 here).
  const c = tiny({ taus: '0.36', lrs: '0.01', duplicates: '5,0.9', iters: '80' });
  const res = await run(expandRuns(c), c);
  for (const r of res) {
    const late = r.points.filter((p) => p.iter >= 40);
    assert.is(late.length, 3);
    for (const p of late) {
      assert.ok(p.gvar.GC.var < 0.05 * p.gvar['SG-B'].var, `MC at ${p.iter}: GC ${p.gvar.GC.var} vs SG-B ${p.gvar['SG-B'].var}`);
      assert.ok(p.exact!.var.GC! < 0.05 * p.exact!.var['SG-B']!, `exact at ${p.iter}: GC ${p.exact!.var.GC} vs SG-B ${p.exact!.var['SG-B']}`);
      assert.ok(p.gvar.GC.var < 0.1 * p.gvar['SG-2B'].var, 'GC below SG-2B too');
    }
  }
});

const bin = new URL('../../bin/gradvar.js', import.meta.url).pathname;
const cli = (args: string[]) => spawnSync(process.execPath, [bin, 'sweep', 'rf', ...args], { encoding: 'utf8', env: { ...process.env } });

test('gradvar sweep rf on a tiny grid writes runs.jsonl, the figures and report.html; never overwrites', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gradvar-rf-')), 'run');
  const args = ['--psi', '1,3', '--seeds', '1', '--lr', '0.01', '--hidden', '36', '--iters', '40', '--log-every', '20', '--snap-every', '20', '--num-test', '10', '--no-progress', '--out', out];
  const r = cli(args);
  assert.is(r.status, 0, r.stderr);
  for (const f of ['runs.jsonl', 'config.json', 'aggregated.json', 'variance_vs_psi.svg', 'variance_vs_psi_mean70.svg', 'nvariance_vs_psi.svg', 'report.html']) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const rows = readFileSync(join(out, 'runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.map((x) => x.N), [36, 12]);
  for (const x of rows) for (const e of ['SG-B', 'SG-2B', 'SVRG', 'GC']) assert.ok(x.reductions[e].var.max_70 > 0, e);
  const again = cli(args);
  assert.is(again.status, 1);
  assert.match(again.stderr.trim(), /^gradvar: .*runs\.jsonl exists: choose another --out/);
});

test('bad sweep flags give one line', () => {
  for (const [args, re] of [
    [['--grid', 'huge'], /^gradvar: --grid must be 'paper' or 'small'/],
    [['--duplicates', '5'], /^gradvar: --duplicates: '5' must be "num,ratio"/],
    [['--psi', 'x'], /^gradvar: --psi must be comma-separated positive numbers/],
  ] as Array<[string[], RegExp]>) {
    const r = cli(args);
    assert.is(r.status, 1, args.join(' '));
    const lines = r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning:'));
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], re);
  }
});

test.run();
