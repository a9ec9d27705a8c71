// The safetensors format, bytes in and bytes out (checkpoints in Node, downloads on the page).
//
//   bytes 0..7   N, the header length, uint64 little-endian
//   N bytes      UTF-8 JSON object: {"__metadata__"?: {string: string},
//                  name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
//                padded with spaces so the data starts at a multiple of 8
//   data         the tensors' raw little-endian bytes, C order, back to back; offsets are
//                relative to the start of the data and must tile it exactly (no gap, no overlap)
// The encoder keeps the caller's tensor order, lists the header in that (data) order and writes
// compact JSON (no spaces), as the reference Rust writer does.
import { DataError, dataError } from '../data/data_error.ts';

const ARRAYS = {
  U8: Uint8Array,
  I8: Int8Array,
  U16: Uint16Array,
  I16: Int16Array,
  U32: Uint32Array,
  I32: Int32Array,
  F32: Float32Array,
  F64: Float64Array,
  I64: BigInt64Array,
  U64: BigUint64Array,
} as const;

export type Dtype = keyof typeof ARRAYS;
export type TensorData =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export interface Tensor {
  dtype: Dtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsFile {
  /** Tensors in data order. Decoded data are fresh, aligned copies. */
  tensors: Map<string, Tensor>;
  /** The "__metadata__" string map, or null when the file has none. */
  metadata: Record<string, string> | null;
}

/** Header length limit of the reference reader (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

// Typed arrays use the host's byte order; the format is little-endian. Every platform that
// runs WebGPU is little-endian, so this only guards against a silent misread elsewhere.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The dtype name for a typed array (Uint8ClampedArray and others are refused). */
export function dtypeOf(data: TensorData): Dtype {
  for (const [name, ctor] of Object.entries(ARRAYS)) if (data.constructor === ctor) return name as Dtype;
  throw new TypeError(`safetensors: ${data?.constructor?.name} has no safetensors dtype`);
}

/** A tensor from a typed array, its dtype taken from the array type. */
export function tensor(data: TensorData, shape: number[]): Tensor {
  return { dtype: dtypeOf(data), shape, data };
}

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkTensor(name: string, t: Tensor): void {
  const bad = (what: string) => { throw new TypeError(`safetensors encode: tensor '${name}': ${what}`); };
  if (name === METADATA_KEY) bad(`the name ${METADATA_KEY} is reserved`);
  if (!(t.dtype in ARRAYS)) bad(`unsupported dtype ${t.dtype}`);
  if (dtypeOf(t.data) !== t.dtype) bad(`dtype ${t.dtype} but data is a ${t.data.constructor.name}`);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`shape [${t.shape}] must hold non-negative integers`);
  if (elements(t.shape) !== t.data.length) bad(`shape [${t.shape}] holds ${elements(t.shape)} elements, data has ${t.data.length}`);
}

// JSON objects are written by hand so key order is exactly the given order: JSON.stringify
// would move integer-like names ("0", "1") to the front.
function jsonObject(entries: [string, string][]): string {
  return '{' + entries.map(([k, v]) => JSON.stringify(k) + ':' + v).join(',') + '}';
}

