// The run-log reader for variance records (tolerant of missing keys, strict about types,
// errors naming the line) and the terminal table built from it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataError } from '../../src/data/data_error.ts';
import { exactSeries, lastRows, parseVarianceLog, statSeries } from '../../src/report/log_records.ts';
import { formatPlain, formatSci, printVarianceTable, varianceTableLines } from '../../src/report/print_table.ts';

// Three variance records between training records; GC appears from the second, SVRG's var
// is null (non-finite) in the second, and only the last has closed-form values.
const LOG = [
  { iter: 10, epoch: 0, loss: 2.1 },
  { iter: 100, epoch: 0, loss: 1.0, gvar: { 'SG-B': { var: 4e-8, nvar: 0.9, snr: -0.3, gnorm: 1e-6 }, 'SG-2B': { var: 2e-8, nvar: 0.8 }, SVRG: { var: 1e-8, nvar: 0.5 }, bias: { 'SG-2B': 1e-5 } } },
  { iter: 110, epoch: 0, loss: 0.9 },
  { iter: 200, epoch: 0, loss: 0.5, gvar: { 'SG-B': { var: 3e-8, nvar: 0.7 }, 'SG-2B': { var: 1.5e-8, nvar: 0.6 }, SVRG: { var: null, nvar: null }, GC: { var: 1.2e-8, nvar: 0.4 } }, gc: { td: 0.12 } },
  { iter: 300, epoch: 1, loss: 0.4, gvar: { 'SG-B': { var: 2e-8, nvar: 0.6 }, 'SG-2B': { var: 1e-8, nvar: 0.5 }, GC: { var: 8e-9, nvar: 0.3 } }, exact: { trS: 1e-3, G2: 1e-4, B_simple: 10, var: { 'SG-B': 1.9e-8, GC: 7e-9 } } },
]
  .map((r) => JSON.stringify(r))
  .join('\n') + '\n';

function throwsData(fn: () => unknown, ...parts: (string | RegExp)[]) {
  try {
    fn();
  } catch (e) {
    assert.instance(e, DataError);
    for (const p of parts) assert.match((e as Error).message, p);
    return;
  }
  assert.unreachable('no error thrown');
}

test('parses variance records, counts training records, keeps null and absent apart', () => {
  const log = parseVarianceLog(LOG, 'run/log.jsonl');
  assert.is(log.records.length, 3);
  assert.is(log.trainingRecords, 2);
  assert.is(log.tornTail, false);
  assert.equal(log.warnings, []);
  const [a, b, c] = log.records;
  assert.equal([a.line, b.line, c.line], [2, 4, 5]);
  assert.is(a.gvar.GC, undefined, 'GC absent before its first snapshot');
  assert.is(b.gvar.SVRG!.var, null, 'null kept: the run produced NaN/Inf');
  assert.is(a.gvar['SG-B']!.snr, -0.3);
  assert.equal(a.bias, { 'SG-2B': 1e-5 });
  assert.is(b.gcTd, 0.12);
  assert.equal(c.exact, { trS: 1e-3, G2: 1e-4, B_simple: 10, var: { 'SG-B': 1.9e-8, GC: 7e-9 } });
});

test('statSeries: finite values only, estimators in the fixed order whatever the key order', () => {
  const { records } = parseVarianceLog(LOG);
  const pts = statSeries(records, 'var');
  assert.equal([...new Set(pts.map((p) => p.estimator))], ['SG-B', 'SG-2B', 'SVRG', 'GC']);
  assert.equal(pts.filter((p) => p.estimator === 'SVRG').map((p) => p.iter), [100], 'the null is dropped');
  assert.equal(statSeries(records, 'nvar', ['GC']).map((p) => p.value), [0.4, 0.3]);
  assert.equal(exactSeries(records), [
    { iter: 300, estimator: 'SG-B', value: 1.9e-8 },
    { iter: 300, estimator: 'GC', value: 7e-9 },
  ]);
});

test('lastRows: each estimator from its last record, ratio to SG-B of the same record', () => {
  const rows = lastRows(parseVarianceLog(LOG).records);
  assert.equal(rows.map((r) => [r.estimator, r.iter]), [['SG-B', 300], ['SG-2B', 300], ['SVRG', 200], ['GC', 300]]);
  assert.ok(Math.abs(rows[1].ratio! - 0.5) < 1e-12);
  assert.is(rows[2].var, null);
  assert.is(rows[2].ratio, null, 'no ratio from a non-finite value');
  assert.is(rows[3].exact, 7e-9);
  assert.is(rows[1].exact, undefined);
});

