// Bad flags to `gradvar train mnist-mlp` get one line naming the flag, exit code 1, no
// stack trace, and nothing written (they are rejected before data or GPU are touched).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrainConfig } from '../../src/run/train_config.ts';

const bin = new URL('../../bin/gradvar.js', import.meta.url).pathname;

test('the CLI answers bad values with one line and exit 1, writing nothing', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gradvar-flags-')), 'run');
  const r = spawnSync(process.execPath, [bin, 'train', 'mnist-mlp', '--out', out, '--lr', 'abc'], { encoding: 'utf8' });
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stderr.trim(), "gradvar: --lr must be a number (got 'abc')");
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.not.ok(existsSync(out));
  const unknown = spawnSync(process.execPath, [bin, 'train', 'mnist-mlp', '--learning-rate', '1'], { encoding: 'utf8' });
  assert.is(unknown.status, 1);
  assert.match(unknown.stderr, /unknown option '--learning-rate'/);
});

const base = {
  iters: '10', hidden: '16', lr: '0.02', momentum: '0.5', weightDecay: '5e-4', batch: '128', milestones: '', lrDecay: '0.1',
  labelSmoothing: '0', evalEvery: '10', logEvery: '10', ckptEvery: '10', out: 'x', resume: false, seed: '1', progress: false,
};
for (const [flag, key, value, msg] of [
  ['--lr', 'lr', 'abc', /^--lr must be a number \(got 'abc'\)$/],
  ['--lr', 'lr', '-1', /^--lr must be > 0/],
  ['--hidden', 'hidden', '256,x', /^--hidden must be comma-separated non-negative integers/],
  ['--hidden', 'hidden', '0', /^--hidden needs at least one positive width/],
  ['--momentum', 'momentum', '1.5', /^--momentum must be in \[0, 1\)/],
  ['--iters', 'iters', '0', /^--iters must be ≥ 1/],
  ['--iters', 'iters', '2.5', /^--iters must be an integer/],
  ['--batch', 'batch', '100000', /^--batch must be ≤ 8192/],
  ['--label-smoothing', 'labelSmoothing', '1', /^--label-smoothing must be in \[0, 1\)/],
  ['--milestones', 'milestones', '10,-3', /^--milestones must be comma-separated/],
  ['--eval-every', 'evalEvery', 'often', /^--eval-every must be a number \(got 'often'\)$/],
] as Array<[string, string, string, RegExp]>) {
  test(`${flag} ${value} is rejected with a message naming ${flag}`, () => {
    assert.throws(() => parseTrainConfig({ ...base, [key]: value }), msg);
  });
}

test('valid flags parse into typed values', () => {
  const c = parseTrainConfig({ ...base, hidden: '1024, 1024', milestones: '100,200' });
  assert.equal(c.hidden, [1024, 1024]);
  assert.equal(c.milestones, [100, 200]);
  assert.is(c.lr, 0.02);
});

test.run();
