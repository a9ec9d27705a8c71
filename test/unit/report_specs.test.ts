// The Vega-Lite specs: they compile without errors or warnings in every mode, keep the
// fixed estimator order and colours, and stay importable from a browser bundle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TopLevelSpec } from 'vega-lite';
import type { Estimator, SeriesPoint } from '../../src/report/log_records.ts';
import { compileSpec } from '../../src/report/render_node.ts';
import {
  AUTO_SMOOTH_MIN, DATA_NAMES, ESTIMATOR_COLORS, averageVarianceSpec, exactVsMcSpec, normalizedVarianceSpec, smoothingHalfWidth,
} from '../../src/report/variance_specs.ts';

function series(n: number, estimators: Estimator[]): SeriesPoint[] {
  return estimators.flatMap((estimator, j) => Array.from({ length: n }, (_, i) => ({ iter: 100 * (i + 1), estimator, value: (1 + j) * 1e-8 * (1 + Math.sin(i)) })));
}

const json = (s: TopLevelSpec) => JSON.stringify(s);

function compilesClean(spec: TopLevelSpec) {
  const { warnings, vega } = compileSpec(spec);
  assert.equal(warnings, [], 'vega-lite warnings');
  return vega;
}

test('every spec compiles without errors or warnings (raw, smoothed, empty, exact)', () => {
  const short = series(10, ['GC', 'SG-B', 'SVRG', 'SG-2B']);
  const long = series(AUTO_SMOOTH_MIN + 5, ['SG-B', 'SG-2B', 'SVRG', 'GC']);
  for (const spec of [
    averageVarianceSpec(short),
    averageVarianceSpec(long),
    averageVarianceSpec(short, { smooth: 2, yMax: 5e-8, width: 300, height: 200, title: 't', subtitle: 's' }),
    averageVarianceSpec([]),
    normalizedVarianceSpec(short),
    normalizedVarianceSpec(long, { all: true }),
    exactVsMcSpec(short, series(10, ['SG-B', 'GC'])),
    exactVsMcSpec([], []),
  ]) {
    compilesClean(spec);
  }
});

test('compileSpec reports vega-lite warnings (so the check above is not vacuous)', () => {
  const bad = { data: { values: [] }, mark: 'bar', encoding: { shape: { field: 'a', type: 'nominal' } } } as TopLevelSpec;
  const { warnings } = compileSpec(bad);
  assert.ok(warnings.length > 0 && warnings[0].startsWith('warning:'), warnings.join('; '));
});

test('titles, axis titles and sci-notation labels are the paper\'s', () => {
  const s = json(averageVarianceSpec(series(5, ['SG-B'])));
  assert.match(s, '"title":"Training Iteration"');
  assert.match(s, '"title":"Average Variance"');
  assert.match(s, "format(datum.value, '.1e')");
  assert.match(json(normalizedVarianceSpec(series(5, ['SG-B']))), '"title":"Normalized Variance"');
  assert.match(json(averageVarianceSpec([], { yFormat: '.2e' })), "format(datum.value, '.2e')");
});

test('colour domain: the fixed order and colours, only estimators with points', () => {
  const vg = compilesClean(averageVarianceSpec(series(4, ['GC', 'SG-B', 'SG-2B'])));
  const color = vg.scales!.find((s) => s.name === 'color') as { domain: unknown; range: unknown };
  assert.equal(color.domain, ['SG-B', 'SG-2B', 'GC']);
  assert.equal(color.range, [ESTIMATOR_COLORS['SG-B'], ESTIMATOR_COLORS['SG-2B'], ESTIMATOR_COLORS.GC]);
  const all = compilesClean(averageVarianceSpec([])).scales!.find((s) => s.name === 'color') as { domain: unknown };
  assert.equal(all.domain, ['SG-B', 'SG-2B', 'SVRG', 'GC'], 'no points: the full legend');
});

test('data is inline under a stable name, so a page can stream points into it', () => {
  const vg = compilesClean(averageVarianceSpec(series(3, ['SG-B'])));
  const d = vg.data!.find((x) => x.name === DATA_NAMES.points) as { values: unknown[] };
  assert.is(d.values.length, 3);
  const ex = compilesClean(exactVsMcSpec(series(3, ['SG-B']), series(3, ['SG-B'])));
  assert.ok(ex.data!.some((x) => x.name === DATA_NAMES.exact));
});

test('normalized variance: SG-B alone by default, every estimator with all', () => {
  const pts = series(3, ['SG-B', 'SG-2B', 'GC']);
  const one = normalizedVarianceSpec(pts) as { data: { values: SeriesPoint[] }; title: { text: string } };
  assert.equal([...new Set(one.data.values.map((p) => p.estimator))], ['SG-B']);
  assert.is(one.title.text, 'Normalized variance (SG-B)');
  const all = normalizedVarianceSpec(pts, { all: true }) as { data: { values: SeriesPoint[] } };
  assert.is(all.data.values.length, 9);
});

test('smoothing: off for short runs, a centred window with a std band for long ones', () => {
  assert.is(smoothingHalfWidth(series(AUTO_SMOOTH_MIN - 1, ['SG-B'])), 0);
  const k = smoothingHalfWidth(series(AUTO_SMOOTH_MIN, ['SG-B']));
  assert.ok(k >= 2, `k=${k}`);
  assert.is(smoothingHalfWidth(series(500, ['SG-B']), false), 0);
  assert.is(smoothingHalfWidth(series(3, ['SG-B']), 4), 4);
  const raw = json(averageVarianceSpec(series(10, ['SG-B'])));
  assert.not.match(raw, '"window"');
  const smooth = averageVarianceSpec(series(10, ['SG-B']), { smooth: 3 }) as { transform: { frame?: number[] }[]; layer: { mark: { type: string } }[] };
  assert.equal(smooth.transform[0].frame, [-3, 3]);
  assert.equal(smooth.layer.map((l) => l.mark.type), ['area', 'line', 'point']);
  assert.match(json(smooth as TopLevelSpec), 'rolling mean of 7 logged points');
});

test('exact vs MC: only estimators with closed forms; dashed exact lines beside MC points', () => {
  const spec = exactVsMcSpec(series(3, ['SG-B', 'SG-2B', 'SVRG']), series(3, ['SG-2B'])) as {
    layer: { data: { values: SeriesPoint[] }; mark: { type: string; strokeDash?: number[] } }[];
  };
  assert.equal(spec.layer.map((l) => l.mark.type), ['line', 'point']);
  assert.ok(spec.layer[0].mark.strokeDash);
  for (const l of spec.layer) assert.equal([...new Set(l.data.values.map((p) => p.estimator))], ['SG-2B']);
});

// The page bundles these modules: no Node built-ins anywhere in their import graph.
test('browser-safe: the pure report modules import nothing from node:*', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/report');
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^\s*import\s+(type\s+)?[^'"]*from\s+'([^']+)'/gm)) {
      const [, typeOnly, spec] = m;
      assert.not.ok(spec.startsWith('node:') || spec === 'fs' || spec === 'path', `${file} imports ${spec}`);
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
      else assert.ok(typeOnly, `${file}: a runtime import of ${spec} would pull it into the bundle`);
    }
  };
  for (const f of ['variance_specs.ts', 'log_records.ts', 'print_table.ts', 'report_html.ts']) walk(resolve(root, f));
  assert.ok(seen.size >= 5, [...seen].join(', '));
});

test.run();
