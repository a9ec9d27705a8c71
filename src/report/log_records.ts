// The variance records of a run log (runs/<name>/log.jsonl), parsed and validated from text.
// Pure and browser-safe (no node:* imports): the page parses the same log it fetches; file
// reading lives in render_node.ts.
//
// A line is a variance record when it has `gvar` or `exact`; other lines are ordinary
// training records and are only counted. Missing keys are normal (GC has no value before
// its first snapshot, `exact` exists only when the closed forms were computed), and null
// means the run produced NaN/±Infinity (JSON.stringify writes them as null). A value of
// the wrong type is a bug in the writer, so it fails with the file and line, never silently.
import { DataError } from '../data/data_error.ts';

/** The estimators, in the fixed order of every chart and table (the paper's legend order). */
export const ESTIMATORS = ['SG-B', 'SG-2B', 'SVRG', 'GC'] as const;
export type Estimator = (typeof ESTIMATORS)[number];

/** A logged number: null where the run produced a non-finite value; undefined where not logged. */
export type Logged = number | null | undefined;

/** One estimator's Monte Carlo statistics at one logged iteration (SPEC 2.5). */
export interface EstimatorStats {
  /** est_var, "Average Variance": mean over coordinates of the per-coordinate variance. */
  var?: number | null;
  /** est_nvar, "Normalized Variance": mean over coordinates of variance_j / second-moment_j. */
  nvar?: number | null;
  snr?: number | null;
  gnorm?: number | null;
}

/** Closed-form values (SPEC 11); `var` is in the same units as EstimatorStats.var. */
export interface ExactStats {
  trS?: number | null;
  G2?: number | null;
  B_simple?: number | null;
  /** mean GSNR G_j²/Var_i[g_ij] over coordinates */
  gsnr?: number | null;
  var: Partial<Record<Estimator, number | null>>;
  /** exact per-coordinate normalized variance (SG-B, SG-2B) */
  nvar?: Partial<Record<Estimator, number | null>>;
}

export interface VarianceRecord {
  /** 1-based line of the record in its log, for messages. */
  line: number;
  iter: number;
  epoch?: number | null;
  loss?: number | null;
  gvar: Partial<Record<Estimator, EstimatorStats>>;
  /** grad_bias per estimator: mean |E_est - E_sgd| over coordinates (a noise-level check). */
  bias: Partial<Record<Estimator, number | null>>;
  exact?: ExactStats;
  /** GC's total distortion of the last A-pass (gb_td). */
  gcTd?: number | null;
}

export interface ParsedLog {
  records: VarianceRecord[];
  /** Lines that are ordinary training records (no gvar/exact). */
  trainingRecords: number;
  /** True when the last line was cut off mid-record (a run still writing, or killed). */
  tornTail: boolean;
  /** Things tolerated but worth saying, e.g. an unknown estimator name (said once each). */
  warnings: string[];
}

