// Vega-Lite specs for the variance time series (SPEC 6, paper Fig. 3): average variance and
// normalized variance against training iteration, and closed-form vs Monte Carlo variance.
// Pure functions of the points, browser-safe: the Node report renders them to SVG
// (render_node.ts) and the page hands the same spec to vega-embed. Only a type is imported
// from vega-lite, so a browser bundle of this module pulls in no plotting code.
//
// The data is inline but named (DATA_NAMES), so a live page can stream new points with
// view.change(name, changeset) without rebuilding the spec.
import type { TopLevelSpec } from 'vega-lite';
import { ESTIMATORS, type Estimator, type SeriesPoint } from './log_records.ts';

/** Fixed colours (matplotlib's default cycle, as in the paper's figures): one per estimator everywhere. */
export const ESTIMATOR_COLORS: Readonly<Record<Estimator, string>> = {
  'SG-B': '#1f77b4',
  'SG-2B': '#ff7f0e',
  SVRG: '#2ca02c',
  GC: '#d62728',
};

export const DATA_NAMES = { points: 'points', exact: 'exact' } as const;

export interface ChartOptions {
  title?: string;
  subtitle?: string;
  /** Plot area in pixels (default 520 × 300). */
  width?: number;
  height?: number;
  /** Estimators in the legend (default: those with points, in the fixed order). */
  estimators?: readonly Estimator[];
  /**
   * Rolling mean over 2k+1 logged points per estimator, with a band of ± the rolling std
   * (the paper's shade). A number is k; 'auto' (default) smooths only series of at least
   * AUTO_SMOOTH_MIN points, because a window over a handful of points hides the data.
   */
  smooth?: number | 'auto' | false;
  /** d3-format specifier for y labels (default '.1e': the paper's sci notation). */
  yFormat?: string;
  /** Upper y limit, e.g. the notebook's ylim of 5e-8 for MNIST; marks above are clipped. */
  yMax?: number;
}

export const AUTO_SMOOTH_MIN = 40;

/** Half-width k of the smoothing window the options ask for on these points (0: none). */
export function smoothingHalfWidth(points: readonly SeriesPoint[], smooth: ChartOptions['smooth'] = 'auto'): number {
  if (smooth === false) return 0;
  if (typeof smooth === 'number') return Math.max(0, Math.floor(smooth));
  const counts = new Map<Estimator, number>();
  for (const p of points) counts.set(p.estimator, (counts.get(p.estimator) ?? 0) + 1);
  const n = Math.max(0, ...counts.values());
  // The paper's shade spans 2s points (s = 2..5); grow slowly with n so long runs stay readable.
  return n < AUTO_SMOOTH_MIN ? 0 : Math.min(10, Math.max(2, Math.round(n / 40)));
}

function presentEstimators(points: readonly SeriesPoint[], wanted: readonly Estimator[] | undefined): Estimator[] {
  if (wanted) return ESTIMATORS.filter((e) => wanted.includes(e));
  const present = ESTIMATORS.filter((e) => points.some((p) => p.estimator === e));
  // An empty domain makes an empty legend scale; show all four so the chart still draws.
  return present.length ? present : [...ESTIMATORS];
}

function colorEncoding(domain: readonly Estimator[]) {
  return {
    field: 'estimator',
    type: 'nominal' as const,
    scale: { domain: [...domain], range: domain.map((e) => ESTIMATOR_COLORS[e]) },
    // Opacity 1: the legend takes its symbol from the first layer, which may be the faint band.
    legend: { title: null, orient: 'right' as const, symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1 },
  };
}

function xEncoding() {
  return { field: 'iter', type: 'quantitative' as const, title: 'Training Iteration', axis: { tickCount: 6, grid: true } };
}

function yEncoding(field: string, title: string, opts: ChartOptions) {
  const fmt = opts.yFormat ?? '.1e';
  return {
    field,
    type: 'quantitative' as const,
    title,
    scale: opts.yMax !== undefined ? { domain: [0, opts.yMax] } : { zero: true },
    // "0.0e+0" reads badly at the origin; every other tick keeps the sci format.
    axis: { tickCount: 6, labelExpr: `datum.value === 0 ? '0' : format(datum.value, '${fmt}')` },
  };
}

const tooltip = (fmt: string) => [
  { field: 'estimator', type: 'nominal' as const, title: 'estimator' },
  { field: 'iter', type: 'quantitative' as const, title: 'iteration' },
  { field: 'value', type: 'quantitative' as const, title: 'value', format: fmt },
];

/** The house look of every chart (fonts, grid, title sizes; facet headers). */
export const CHART_CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: '#bbb' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 12 },
  title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555' },
  header: { labelFontSize: 12 },
};

function frame(opts: ChartOptions, title: string, note?: string) {
  const subtitle = [opts.subtitle, note].filter((s): s is string => !!s);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title ?? title, ...(subtitle.length ? { subtitle } : {}), anchor: 'start' as const },
    width: opts.width ?? 520,
    height: opts.height ?? 300,
    config: CHART_CONFIG,
  };
}

