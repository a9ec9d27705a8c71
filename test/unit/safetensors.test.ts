// safetensors: round trips for every dtype, the exact bytes of small files computed here from
// the format's rules, and strict rejection of damaged files with one line naming the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataError } from '../../src/data/data_error.ts';
import { decodeSafetensors, encodeSafetensors, tensor, type Tensor } from '../../src/io/safetensors.ts';

const u8 = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: ArrayLike<number>[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
const le64 = (n: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n), true); return b; };

/** A file by hand: length prefix (or `len`), header text verbatim, then data bytes. */
function raw(header: string, data: ArrayLike<number> = [], len?: number): Uint8Array {
  const h = u8(header);
  return cat(le64(len ?? h.length), h, data);
}

const samples: Tensor[] = [
  tensor(new Float32Array([1.5, -2, 3.25, Math.PI, -0, 1e-30]), [2, 3]),
  tensor(new Float64Array([Math.E, -1e300, 5e-324]), [3]),
  tensor(new Int32Array([-2147483648, 0, 2147483647, -1]), [2, 2]),
  tensor(new Uint32Array([0, 4294967295, 123456789]), [3, 1]),
  tensor(new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]), [3]),
  tensor(new BigUint64Array([0n, 2n ** 64n - 1n]), [2]),
  tensor(new Uint8Array([0, 255, 7]), [3]),
  tensor(new Int8Array([-128, 127]), [2]),
  tensor(new Uint16Array([65535, 1]), [1, 2]),
  tensor(new Int16Array([-32768, 5]), [2]),
  tensor(new Float32Array([42]), []), // a scalar
  tensor(new Float32Array(0), [0, 4]), // an empty tensor: begin = end
];

for (const t of samples) {
  test(`round trip ${t.dtype} shape [${t.shape}]`, () => {
    const out = decodeSafetensors(encodeSafetensors({ a: t }), 'rt');
    const got = out.tensors.get('a')!;
    assert.is(got.dtype, t.dtype);
    assert.equal(got.shape, t.shape);
    assert.is(got.data.constructor, t.data.constructor);
    assert.equal([...got.data], [...t.data]);
    assert.is(out.metadata, null);
  });
}

test('round trip of many tensors keeps order (integer-like names too) and metadata', () => {
  const names = ['w1', '10', 'b1', '2', 'odd'];
  const m = new Map(names.map((n, i) => [n, samples[i] as Tensor]));
  const meta = { format: 'gradvar', 'step\n"x"': 'ünïcode ✓', empty: '' };
  const out = decodeSafetensors(encodeSafetensors(m, meta), 'rt');
  assert.equal([...out.tensors.keys()], names);
  for (const n of names) assert.equal([...out.tensors.get(n)!.data], [...m.get(n)!.data]);
  assert.equal(out.metadata, meta);
});

test('decoded arrays are aligned copies even when the data offset is odd', () => {
  const file = encodeSafetensors(new Map([['c', tensor(new Uint8Array([1, 2, 3]), [3])], ['f', tensor(new Float64Array([0.1]), [1])]]));
  const out = decodeSafetensors(file);
  const f = out.tensors.get('f')!.data as Float64Array;
  assert.is(f[0], 0.1);
  assert.is(f.byteOffset, 0);
});

// ---- exact bytes, computed from the format's rules