test('a torn last line is skipped; a bad line before it names its line', () => {
  const torn = parseVarianceLog(LOG + '{"iter": 400, "gvar": {"SG-B": {"va');
  assert.is(torn.tornTail, true);
  assert.is(torn.records.length, 3);
  throwsData(() => parseVarianceLog('{"iter": 1}\n{"iter": 2, gvar}\n{"iter": 3}\n', 'r/log.jsonl'), /^r\/log\.jsonl: line 2 is not valid JSON/);
});

test('wrong types fail with the file, the line and the key path', () => {
  const line3 = (rec: object) => LOG.split('\n').slice(0, 2).join('\n') + '\n' + JSON.stringify(rec) + '\n';
  throwsData(() => parseVarianceLog(line3({ iter: 5, gvar: { 'SG-B': { var: '1e-7' } } }), 'x.jsonl'), 'x.jsonl: line 3:', 'gvar.SG-B.var is a string ("1e-7")', 'expected a number or null');
  throwsData(() => parseVarianceLog(line3({ iter: 5, gvar: { GC: 3 } })), 'line 3', 'gvar.GC is a number; expected an object');
  throwsData(() => parseVarianceLog(line3({ iter: 5, gvar: {}, exact: { var: { 'SG-B': [1] } } })), 'line 3', 'exact.var.SG-B is an array');
  throwsData(() => parseVarianceLog(line3({ iter: 5, gvar: { bias: { GC: true } } })), 'gvar.bias.GC is a boolean');
  throwsData(() => parseVarianceLog(line3({ iter: 5, gvar: {}, gc: { td: 'x' } })), 'gc.td is a string');
  throwsData(() => parseVarianceLog(line3({ gvar: {} })), 'line 3: a variance record has no "iter"');
  throwsData(() => parseVarianceLog(line3({ iter: 2.5, gvar: {} })), 'line 3: iter is 2.5; expected an integer');
  throwsData(() => parseVarianceLog('[1, 2]\n'), 'line 1: is an array; expected a JSON object');
});

test('unknown estimator names are ignored with one warning each', () => {
  const text = [1, 2].map((i) => JSON.stringify({ iter: i, gvar: { 'SG-B': { var: 1 }, SGB: { var: 2 }, bias: { SGB: 0 } } })).join('\n');
  const log = parseVarianceLog(text, 'l.jsonl');
  assert.is(log.warnings.length, 1);
  assert.match(log.warnings[0], 'l.jsonl: line 1: "SGB" (gvar.SGB) is not a known estimator');
  assert.equal(Object.keys(log.records[0].gvar), ['SG-B']);
});

test('the terminal table lines up', () => {
  const lines = varianceTableLines(parseVarianceLog(LOG).records);
  assert.is(lines.length, 2 + 4);
  assert.ok(lines.every((l) => l.length === lines[0].length), lines.join('\n'));
  // Every column ends where the rule's dashes end (numbers are right-aligned).
  const ends = [...lines[1].matchAll(/-+/g)].map((m) => m.index! + m[0].length);
  assert.equal(ends.length, 6, 'estimator, iter, var, nvar, ratio, exact');
  for (const l of [lines[0], ...lines.slice(3)]) for (const e of ends.slice(1)) assert.ok(l[e - 1] !== ' ', `${l} | col end ${e}`);
  assert.match(lines[0], /^estimator\s+iter\s+avg variance\s+norm variance\s+var \/ SG-B\s+exact var$/);
  assert.match(lines[2], /^SG-B\s+300\s+2\.000e-8\s+0\.6000\s+1\.000\s+1\.900e-8$/);
  assert.match(lines[4], /^SVRG\s+200\s+NaN\/Inf\s+NaN\/Inf\s+-\s+-$/);
  const said: string[] = [];
  printVarianceTable([], (l) => said.push(l));
  assert.equal(said, ['gradient variance: no variance records in the log']);
});

test('formatters: sci for variances, plain digits for O(1), markers for null and absent', () => {
  assert.is(formatSci(1.23456e-7), '1.235e-7');
  assert.is(formatSci(0), '0');
  assert.is(formatSci(null), 'NaN/Inf');
  assert.is(formatSci(undefined), '-');
  assert.is(formatPlain(0.8), '0.8000');
  assert.is(formatPlain(2e-5), '2.000e-5');
});

test.run();