/** One time-series chart of `points` (long format), raw or smoothed (see ChartOptions.smooth). */
function seriesSpec(points: readonly SeriesPoint[], yTitle: string, title: string, opts: ChartOptions): TopLevelSpec {
  const domain = presentEstimators(points, opts.estimators);
  const shown = points.filter((p) => domain.includes(p.estimator));
  const k = smoothingHalfWidth(shown, opts.smooth);
  const fmt = opts.yFormat ?? '.1e';
  const clip = opts.yMax !== undefined;
  const base = { x: xEncoding(), color: colorEncoding(domain) };
  const rawPoints = {
    mark: { type: 'point' as const, filled: true, size: k ? 12 : 22, opacity: k ? 0.35 : 0.9, clip },
    encoding: { ...base, y: yEncoding('value', yTitle, opts), tooltip: tooltip(fmt) },
  };
  const layers: object[] = [];
  const transform: object[] = [];
  if (k === 0) {
    layers.push({ mark: { type: 'line', strokeWidth: 1.6, clip }, encoding: { ...base, y: yEncoding('value', yTitle, opts) } }, rawPoints);
  } else {
    // Centred window of 2k+1 logged points within each estimator, ordered by iteration.
    transform.push(
      {
        window: [
          { op: 'mean', field: 'value', as: 'smooth' },
          { op: 'stdev', field: 'value', as: 'sd' },
        ],
        frame: [-k, k],
        groupby: ['estimator'],
        sort: [{ field: 'iter', order: 'ascending' }],
      },
      // A one-point window has no std (null): no band there rather than a broken area.
      { calculate: 'datum.smooth - (isValid(datum.sd) ? datum.sd : 0)', as: 'lo' },
      { calculate: 'datum.smooth + (isValid(datum.sd) ? datum.sd : 0)', as: 'hi' },
    );
    layers.push(
      {
        mark: { type: 'area', opacity: 0.18, clip },
        encoding: { ...base, y: yEncoding('lo', yTitle, opts), y2: { field: 'hi' } },
      },
      { mark: { type: 'line', strokeWidth: 2, clip }, encoding: { ...base, y: yEncoding('smooth', yTitle, opts) } },
      rawPoints,
    );
  }
  const note = k ? `rolling mean of ${2 * k + 1} logged points; band: ± rolling std` : undefined;
  return {
    ...frame(opts, title, note),
    data: { name: DATA_NAMES.points, values: shown.map((p) => ({ ...p })) },
    ...(transform.length ? { transform } : {}),
    layer: layers,
  } as TopLevelSpec;
}

/** Average variance (est_var) vs training iteration, one line per estimator (paper Fig. 3a-c). */
export function averageVarianceSpec(points: readonly SeriesPoint[], opts: ChartOptions = {}): TopLevelSpec {
  return seriesSpec(points, 'Average Variance', 'Average variance of the gradient estimators', opts);
}

/**
 * Normalized variance (est_nvar) vs training iteration. SG-B alone by default, as the paper
 * plots it (Fig. 3d-f): each estimator normalizes by its own draws' second moment, so only
 * SG-B's curve has the meaning the paper gives it. `all` shows every estimator present.
 */
export function normalizedVarianceSpec(points: readonly SeriesPoint[], opts: ChartOptions & { all?: boolean } = {}): TopLevelSpec {
  const estimators = opts.estimators ?? (opts.all ? undefined : (['SG-B'] as const));
  const title = estimators?.length === 1 ? `Normalized variance (${estimators[0]})` : 'Normalized variance of the gradient estimators';
  return seriesSpec(points, 'Normalized Variance', title, { ...opts, estimators });
}

/**
 * Closed-form variance (dashed lines, SPEC 11) beside the Monte Carlo estimate (points) for
 * the estimators that have both. The MC value is measured around an independent n-draw mean,
 * so it sits near (1 + 1/n) × exact, not on it (SPEC 2.5).
 */
export function exactVsMcSpec(mc: readonly SeriesPoint[], exact: readonly SeriesPoint[], opts: ChartOptions = {}): TopLevelSpec {
  const domain = presentEstimators(exact, undefined).filter((e) => !opts.estimators || opts.estimators.includes(e));
  const fmt = opts.yFormat ?? '.1e';
  const clip = opts.yMax !== undefined;
  const base = { x: xEncoding(), color: colorEncoding(domain) };
  const y = yEncoding('value', 'Average Variance', opts);
  const keep = (pts: readonly SeriesPoint[]) => pts.filter((p) => domain.includes(p.estimator)).map((p) => ({ ...p }));
  return {
    ...frame(opts, 'Exact vs Monte Carlo variance', 'dashed: closed form · points: Monte Carlo estimate'),
    layer: [
      {
        data: { name: DATA_NAMES.exact, values: keep(exact) },
        mark: { type: 'line', strokeDash: [6, 4], strokeWidth: 1.8, clip },
        encoding: { ...base, y },
      },
      {
        data: { name: DATA_NAMES.points, values: keep(mc) },
        mark: { type: 'point', filled: true, size: 26, opacity: 0.85, clip },
        encoding: { ...base, y, tooltip: tooltip(fmt) },
      },
    ],
  } as TopLevelSpec;
}
