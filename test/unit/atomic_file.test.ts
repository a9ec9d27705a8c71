// Atomic writes and the resumable JSONL log, including a real SIGKILL of a writing process
// followed by a resume that must leave every iteration logged exactly once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../../src/data/data_error.ts';
import {
  JsonlWriter, readJsonl, removeStaleTemps, scanJsonl, truncateJsonlAfter, writeFileAtomic, writeFileAtomicSync,
} from '../../src/io/atomic_file.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'gradvar-atomic-'));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

const iters = (path: string) => readJsonl(path).map((r) => (r as { iter: number }).iter);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

test('atomic writes (sync and async) replace the file and leave no temp files', async () => {
  const p = join(dir, 'ckpt.safetensors');
  writeFileAtomicSync(p, new Uint8Array([1, 2, 3]));
  assert.equal([...readFileSync(p)], [1, 2, 3]);
  await writeFileAtomic(p, 'second');
  assert.is(readFileSync(p, 'utf8'), 'second');
  writeFileAtomicSync(p, 'third');
  assert.equal(readdirSync(dir), ['ckpt.safetensors']);
});

test('a failed atomic write throws, leaves the target alone and removes its temp file', async () => {
  const target = join(dir, 'sub');
  mkdirSync(target); // renaming a file over a directory fails
  assert.throws(() => writeFileAtomicSync(target, 'x'));
  try {
    await writeFileAtomic(target, 'x');
    assert.unreachable('rename over a directory succeeded');
  } catch (e) {
    assert.ok((e as NodeJS.ErrnoException).code, 'a file-system error');
  }
  assert.equal(readdirSync(dir), ['sub']);
});

test('removeStaleTemps deletes only the temps of that target', () => {
  writeFileSync(join(dir, '.a.json.tmp-123-0'), 'partial');
  writeFileSync(join(dir, '.b.json.tmp-123-0'), 'other');
  writeFileSync(join(dir, 'a.json'), '{}');
  assert.is(removeStaleTemps(join(dir, 'a.json')), 1);
  assert.equal(readdirSync(dir).sort(), ['.b.json.tmp-123-0', 'a.json']);
});

test('JsonlWriter appends one line per record; reopening appends after them', () => {
  const p = join(dir, 'log.jsonl');
  const w = JsonlWriter.open(p);
  w.append({ iter: 0, loss: 2.3 });
  w.append({ iter: 1, loss: 2.1, nan: NaN });
  w.close();
  const w2 = JsonlWriter.open(p);
  w2.append({ iter: 2, loss: 1.9 });
  w2.close();
  assert.is(readFileSync(p, 'utf8'), '{"iter":0,"loss":2.3}\n{"iter":1,"loss":2.1,"nan":null}\n{"iter":2,"loss":1.9}\n');
  assert.throws(() => w2.append({ iter: 3 }), /log is closed/);
});

test('a torn last line is ignored by readers and removed on reopen', () => {
  const p = join(dir, 'log.jsonl');
  const torn = '{"iter":2,"lo';
  writeFileSync(p, '{"iter":0}\n{"iter":1}\n' + torn);
  const scan = scanJsonl(p);
  assert.equal(iters(p), [0, 1]);
  assert.is(scan.tornBytes, torn.length);
  const w = JsonlWriter.open(p);
  w.append({ iter: 2 });
  w.close();
  assert.is(readFileSync(p, 'utf8'), '{"iter":0}\n{"iter":1}\n{"iter":2}\n');
});

test('truncateJsonlAfter keeps records with iter ≤ N (and keyless ones before the cut)', () => {
  const p = join(dir, 'log.jsonl');
  writeFileSync(p, ['{"event":"start"}', ...range(0, 9).map((i) => `{"iter":${i}}`)].join('\n') + '\n{"it');
  assert.equal(truncateJsonlAfter(p, 5), { kept: 7, dropped: 4 });
  assert.is(readFileSync(p, 'utf8'), ['{"event":"start"}', ...range(0, 5).map((i) => `{"iter":${i}}`)].join('\n') + '\n');
  assert.equal(truncateJsonlAfter(p, -1), { kept: 1, dropped: 6 });
  assert.equal(truncateJsonlAfter(join(dir, 'none.jsonl'), 3), { kept: 0, dropped: 0 });
  assert.not.ok(existsSync(join(dir, 'none.jsonl')));
});

test('a complete last record without its newline is kept and terminated', () => {
  const p = join(dir, 'log.jsonl');
  writeFileSync(p, '{"iter":0}\n{"iter":1}');
  truncateJsonlAfter(p, 10);
  assert.is(readFileSync(p, 'utf8'), '{"iter":0}\n{"iter":1}\n');
});

test('a damaged line before the end is corruption, reported by line', () => {
  const p = join(dir, 'log.jsonl');
  writeFileSync(p, '{"iter":0}\n{"iter":1\n{"iter":2}\n');
  try {
    JsonlWriter.open(p);
    assert.unreachable('corrupt log accepted');
  } catch (e) {
    assert.instance(e, DataError);
    assert.match((e as Error).message, /log\.jsonl: line 2 is not valid JSON \(.*\); only the last line may be torn$/);
  }
});

// The child logs iterations as fast as it can and checkpoints every 7th (log first, then an
// atomic checkpoint holding the iteration), until it is killed with SIGKILL.
const child = (atomicPath: string) => `
import { JsonlWriter, writeFileAtomicSync } from ${JSON.stringify(atomicPath)};
const [log, ckpt] = process.argv.slice(2);
const w = JsonlWriter.open(log);
for (let iter = 0; ; iter++) {
  w.append({ iter, loss: 1 / (iter + 1), pad: 'x'.repeat(iter % 50) });
  if (iter % 7 === 6) writeFileAtomicSync(ckpt, JSON.stringify({ iter }));
}
`;

test('after SIGKILL, resuming from the checkpoint logs every iteration exactly once', async () => {
  const script = join(dir, 'child.ts');
  writeFileSync(script, child(join(root, 'src/io/atomic_file.ts')));
  const log = join(dir, 'log.jsonl');
  const ckpt = join(dir, 'ckpt.json');
  const proc = spawn(process.execPath, ['--import', 'tsx', script, log, ckpt], { cwd: root, stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
  for (let t = 0; t < 400 && !(existsSync(ckpt) && readFileSync(log).length > 20_000); t++) await new Promise((r) => setTimeout(r, 25));
  proc.kill('SIGKILL');
  assert.is(await exited, 'SIGKILL');

  const done = (JSON.parse(readFileSync(ckpt, 'utf8')) as { iter: number }).iter; // never half-written
  assert.ok(iters(log).length > done, 'the log ran ahead of the checkpoint');
  removeStaleTemps(ckpt);
  const w = JsonlWriter.open(log, { resumeAfter: done });
  for (let iter = done + 1; iter <= done + 20; iter++) w.append({ iter, resumed: true });
  w.close();
  assert.equal(iters(log), range(0, done + 20));
  assert.equal(readdirSync(dir).filter((n) => n.includes('.tmp-')), []);
});

test.run();
