// The `gradvar train` command as a user runs it: killed with SIGKILL mid-run, then rerun with
// --resume, its log holds every logged iteration exactly once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../../bin/gradvar.js', import.meta.url).pathname;
const small = ['--hidden', '16', '--train-subset', '2000', '--test-subset', '500', '--log-every', '5', '--ckpt-every', '25', '--eval-every', '50', '--no-progress'];

function logIters(path: string): number[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).iter);
}

test('SIGKILL mid-run, then --resume: the log has no gap and no duplicate', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gradvar-kill-')), 'run');
  const log = join(out, 'log.jsonl');
  const args = [bin, 'train', 'mnist-mlp', '--iters', '300', '--out', out, ...small];
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  // Kill once the run is past its second checkpoint (iteration 50) and still going.
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      const n = existsSync(log) ? readFileSync(log, 'utf8').split('\n').length - 1 : 0;
      if (n >= 14) { clearInterval(poll); child.kill('SIGKILL'); resolve(); }
    }, 20);
    child.on('exit', () => { clearInterval(poll); reject(new Error('the run ended before it could be killed')); });
  });
  await new Promise((r) => child.on('exit', r));
  const before = logIters(log);
  assert.ok(before.at(-1)! < 300, `killed at ${before.at(-1)}`);
  const r = spawnSync(process.execPath, [...args, '--resume'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /resuming .* at iteration (25|50|75|100|125)/);
  const iters = logIters(log);
  assert.equal(iters, Array.from({ length: 60 }, (_, i) => 5 * (i + 1)));
  // A finished run is not overwritten by a new one in the same directory.
  const again = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.is(again.status, 1);
  assert.match(again.stderr, /exists: pass --resume to continue that run/);
});

test.run();