test('bytes of a one-tensor file with metadata, from the rules', () => {
  const json = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  assert.is(json.length, 85);
  const header = json + '   '; // padded with spaces to 88, a multiple of 8
  const want = cat(
    [88, 0, 0, 0, 0, 0, 0, 0], // header length, u64 little-endian
    u8(header),
    [0x00, 0x00, 0x80, 0x3f], // 1.0f little-endian
    [0x00, 0x00, 0x00, 0xc0], // -2.0f
  );
  const got = encodeSafetensors({ w: tensor(new Float32Array([1, -2]), [2]) }, { format: 'pt' });
  assert.equal([...got], [...want]);
});
test('bytes of an empty file and of a two-dtype file, from the rules', () => {
  assert.equal([...encodeSafetensors({})], [8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]);
  const json = '{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[2,1],"data_offsets":[8,10]}}';
  const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
  const want = cat(le64(padded.length), u8(padded), [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [9, 200]);
  const got = encodeSafetensors({ i: tensor(new BigInt64Array([-2n]), [1]), b: tensor(new Uint8Array([9, 200]), [2, 1]) });
  assert.equal([...got], [...want]);
  assert.is((got.length - 10) % 8, 0, 'data starts 8-byte aligned');
});

// ---- rejection of damaged files

const F = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
const bad: [string, Uint8Array, string | RegExp][] = [
  ['shorter than the length prefix', new Uint8Array(5), 'm.st: truncated: 5 bytes, too short for the 8-byte header length'],
  ['header length over the limit', raw(F, [], 2 ** 40), /^m\.st: header length 1099511627776 exceeds the 100000000-byte limit/],
  ['header length past the end', raw(F, [], 500), `m.st: truncated: header length says 500 bytes, file has ${F.length} after the length`],
  ['header not UTF-8', cat(le64(4), [0x7b, 0xff, 0xfe, 0x7d]), 'm.st: header is not valid UTF-8'],
  ['header not starting with {', raw(' {}'), 'm.st: header does not start with \'{\' (starts with " {}")'],
  ['header not JSON', raw('{"a":'), /^m\.st: header is not valid JSON \(/],
  ['metadata not strings', raw('{"__metadata__":{"n":1}}'), "m.st: __metadata__ entry 'n' is not a string"],
  ['unknown dtype', raw('{"a":{"dtype":"Q7","shape":[],"data_offsets":[0,0]}}'), /^m\.st: tensor 'a': dtype Q7 is not supported/],
  ['unsupported dtype', raw('{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}', [0, 0]), /^m\.st: tensor 'a': dtype BF16 is not supported \(supported: U8,/],
  ['negative shape', raw('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}'), "m.st: tensor 'a': shape [-1] is not a list of non-negative integers"],
  ['fractional shape', raw('{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}', [0]), /shape \[1.5\] is not a list/],
  ['offsets reversed', raw('{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}'), "m.st: tensor 'a': data_offsets [4,0] is not [begin, end] with 0 ≤ begin ≤ end"],
  ['offsets not a pair', raw('{"a":{"dtype":"U8","shape":[0],"data_offsets":[0]}}'), /data_offsets \[0\] is not \[begin, end\]/],
  ['size ≠ shape × dtype', raw('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8)), "m.st: tensor 'a': shape [3] of F32 needs 12 bytes, data_offsets [0, 8] give 8"],
  ['gap between tensors', raw('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}}', [1, 2, 3, 4]), "m.st: tensor 'b' starts at byte 3, leaving a gap after byte 2"],
  ['overlapping tensors', raw('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}', [1, 2, 3]), "m.st: tensor 'b' [1, 3) overlaps tensor 'a' ending at byte 2"],
  ['data cut short', raw(F, [0, 0, 0, 0, 0]), 'm.st: truncated: tensors need 8 data bytes, file has 5'],
  ['trailing bytes', raw(F, new Uint8Array(9)), 'm.st: 1 unexpected trailing bytes after the last tensor (data ends at byte 8)'],
  ['header is an array', raw('[1]'), /does not start with '\{'/],
];
for (const [what, bytes, message] of bad) {
  test(`decode rejects: ${what}`, () => {
    try {
      decodeSafetensors(bytes, 'm.st');
    } catch (e) {
      assert.instance(e, DataError);
      const m = (e as Error).message;
      assert.not.match(m, /\n/, 'one line');
      if (typeof message === 'string') assert.is(m, message);
      else assert.match(m, message);
      return;
    }
    assert.unreachable('accepted a damaged file');
  });
}

test('encode refuses a dtype/array mismatch, a wrong shape and the reserved name', () => {
  assert.throws(() => encodeSafetensors({ a: { dtype: 'F64', shape: [1], data: new Float32Array(1) } }), /tensor 'a': dtype F64 but data is a Float32Array/);
  assert.throws(() => encodeSafetensors({ a: tensor(new Float32Array(5), [2, 3]) }), /shape \[2,3\] holds 6 elements, data has 5/);
  assert.throws(() => encodeSafetensors({ __metadata__: tensor(new Uint8Array(1), [1]) }), /reserved/);
  assert.throws(() => tensor(new Uint8ClampedArray(1) as unknown as Uint8Array, [1]), /Uint8ClampedArray has no safetensors dtype/);
});

test('decoding from a Node Buffer (as readFileSync returns) gives tensors of their own length', () => {
  const bytes = encodeSafetensors({ a: tensor(new Float32Array([1, 2, 3]), [3]), b: tensor(new Float32Array([4, 5]), [2]) });
  // Buffer.from copies into Node's shared pool: slice() on it would be a view of the pool.
  const f = decodeSafetensors(Buffer.from(bytes), 'pooled');
  assert.equal(Array.from(f.tensors.get('a')!.data as Float32Array), [1, 2, 3]);
  assert.equal(Array.from(f.tensors.get('b')!.data as Float32Array), [4, 5]);
});

test.run();
