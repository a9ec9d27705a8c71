// The Node report: a synthetic run log rendered to SVG charts and a self-contained
// report.html, plus the errors a malformed or empty log gives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../src/data/data_error.ts';
import { renderSvg, writeReport } from '../../src/report/render_node.ts';
import { averageVarianceSpec } from '../../src/report/variance_specs.ts';
import { formatSci } from '../../src/report/print_table.ts';

let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'gradvar-report-'));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Ten variance records between training records; GC from the third on; one null; optional closed forms. */
function writeLog(opts: { exact?: boolean; extra?: string } = {}) {
  const lines: string[] = [];
  for (let i = 0; i < 10; i++) {
    const iter = 100 * (i + 1);
    const v = 4e-8 * Math.exp(-i / 5) + 5e-9;
    lines.push(JSON.stringify({ iter: iter - 50, epoch: 0, loss: 1 / (i + 1) }));
    const gvar: Record<string, object> = {
      'SG-B': { var: v, nvar: 0.9 - 0.05 * i, snr: -0.3, gnorm: 1e-6 },
      'SG-2B': { var: v / 2, nvar: 0.8 - 0.05 * i },
      SVRG: { var: i === 6 ? null : v / 3, nvar: 0.5 },
    };
    if (i >= 2) gvar.GC = { var: v / 2.5, nvar: 0.6 };
    const rec: Record<string, unknown> = { iter, epoch: 0, loss: 1 / (i + 1), gvar };
    if (opts.exact) rec.exact = { trS: 1e-3, G2: 1e-4, B_simple: 10, var: { 'SG-B': v * 0.95, 'SG-2B': v * 0.475 } };
    lines.push(JSON.stringify(rec));
  }
  writeFileSync(join(dir, 'log.jsonl'), lines.join('\n') + '\n' + (opts.extra ?? ''));
}

/** Tags balance (a small well-formedness check; vega escapes text, so '<' only opens tags). */
function assertBalanced(xml: string) {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (!close) stack.push(name);
    else assert.is(stack.pop(), name, `</${name}> closes the wrong element`);
  }
  assert.equal(stack, [], 'unclosed elements');
}

test('renderSvg gives one well-formed <svg> with paths, series names and axis titles', async () => {
  const svg = await renderSvg(averageVarianceSpec([
    { iter: 1, estimator: 'SG-B', value: 2e-8 },
    { iter: 2, estimator: 'SG-B', value: 1e-8 },
  ]));
  assert.ok(svg.startsWith('<svg'), svg.slice(0, 40));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assertBalanced(svg);
  for (const s of ['<path', 'SG-B', 'Training Iteration', 'Average Variance', '2.0e-8']) assert.ok(svg.includes(s), s);
});

test('writeReport writes the charts and a self-contained report.html', async () => {
  writeLog({ exact: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ lr: 0.02, batch: 128, note: '<b>' }));
  const res = await writeReport(dir);
  assert.is(res.records, 10);
  assert.equal(res.warnings, []);
  assert.equal(res.svgs.map((p) => p.slice(dir.length + 1)), ['variance.svg', 'normalized_variance.svg', 'exact_vs_mc.svg']);
  const svgs = res.svgs.map((p) => readFileSync(p, 'utf8'));
  for (const svg of svgs) {
    assert.ok(svg.startsWith('<svg') && svg.includes('<path'));
    assertBalanced(svg);
    assert.ok(svg.includes('Training Iteration'));
  }
  for (const e of ['SG-B', 'SG-2B', 'SVRG', 'GC', 'Average Variance']) assert.ok(svgs[0].includes(e), `variance.svg has ${e}`);
  assert.ok(svgs[1].includes('Normalized Variance') && svgs[1].includes('SG-B'));
  assert.not.ok(svgs[1].includes('SG-2B'), 'normalized variance shows SG-B alone by default');
  assert.ok(svgs[2].includes('closed form') && !svgs[2].includes('SVRG'), 'exact chart: estimators with closed forms only');

  const html = readFileSync(res.html, 'utf8');
  assert.ok(html.startsWith('<!doctype html>'));
  for (const svg of svgs) assert.ok(html.includes(svg), 'each SVG inline');
  const vLast = 4e-8 * Math.exp(-9 / 5) + 5e-9; // the last record's SG-B variance (see writeLog)
  const row = (e: string, ...cells: string[]) => `${e}</td>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  assert.ok(html.includes(row('SG-B', '1000', formatSci(vLast), '0.4500', '1.000', formatSci(vLast * 0.95))), 'SG-B row');
  assert.ok(html.includes(row('SVRG', '1000', formatSci(vLast / 3), '0.5000', '0.333', '-')), 'SVRG row');
  assert.ok(html.includes(row('GC', '1000', formatSci(vLast / 2.5), '0.6000', '0.400', '-')), 'GC row');
  assert.ok(html.includes('Exact Variance'));
  assert.ok(html.includes('&quot;note&quot;: &quot;&lt;b&gt;&quot;'), 'config shown, escaped');
  assert.ok(html.includes(join(dir, 'log.jsonl')));
  assert.not.match(html, /<script|<link|src=|@import|https?:\/\/(?!www\.w3\.org)/, 'no external resources');
  assertBalanced(html.replace(/<!doctype html>|<meta[^>]*>/g, ''));
});

test('no closed forms: no exact chart; a torn tail and unknown estimators become notes', async () => {
  writeLog({ extra: JSON.stringify({ iter: 2000, gvar: { IS: { var: 1 } } }) + '\n{"iter": 2100, "gv' });
  const res = await writeReport(dir);
  assert.is(res.svgs.length, 2);
  assert.not.ok(existsSync(join(dir, 'exact_vs_mc.svg')));
  assert.is(res.warnings.length, 2, res.warnings.join('\n'));
  const html = readFileSync(res.html, 'utf8');
  assert.ok(html.includes('not a known estimator') && html.includes('last line is incomplete'));
  assert.ok(html.includes('No config.json'));
});

test('a malformed record fails with the file and line; a missing log names the file', async () => {
  writeLog({ extra: JSON.stringify({ iter: 2000, gvar: { GC: { var: 'big' } } }) + '\n' });
  try {
    await writeReport(dir);
    assert.unreachable('malformed record accepted');
  } catch (e) {
    assert.instance(e, DataError);
    assert.match((e as Error).message, `${join(dir, 'log.jsonl')}: line 21: gvar.GC.var is a string ("big")`);
  }
  assert.not.ok(existsSync(join(dir, 'report.html')));
  rmSync(join(dir, 'log.jsonl'));
  try {
    await writeReport(dir);
    assert.unreachable('missing log accepted');
  } catch (e) {
    assert.match((e as Error).message, /log\.jsonl: no such file/);
  }
});

test('a log with training records only gives a report without charts', async () => {
  writeFileSync(join(dir, 'log.jsonl'), '{"iter": 10, "loss": 2}\n{"iter": 20, "loss": 1.5}\n');
  const res = await writeReport(dir);
  assert.equal(res.svgs, []);
  const html = readFileSync(res.html, 'utf8');
  assert.ok(html.includes('0 variance records, 2 training records'));
  assert.ok(html.includes('No variance records yet.'));
});

test.run();
