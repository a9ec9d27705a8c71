// The end-of-run summary in the terminal: each estimator's last logged variances and its
// ratio to SG-B, in aligned columns. The formatters are shared with the HTML table so the
// two show the same digits. Pure (the caller decides where lines go).
import { lastRows, type LastRow, type VarianceRecord } from './log_records.ts';

/** Sci notation for variances; null means the run produced NaN/Inf; undefined: not logged. */
export function formatSci(v: number | null | undefined, digits = 3): string {
  if (v === undefined) return '-';
  if (v === null || !Number.isFinite(v)) return 'NaN/Inf';
  return v === 0 ? '0' : v.toExponential(digits);
}

/** Plain digits for O(1) quantities (normalized variance), sci notation outside [1e-3, 1e4). */
export function formatPlain(v: number | null | undefined, digits = 4): string {
  if (v === undefined) return '-';
  if (v === null || !Number.isFinite(v)) return 'NaN/Inf';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(digits - 1) : v.toPrecision(digits);
}

export function formatRatio(v: number | null): string {
  return v === null ? '-' : v.toFixed(3);
}

interface Column {
  head: string;
  cell: (r: LastRow) => string;
  left?: boolean;
}

function columns(rows: readonly LastRow[]): Column[] {
  const cols: Column[] = [
    { head: 'estimator', cell: (r) => r.estimator, left: true },
    { head: 'iter', cell: (r) => String(r.iter) },
    { head: 'avg variance', cell: (r) => formatSci(r.var) },
    { head: 'norm variance', cell: (r) => formatPlain(r.nvar) },
    { head: 'var / SG-B', cell: (r) => formatRatio(r.ratio) },
  ];
  // The closed-form column appears only when some row has it, so plain runs stay narrow.
  if (rows.some((r) => r.exact !== undefined)) cols.push({ head: 'exact var', cell: (r) => formatSci(r.exact) });
  return cols;
}

/**
 * The table as lines of equal length: a header, a rule, one line per estimator that has
 * been logged (fixed order). Empty when there are no variance records.
 */
export function varianceTableLines(records: readonly VarianceRecord[]): string[] {
  const rows = lastRows(records);
  if (rows.length === 0) return [];
  const cols = columns(rows);
  const cells = rows.map((r) => cols.map((c) => c.cell(r)));
  const widths = cols.map((c, j) => Math.max(c.head.length, ...cells.map((row) => row[j].length)));
  const line = (parts: string[]) => parts.map((p, j) => (cols[j].left ? p.padEnd(widths[j]) : p.padStart(widths[j]))).join('  ');
  return [line(cols.map((c) => c.head)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
}

/** Prints the table under a one-line heading; says so when nothing was logged. */
export function printVarianceTable(records: readonly VarianceRecord[], say: (line: string) => void = console.log): void {
  const lines = varianceTableLines(records);
  if (lines.length === 0) {
    say('gradient variance: no variance records in the log');
    return;
  }
  say('gradient variance at the last log of each estimator:');
  for (const l of lines) say('  ' + l);
}