/** Encodes tensors (in the given order) and optional string metadata into file bytes. */
export function encodeSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string> | null,
): Uint8Array {
  if (!HOST_LITTLE_ENDIAN) throw new Error('safetensors: this host is big-endian; not supported');
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const entries: [string, string][] = [];
  if (metadata) {
    const meta = Object.entries(metadata);
    for (const [k, v] of meta) if (typeof v !== 'string') throw new TypeError(`safetensors encode: metadata '${k}' is not a string`);
    entries.push([METADATA_KEY, jsonObject(meta.map(([k, v]) => [k, JSON.stringify(v)]))]);
  }
  let offset = 0;
  for (const [name, t] of list) {
    checkTensor(name, t);
    const end = offset + t.data.byteLength;
    entries.push([name, `{"dtype":${JSON.stringify(t.dtype)},"shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`]);
    offset = end;
  }
  const json = new TextEncoder().encode(jsonObject(entries));
  const headerLen = Math.ceil(json.length / 8) * 8; // pad with spaces to 8-byte data alignment
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readHeader(bytes: Uint8Array, file: string): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) dataError(file, `truncated: ${bytes.length} bytes, too short for the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) dataError(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  const len = Number(n);
  if (len < 2) dataError(file, `header length ${len} is too small for a JSON object`);
  if (8 + len > bytes.length) dataError(file, `truncated: header length says ${len} bytes, file has ${bytes.length - 8} after the length`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + len));
  } catch {
    dataError(file, 'header is not valid UTF-8');
  }
  if (text[0] !== '{') dataError(file, `header does not start with '{' (starts with ${JSON.stringify(text.slice(0, 8))})`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    dataError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) dataError(file, 'header is not a JSON object');
  return { header, dataStart: 8 + len };
}

function readMetadata(v: unknown, file: string): Record<string, string> {
  if (!isPlainObject(v)) dataError(file, `${METADATA_KEY} is not an object of strings`);
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') dataError(file, `${METADATA_KEY} entry '${k}' is not a string`);
  }
  return { ...(v as Record<string, string>) };
}

const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function readEntry(name: string, v: unknown, file: string): Entry {
  const bad = (what: string): never => dataError(file, `tensor '${name}': ${what}`);
  if (!isPlainObject(v)) bad('entry is not an object');
  const { dtype, shape, data_offsets: off } = v as Record<string, unknown>;
  if (typeof dtype !== 'string') bad('dtype is missing');
  if (!((dtype as string) in ARRAYS)) bad(`dtype ${dtype} is not supported (supported: ${Object.keys(ARRAYS).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every(isIndex)) bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if (!Array.isArray(off) || off.length !== 2 || !off.every(isIndex) || off[0] > off[1]) {
    bad(`data_offsets ${JSON.stringify(off)} is not [begin, end] with 0 ≤ begin ≤ end`);
  }
  const e: Entry = { name, dtype: dtype as Dtype, shape: shape as number[], begin: (off as number[])[0], end: (off as number[])[1] };
  const want = elements(e.shape) * ARRAYS[e.dtype].BYTES_PER_ELEMENT;
  if (!Number.isSafeInteger(want)) bad(`shape [${e.shape}] is too large`);
  if (e.end - e.begin !== want) {
    bad(`shape [${e.shape}] of ${e.dtype} needs ${want} bytes, data_offsets [${e.begin}, ${e.end}] give ${e.end - e.begin}`);
  }
  return e;
}

// Offsets must tile [0, data length) in order: sorted by begin, each starts where the last ended.
function checkTiling(entries: Entry[], dataLen: number, file: string): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev = '';
  for (const e of entries) {
    if (e.begin > at) dataError(file, `tensor '${e.name}' starts at byte ${e.begin}, leaving a gap after byte ${at}`);
    if (e.begin < at) dataError(file, `tensor '${e.name}' [${e.begin}, ${e.end}) overlaps tensor '${prev}' ending at byte ${at}`);
    at = e.end;
    prev = e.name;
  }
  if (at > dataLen) dataError(file, `truncated: tensors need ${at} data bytes, file has ${dataLen}`);
  if (at < dataLen) dataError(file, `${dataLen - at} unexpected trailing bytes after the last tensor (data ends at byte ${at})`);
}

/** Decodes and strictly validates safetensors bytes; `file` names the source in errors. */
export function decodeSafetensors(bytes: Uint8Array, file = 'safetensors'): SafetensorsFile {
  if (!HOST_LITTLE_ENDIAN) throw new DataError(file, 'this host is big-endian; not supported');
  const { header, dataStart } = readHeader(bytes, file);
  let metadata: Record<string, string> | null = null;
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = readMetadata(v, file);
    else entries.push(readEntry(name, v, file));
  }
  checkTiling(entries, bytes.length - dataStart, file);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    // Copy into a fresh buffer, so every typed array is aligned whatever the offset. Not
    // bytes.slice(): on a Node Buffer (readFileSync) slice() is a view of a shared pool.
    const raw = new Uint8Array(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: new ARRAYS[e.dtype](raw.buffer) });
  }
  return { tensors, metadata };
}
