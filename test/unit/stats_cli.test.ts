// `gradvar stats`: every bad input (flags, a missing or damaged file, missing tensors, wrong
// shapes or dtype, non-finite weights, a model that does not fit MNIST) is one DataError or
// UsageError line, raised before the GPU is touched; the CLI prints it and exits 1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensors, tensor, type Tensor } from '../../src/io/safetensors.ts';
import { loadMlpCheckpoint, parseStatsFlags, runStats } from '../../src/cli/stats.ts';

const bin = new URL('../../bin/gradvar.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gradvar-stats-'));

/** A 784-8-10 MLP's tensors (fc1, fc2), with `edit` applied, written to a fresh file. */
function ckpt(name: string, edit: (t: Record<string, Tensor>) => void = () => {}): string {
  const t: Record<string, Tensor> = {
    'fc1.weight': tensor(new Float32Array(8 * 784).fill(0.01), [8, 784]),
    'fc1.bias': tensor(new Float32Array(8), [8]),
    'fc2.weight': tensor(new Float32Array(10 * 8).fill(-0.02), [10, 8]),
    'fc2.bias': tensor(new Float32Array(10), [10]),
  };
  edit(t);
  const file = join(dir, `${name}.safetensors`);
  writeFileSync(file, encodeSafetensors(t, { format: 'gradvar-checkpoint/1', iteration: '7' }));
  return file;
}

test('a well-formed checkpoint gives its widths, parameters and iteration', () => {
  const ck = loadMlpCheckpoint(ckpt('good'));
  assert.equal(ck.cfg, { inputDim: 784, hidden: [8], classes: 10 });
  assert.is(ck.iteration, 7);
  assert.is(ck.params[0], Math.fround(0.01));
});

const notSafetensors = join(dir, 'text.safetensors');
writeFileSync(notSafetensors, 'not a checkpoint at all, just text');
for (const [what, file, msg] of [
  ['missing file', join(dir, 'absent.safetensors'), /absent\.safetensors: not found$/],
  ['a directory', dir, /is a directory, not a checkpoint file$/],
  ['not safetensors', notSafetensors, /text\.safetensors: header length \d+ exceeds/],
  ['no MLP tensors', ckpt('none', (t) => { for (const k of Object.keys(t)) delete t[k]; t.w = tensor(new Float32Array(2), [2]); }), /no MLP weights \(tensors named fc<k>\.weight\); it holds: w$/],
  ['missing bias', ckpt('nobias', (t) => delete t['fc2.bias']), /missing tensor 'fc2\.bias'$/],
  ['broken chain', ckpt('chain', (t) => (t['fc2.weight'] = tensor(new Float32Array(70), [10, 7]))), /'fc2\.weight' has shape \[10, 7\]: its 7 inputs do not match the previous layer's 8 outputs$/],
  ['1-D weight', ckpt('flat', (t) => (t['fc1.weight'] = tensor(new Float32Array(8), [8]))), /'fc1\.weight' has shape \[8\]; a Linear weight is \[out, in\]$/],
  ['bias shape', ckpt('bshape', (t) => (t['fc1.bias'] = tensor(new Float32Array(7), [7]))), /'fc1\.bias' has shape \[7\], this model needs \[8\]$/],
  ['F64 tensor', ckpt('f64', (t) => (t['fc2.bias'] = tensor(new Float64Array(10), [10]))), /'fc2\.bias' is F64, expected F32$/],
  ['NaN weight', ckpt('nan', (t) => ((t['fc2.weight'].data as Float32Array)[3] = NaN)), /'fc2\.weight' holds a non-finite value \(NaN at element 3\)$/],
  ['Infinity bias', ckpt('inf', (t) => ((t['fc1.bias'].data as Float32Array)[5] = -Infinity)), /'fc1\.bias' holds a non-finite value \(-Infinity at element 5\)$/],
  ['layer names', ckpt('names', (t) => {
    t['fc3.weight'] = tensor(new Float32Array(10 * 8), [10, 8]);
    t['fc3.bias'] = tensor(new Float32Array(10), [10]);
    t['fc2.weight'] = tensor(new Float32Array(8 * 8), [8, 8]);
    t['fc2.bias'] = tensor(new Float32Array(8), [8]);
  }), /layers named fc1\.weight, fc2\.weight, fc3\.weight; a gradvar MLP with 2 hidden layers names them fc1\.weight, fc2\.weight, fc4\.weight$/],
] as Array<[string, string, RegExp]>) {
  test(`bad checkpoint (${what}): one DataError line naming the file`, () => {
    try {
      loadMlpCheckpoint(file);
      assert.unreachable('accepted');
    } catch (e) {
      assert.is((e as Error).name, 'DataError', (e as Error).message);
      assert.ok((e as Error).message.startsWith(file), (e as Error).message);
      assert.match((e as Error).message, msg);
      assert.not.match((e as Error).message, /\n/);
    }
  });
}

const flags = { checkpoint: 'x.safetensors', batch: '128', json: false };
for (const [raw, msg] of [
  [{ ...flags, checkpoint: undefined }, /^--checkpoint is required/],
  [{ ...flags, batch: '0' }, /^--batch must be ≥ 1 \(got '0'\)$/],
  [{ ...flags, batch: '2.5' }, /^--batch must be an integer \(got '2\.5'\)$/],
  [{ ...flags, subset: 'abc' }, /^--subset must be a number \(got 'abc'\)$/],
  [{ ...flags, subset: '0' }, /^--subset must be ≥ 1 \(got '0'\)$/],
] as Array<[Record<string, unknown>, RegExp]>) {
  test(`bad flags ${JSON.stringify(raw)}: one UsageError line naming the flag`, () => {
    assert.throws(() => parseStatsFlags(raw), (e: Error) => e.name === 'UsageError' && msg.test(e.message));
  });
}

test('a model that does not fit MNIST, or --subset past its size, fails before the GPU', async () => {
  const wide = ckpt('input100', (t) => (t['fc1.weight'] = tensor(new Float32Array(800), [8, 100])));
  const fail = (o: Record<string, unknown>) => runStats(parseStatsFlags({ ...flags, ...o })).then(() => null, (e: Error) => `${e.name}: ${e.message}`);
  assert.match(String(await fail({ checkpoint: wide })), /^DataError: .*input100\.safetensors: the model maps 100 inputs to 10 classes; MNIST needs 784 → 10$/);
  assert.is(await fail({ checkpoint: ckpt('good'), subset: '60001' }), 'UsageError: --subset 60001 exceeds the 60000 MNIST training examples');
});

test('the CLI prints one line and exits 1 for bad input (no stack trace)', () => {
  for (const [args, line] of [
    // One DataError and one UsageError (each spawn costs ~2 s; the cases above cover the rest).
    [['--checkpoint', ckpt('nan2', (t) => ((t['fc1.weight'].data as Float32Array)[0] = NaN))], `gradvar: ${join(dir, 'nan2.safetensors')}: tensor 'fc1.weight' holds a non-finite value (NaN at element 0)`],
    [['--checkpoint', ckpt('good'), '--batch', 'many'], "gradvar: --batch must be a number (got 'many')"],
  ] as Array<[string[], string]>) {
    const r = spawnSync(process.execPath, [bin, 'stats', ...args], { encoding: 'utf8' });
    assert.is(r.status, 1, r.stderr);
    assert.is(r.stderr.trim(), line);
    assert.is(r.stdout, '');
  }
});

test.run();
