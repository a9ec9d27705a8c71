// Node-only durable files for runs that may be killed at any moment:
// - writeFileAtomic: a reader (or a resumed run) sees the old file or the new one, never half;
// - JsonlWriter: an append-only log, one JSON record per line, each line handed to the kernel
//   in one write as soon as it is appended, so a SIGKILL loses at most the line being written;
// - truncateJsonlAfter: cuts the log back to the records a checkpoint covers, so a resumed
//   run appends with no duplicate and no gap.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { dataError } from '../data/data_error.ts';

let tempCounter = 0;

// The temp file sits beside the target so rename() stays within one file system (atomic).
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${tempCounter++}`);
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

// fsync of the directory makes the rename itself durable. Some platforms cannot open or
// fsync a directory (Windows); there the rename is as durable as the OS makes it.
function syncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* best effort, see above */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Removes temp files a killed writer left beside `path` (from writeFileAtomic*); returns how
 * many. Call it when resuming, while no other process writes `path`.
 */
export function removeStaleTemps(path: string): number {
  const prefix = `.${basename(path)}.tmp-`;
  const dir = dirname(path);
  let n = 0;
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!name.startsWith(prefix)) continue;
    fs.rmSync(join(dir, name), { force: true });
    n++;
  }
  return n;
}

/** Replaces `path` with `data` atomically: temp file, fsync, rename, fsync of the folder. */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  const tmp = tempPathFor(path);
  try {
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      fs.writeFileSync(fd, toBytes(data));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  syncDirSync(dirname(path));
}

/** The same as writeFileAtomicSync without blocking the event loop. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    const fh = await fsp.open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(toBytes(data));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  syncDirSync(dirname(path));
}

export interface JsonlScan {
  /** The complete records, in file order. */
  records: unknown[];
  /** Byte offset where each record's line ends (after its newline, if it has one). */
  ends: number[];
  /** True when the last record's line has no newline (complete JSON, written without it). */
  unterminated: boolean;
  /** Bytes of a torn last line (cut off mid-record by a kill) after the last record. */
  tornBytes: number;
}

/**
 * Reads a JSONL log. Only the last line may be torn (a kill cuts at most the line being
 * written); an unparseable line anywhere else is corruption and throws a DataError.
 */
export function scanJsonl(path: string): JsonlScan {
  const buf = fs.existsSync(path) ? fs.readFileSync(path) : Buffer.alloc(0);
  const scan: JsonlScan = { records: [], ends: [], unterminated: false, tornBytes: 0 };
  let start = 0;
  let line = 1;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    const end = nl < 0 ? buf.length : nl + 1;
    const text = buf.toString('utf8', start, nl < 0 ? buf.length : nl);
    if (text.trim() !== '') {
      try {
        scan.records.push(JSON.parse(text));
        scan.ends.push(end);
        scan.unterminated = nl < 0;
      } catch (e) {
        if (nl >= 0) dataError(path, `line ${line} is not valid JSON (${(e as Error).message}); only the last line may be torn`);
        scan.tornBytes = buf.length - start;
      }
    }
    start = end;
    line++;
  }
  return scan;
}

/** Reads the complete records of a JSONL log (ignoring a torn last line). */
export function readJsonl(path: string): unknown[] {
  return scanJsonl(path).records;
}

function iterOf(rec: unknown, key: string): number | undefined {
  const v = typeof rec === 'object' && rec !== null ? (rec as Record<string, unknown>)[key] : undefined;
  return typeof v === 'number' ? v : undefined;
}

/**
 * Cuts the log back to its records before the first one whose `key` (default "iter") exceeds
 * `iter`, dropping a torn last line too; a kept last line missing its newline gets one.
 * Records without the key stay when they come before the cut. A missing file is left missing.
 */
export function truncateJsonlAfter(path: string, iter: number, key = 'iter'): { kept: number; dropped: number } {
  if (!fs.existsSync(path)) return { kept: 0, dropped: 0 };
  const scan = scanJsonl(path);
  let kept = scan.records.findIndex((r) => (iterOf(r, key) ?? -Infinity) > iter);
  if (kept < 0) kept = scan.records.length;
  const keepBytes = kept === 0 ? 0 : scan.ends[kept - 1];
  const needsNewline = kept > 0 && kept === scan.records.length && scan.unterminated;
  const fd = fs.openSync(path, 'r+');
  try {
    fs.ftruncateSync(fd, keepBytes);
    if (needsNewline) fs.writeSync(fd, '\n', keepBytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { kept, dropped: scan.records.length - kept };
}

export interface JsonlOpenOptions {
  /** Resume: first cut the log to records with key ≤ resumeAfter (see truncateJsonlAfter). */
  resumeAfter?: number;
  /** Record field holding the iteration (default "iter"). */
  key?: string;
  /** fsync after every record (survives power loss, not only a killed process). Default false. */
  durable?: boolean;
  /** Start a new log, discarding any existing file. Default false (append). */
  fresh?: boolean;
}

/** Append-only JSONL log; each append reaches the kernel before append() returns. */
export class JsonlWriter {
  private constructor(
    readonly path: string,
    private fd: number,
    private readonly durable: boolean,
  ) {}

  /** Opens `path` for appending, first repairing a torn last line (and cutting, on resume). */
  static open(path: string, opts: JsonlOpenOptions = {}): JsonlWriter {
    if (opts.fresh) fs.rmSync(path, { force: true });
    else truncateJsonlAfter(path, opts.resumeAfter ?? Infinity, opts.key ?? 'iter');
    return new JsonlWriter(path, fs.openSync(path, 'a'), opts.durable ?? false);
  }

  /** Writes one record as one line (NaN and ±Infinity become null, as in JSON.stringify). */
  append(record: object): void {
    if (this.fd < 0) throw new Error(`${this.path}: log is closed`);
    const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    let off = 0;
    while (off < line.length) off += fs.writeSync(this.fd, line, off, line.length - off);
    if (this.durable) fs.fsyncSync(this.fd);
  }

  /** fsync: everything appended so far survives a power loss. */
  sync(): void {
    if (this.fd >= 0) fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}
