// IDX files (the format MNIST ships in), parsed from bytes so Node and the browser share it.
//
// Layout, all integers big-endian:
//   bytes 0..1   0x00 0x00
//   byte  2      element type (0x08 = unsigned byte; MNIST uses only this)
//   byte  3      number of dimensions D
//   4·D bytes    the D dimension sizes, uint32 each (dims[0] is the item count)
//   payload      prod(dims) elements, row-major, and nothing after it
// So the magic number read as one uint32 is 0x0000_08_03 for images (N×rows×cols) and
// 0x0000_08_01 for labels (N). Files may also arrive gzip-compressed (magic 1f 8b).
import { dataError } from './data_error.ts';

export const IDX_UBYTE = 0x08;

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** A parsed unsigned-byte IDX array. `data` is a view into the input bytes (no copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** What the caller expects: dimension count and a word for one item ("images", "labels"). */
export interface IdxExpect {
  dims: number;
  items: string;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function hex8(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}

/** Parses an unsigned-byte IDX file and checks its header against `expect` and its length. */
export function parseIdx(bytes: Uint8Array, file: string, expect: IdxExpect): IdxArray {
  if (isGzip(bytes)) dataError(file, 'is gzip-compressed: decompress it first (gunzipIfNeeded)');
  const wantMagic = (IDX_UBYTE << 8) | expect.dims;
  if (bytes.length < 4) dataError(file, `truncated: ${bytes.length} bytes, too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== wantMagic) {
    const type = bytes[2];
    const got = bytes[0] !== 0 || bytes[1] !== 0 || !(type in TYPE_NAMES)
      ? 'not an IDX file'
      : `IDX ${TYPE_NAMES[type]} with ${bytes[3]} dimension(s)`;
    dataError(file, `wrong magic number ${hex8(magic)} (${got}); expected ${hex8(wantMagic)} ` +
      `(IDX unsigned byte with ${expect.dims} dimension(s), an ${expect.items} file)`);
  }
  const headerLen = 4 + 4 * expect.dims;
  if (bytes.length < headerLen) {
    dataError(file, `truncated: header needs ${headerLen} bytes for ${expect.dims} dimension(s), file has ${bytes.length}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < expect.dims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  // Sizes are < 2^32 each; the product stays exact in a double for any file that fits in memory,
  // and one that does not is reported as truncated below.
  const payload = dims.reduce((a, b) => a * b, 1);
  const want = headerLen + payload;
  if (bytes.length !== want) {
    const shape = dims.length > 1 ? ` of ${dims.slice(1).join('×')}` : '';
    const says = `header says ${dims[0]} ${expect.items}${shape} = ${want} bytes`;
    if (bytes.length < want) dataError(file, `truncated: ${says}, file has ${bytes.length}`);
    dataError(file, `${bytes.length - want} unexpected trailing bytes: ${says}, file has ${bytes.length}`);
  }
  return { dims, data: bytes.subarray(headerLen) };
}

/**
 * Decompresses gzip bytes with the platform's DecompressionStream (browsers, Node ≥ 18), so
 * this module needs no zlib. Bytes that are not gzip are returned unchanged.
 */
export async function gunzipIfNeeded(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  if (typeof DecompressionStream === 'undefined') {
    dataError(file, 'is gzip-compressed and this platform has no DecompressionStream; decompress it first');
  }
  try {
    // The copy gives Blob a plain ArrayBuffer-backed view (compressed files are small).
    const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    dataError(file, `corrupt gzip data (${(e as Error).message})`);
  }
}