type Obj = Record<string, unknown>;
const STATS = ['var', 'nvar', 'snr', 'gnorm'] as const;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEstimator = (k: string): k is Estimator => (ESTIMATORS as readonly string[]).includes(k);

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)})`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Reads one record's fields; every failure names the file, the line and the key path. */
class Fields {
  constructor(
    readonly file: string,
    readonly line: number,
  ) {}

  fail(problem: string): never {
    throw new DataError(this.file, `line ${this.line}: ${problem}`);
  }

  /** A number or null (non-finite in the run); undefined when absent. */
  num(o: Obj, key: string, path: string): number | null | undefined {
    const v = o[key];
    if (v === undefined || v === null) return v;
    if (typeof v !== 'number') this.fail(`${path} is ${describe(v)}; expected a number or null`);
    return v;
  }

  obj(o: Obj, key: string, path: string): Obj | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (!isObj(v)) this.fail(`${path} is ${describe(v)}; expected an object`);
    return v;
  }

  /** {estimator: number|null} maps (gvar.bias, exact.var). Unknown names go to `unknown`. */
  perEstimator(o: Obj | undefined, path: string, unknown: (name: string) => void): Partial<Record<Estimator, number | null>> {
    const out: Partial<Record<Estimator, number | null>> = {};
    for (const k of Object.keys(o ?? {})) {
      if (!isEstimator(k)) unknown(`${path}.${k}`);
      else {
        const v = this.num(o!, k, `${path}.${k}`);
        if (v !== undefined) out[k] = v;
      }
    }
    return out;
  }
}

/**
 * Validates one parsed JSON line. Returns null for a training record (no gvar/exact).
 * `unknown` receives key paths of estimator names this reader does not know.
 */
export function toVarianceRecord(raw: unknown, file: string, line: number, unknown: (path: string) => void = () => {}): VarianceRecord | null {
  const f: Fields = new Fields(file, line); // annotated so fail() (never) narrows raw
  if (!isObj(raw)) f.fail(`is ${describe(raw)}; expected a JSON object`);
  if (raw.gvar === undefined && raw.exact === undefined) return null;
  const iter = raw.iter;
  if (typeof iter !== 'number' || !Number.isInteger(iter) || iter < 0) {
    f.fail(iter === undefined ? 'a variance record has no "iter"' : `iter is ${typeof iter === 'number' ? iter : describe(iter)}; expected an integer ≥ 0`);
  }
  const rec: VarianceRecord = { line, iter, gvar: {}, bias: {} };
  const epoch = f.num(raw, 'epoch', 'epoch');
  const loss = f.num(raw, 'loss', 'loss');
  if (epoch !== undefined) rec.epoch = epoch;
  if (loss !== undefined) rec.loss = loss;

  const gvar = f.obj(raw, 'gvar', 'gvar') ?? {};
  for (const k of Object.keys(gvar)) {
    if (k === 'bias') continue;
    if (!isEstimator(k)) {
      unknown(`gvar.${k}`);
      continue;
    }
    const e = f.obj(gvar, k, `gvar.${k}`)!;
    const stats: EstimatorStats = {};
    for (const s of STATS) {
      const v = f.num(e, s, `gvar.${k}.${s}`);
      if (v !== undefined) stats[s] = v;
    }
    rec.gvar[k] = stats;
  }
  rec.bias = f.perEstimator(f.obj(gvar, 'bias', 'gvar.bias'), 'gvar.bias', unknown);

  const exact = f.obj(raw, 'exact', 'exact');
  if (exact) {
    const ex: ExactStats = { var: f.perEstimator(f.obj(exact, 'var', 'exact.var'), 'exact.var', unknown) };
    for (const k of ['trS', 'G2', 'B_simple', 'gsnr'] as const) {
      const v = f.num(exact, k, `exact.${k}`);
      if (v !== undefined) ex[k] = v;
    }
    const nvar = f.obj(exact, 'nvar', 'exact.nvar');
    if (nvar) ex.nvar = f.perEstimator(nvar, 'exact.nvar', unknown);
    rec.exact = ex;
  }
  const gc = f.obj(raw, 'gc', 'gc');
  if (gc) {
    const td = f.num(gc, 'td', 'gc.td');
    if (td !== undefined) rec.gcTd = td;
  }
  return rec;
}

/**
 * Parses a whole log. Only the last line may be torn (cut mid-write; it is dropped and
 * `tornTail` is set); an unparseable line before it is corruption and throws a DataError.
 */
export function parseVarianceLog(text: string, file = 'log.jsonl'): ParsedLog {
  const out: ParsedLog = { records: [], trainingRecords: 0, tornTail: false, warnings: [] };
  const seen = new Set<string>();
  const lines = text.split('\n');
  lines.forEach((textLine, i) => {
    if (textLine.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(textLine);
    } catch (e) {
      // A torn last line has no newline after it, so it is the last element of split().
      if (i === lines.length - 1) {
        out.tornTail = true;
        return;
      }
      throw new DataError(file, `line ${i + 1} is not valid JSON (${(e as Error).message}); only the last line may be torn`);
    }
    const rec = toVarianceRecord(raw, file, i + 1, (path) => {
      const key = path.replace(/^(gvar\.bias|exact\.var|gvar)\./, '');
      if (seen.has(key)) return;
      seen.add(key);
      out.warnings.push(`${file}: line ${i + 1}: "${key}" (${path}) is not a known estimator (${ESTIMATORS.join(', ')}); ignored`);
    });
    if (rec) out.records.push(rec);
    else out.trainingRecords++;
  });
  return out;
}

/** One chart point in long format: what the Vega-Lite specs take as data values. */
export interface SeriesPoint {
  iter: number;
  estimator: Estimator;
  value: number;
}

export type Stat = (typeof STATS)[number];

/** The finite values of one statistic, estimator by estimator in the fixed order, then by record. */
export function statSeries(records: readonly VarianceRecord[], stat: Stat, estimators: readonly Estimator[] = ESTIMATORS): SeriesPoint[] {
  const pts: SeriesPoint[] = [];
  for (const estimator of ESTIMATORS) {
    if (!estimators.includes(estimator)) continue;
    for (const r of records) {
      const v = r.gvar[estimator]?.[stat];
      if (typeof v === 'number' && Number.isFinite(v)) pts.push({ iter: r.iter, estimator, value: v });
    }
  }
  return pts;
}

/** The finite closed-form variances (exact.var), in the same long format. */
export function exactSeries(records: readonly VarianceRecord[], estimators: readonly Estimator[] = ESTIMATORS): SeriesPoint[] {
  const pts: SeriesPoint[] = [];
  for (const estimator of ESTIMATORS) {
    if (!estimators.includes(estimator)) continue;
    for (const r of records) {
      const v = r.exact?.var[estimator];
      if (typeof v === 'number' && Number.isFinite(v)) pts.push({ iter: r.iter, estimator, value: v });
    }
  }
  return pts;
}

/** An estimator's last logged values: from the last record that holds that estimator. */
export interface LastRow {
  estimator: Estimator;
  iter: number;
  var: number | null | undefined;
  nvar: number | null | undefined;
  /** var / SG-B's var in the same record (so both describe the same weights). */
  ratio: number | null;
  exact: number | null | undefined;
}

export function lastRows(records: readonly VarianceRecord[]): LastRow[] {
  const rows: LastRow[] = [];
  for (const estimator of ESTIMATORS) {
    let r: VarianceRecord | undefined;
    for (let i = records.length - 1; i >= 0 && !r; i--) if (records[i].gvar[estimator]) r = records[i];
    if (!r) continue;
    const v = r.gvar[estimator]!.var;
    const base = r.gvar['SG-B']?.var;
    const ratio = typeof v === 'number' && typeof base === 'number' && base !== 0 ? v / base : null;
    rows.push({ estimator, iter: r.iter, var: v, nvar: r.gvar[estimator]!.nvar, ratio, exact: r.exact?.var[estimator] });
  }
  return rows;
}
