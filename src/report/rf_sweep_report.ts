// The RF sweep's rows, reductions, aggregates and Vega-Lite figures (SPEC 4.4, 6), as pure
// functions (browser-safe; the Node side renders them in rf_sweep_render.ts).
//   reduce70   one logged series → max_70 and mean_70: the max and the mean of its last 70 %
//              (start = ceil(0.3·n), log_plotter.py:plot_tag_multi)
//   aggregate  runs → mean and std (population, as numpy's default) over seeds × dim × teacher
//              per (duplicates, lr, ψ, estimator), for var and nvar, max_70 and mean_70
//   specs      variance vs ψ per estimator, one panel per lr, log-log (Fig. 4b/c, 8; mean_70:
//              Fig. 9); SG-B by lr (Fig. 4a); SG-B normalized variance by lr (Fig. 5)
import type { TopLevelSpec } from 'vega-lite';
import { ESTIMATORS, type Estimator } from './log_records.ts';
import { ESTIMATOR_COLORS, CHART_CONFIG } from './variance_specs.ts';
import type { RfStudentResult } from '../run/rf_bank_run.ts';

export interface RfRun {
  key: string;
  seed: number;
  dim: number;
  teacher: number;
  hidden: number;
  /** the grid's ψ (tau); N = int(hidden/ψ) */
  tau: number;
  N: number;
  lr: number;
  /** "num,ratio" or null */
  duplicates: string | null;
}

export type Reduction = 'max_70' | 'mean_70';
export type Stat = 'var' | 'nvar';
export type Reduced = Record<Reduction, number>;

export function reduce70(values: readonly number[]): Reduced {
  const start = Math.ceil(0.3 * values.length);
  const tail = values.slice(start).filter((v) => Number.isFinite(v));
  if (tail.length === 0) return { max_70: NaN, mean_70: NaN };
  return { max_70: Math.max(...tail), mean_70: tail.reduce((s, v) => s + v, 0) / tail.length };
}

export interface RfRunRow extends RfRun {
  psi: number;
  /** per estimator: reductions of est_var and est_nvar, and of the exact variance when logged */
  reductions: Record<Estimator, { var: Reduced; nvar: Reduced; exact?: Reduced }>;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  /** the logged series: iterations, per estimator var and nvar (and exact), GC's M and td */
  series: { iter: number[]; loss: number[] } & Record<Estimator, { var: number[]; nvar: number[]; exact?: number[] }> & { gc_M: number[]; gc_td: number[] };
  seconds: number;
}

/** One runs.jsonl row from a student's result. */
export function runRow(r: RfRun, res: RfStudentResult, seconds: number): RfRunRow {
  const p = res.points;
  const hasExact = p.some((x) => x.exact);
  const series = { iter: p.map((x) => x.iter), loss: p.map((x) => x.loss), gc_M: p.map((x) => x.gc.M), gc_td: p.map((x) => x.gc.td) } as RfRunRow['series'];
  const reductions = {} as RfRunRow['reductions'];
  for (const e of ESTIMATORS) {
    const v = p.map((x) => x.gvar[e].var), nv = p.map((x) => x.gvar[e].nvar);
    const ex = hasExact ? p.map((x) => x.exact?.var[e] ?? NaN) : undefined;
    series[e] = { var: v, nvar: nv, ...(ex ? { exact: ex } : {}) };
    reductions[e] = { var: reduce70(v), nvar: reduce70(nv), ...(ex ? { exact: reduce70(ex) } : {}) };
  }
  return {
    ...r, psi: r.tau, reductions,
    train_loss: res.final.trainLoss, train_acc: res.final.trainAcc, test_loss: res.final.testLoss, test_acc: res.final.testAcc,
    series, seconds,
  };
}

export interface AggPoint {
  duplicates: string | null;
  lr: number;
  psi: number;
  estimator: Estimator;
  stat: Stat | 'exact';
  reduction: Reduction;
  mean: number;
  std: number;
  /** runs averaged (seeds × dims × teachers) */
  n: number;
}

/** Mean and population std over seeds, dims and teachers (SPEC 4.4's aggregate_data). */
export function aggregate(rows: readonly RfRunRow[]): AggPoint[] {
  const groups = new Map<string, { head: Omit<AggPoint, 'mean' | 'std' | 'n'>; xs: number[] }>();
  for (const r of rows) {
    for (const estimator of ESTIMATORS) {
      const red = r.reductions[estimator];
      for (const stat of ['var', 'nvar', 'exact'] as const) {
        const got = red[stat];
        if (!got) continue;
        for (const reduction of ['max_70', 'mean_70'] as const) {
          const k = `${r.duplicates}|${r.lr}|${r.psi}|${estimator}|${stat}|${reduction}`;
          if (!groups.has(k)) groups.set(k, { head: { duplicates: r.duplicates, lr: r.lr, psi: r.psi, estimator, stat, reduction }, xs: [] });
          if (Number.isFinite(got[reduction])) groups.get(k)!.xs.push(got[reduction]);
        }
      }
    }
  }
  return [...groups.values()].filter((g) => g.xs.length > 0).map(({ head, xs }) => {
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    return { ...head, mean, std, n: xs.length };
  });
}

const fmtLr = (lr: number) => `lr ${lr}`;

function frame(title: string, subtitle: string[]) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle, anchor: 'start' as const },
    config: CHART_CONFIG,
  };
}

/** Points with their error-bar ends; the low end is kept above 0 on log axes (clipped). */
function withBars(points: readonly AggPoint[], log: boolean) {
  return points.map((p) => ({ ...p, lrLabel: fmtLr(p.lr), lo: log ? Math.max(p.mean - p.std, p.mean / 100) : p.mean - p.std, hi: p.mean + p.std }));
}

/** One panel per `facet` value: mean vs ψ (log x), a line and points per color, ± std bars. */
function psiChart(values: object[], o: { color: string; domain: readonly string[]; range: readonly string[]; yTitle: string; logY: boolean; yDomain?: [number, number]; facet: boolean }) {
  const x = { field: 'psi', type: 'quantitative' as const, title: 'ψ = student hidden / training size', scale: { type: 'log' as const }, axis: { grid: true } };
  const yScale = o.logY ? { type: 'log' as const } : o.yDomain ? { domain: o.yDomain, clamp: true } : { zero: false };
  const color = { field: o.color, type: 'nominal' as const, title: null, scale: { domain: [...o.domain], range: [...o.range] } };
  const y = { field: 'mean', type: 'quantitative' as const, title: o.yTitle, scale: yScale, axis: o.logY ? { format: '.0e' } : {} };
  const layer = [
    { mark: { type: 'line' as const, strokeWidth: 1.8, clip: true }, encoding: { x, y, color } },
    { mark: { type: 'point' as const, filled: true, size: 40, clip: true }, encoding: { x, y, color, tooltip: [{ field: 'estimator' }, { field: 'lr' }, { field: 'psi' }, { field: 'mean', format: '.3e' }, { field: 'std', format: '.2e' }, { field: 'n' }] } },
    { mark: { type: 'rule' as const, clip: true }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color } },
  ];
  const spec = { width: 300, height: 240, layer };
  return o.facet ? { data: { values }, facet: { column: { field: 'lrLabel', type: 'nominal' as const, title: null, sort: 'descending' as const } }, spec, resolve: { scale: { y: 'shared' } } } : { data: { values }, ...spec };
}

/** Fig. 4b/c (max_70), Fig. 9 (mean_70), Fig. 8 (with duplicates): est_var vs ψ per estimator, a panel per lr. */
export function variancePsiSpec(points: readonly AggPoint[], reduction: Reduction, title: string): TopLevelSpec {
  const pts = withBars(points.filter((p) => p.stat === 'var' && p.reduction === reduction), true);
  const est = ESTIMATORS.filter((e) => pts.some((p) => p.estimator === e));
  return { ...frame(title, [`${reduction} of est_var over the last 70 % of the logged points; mean ± std over seeds × dim × teacher`, 'log-log; error bars clipped at 1/100 of the mean']),
    ...psiChart(pts, { color: 'estimator', domain: est, range: est.map((e) => ESTIMATOR_COLORS[e]), yTitle: `Average Variance (${reduction})`, logY: true, facet: true }) } as TopLevelSpec;
}

const LR_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];

/** Fig. 4a (stat var, log y) and Fig. 5 (stat nvar, linear y in [0.2, 2]): SG-B by lr. */
export function sgbByLrSpec(points: readonly AggPoint[], stat: Stat, reduction: Reduction, title: string): TopLevelSpec {
  const log = stat === 'var';
  const pts = withBars(points.filter((p) => p.estimator === 'SG-B' && p.stat === stat && p.reduction === reduction), log);
  const lrs = [...new Set(pts.map((p) => p.lr))].sort((a, b) => b - a).map(fmtLr);
  return { ...frame(title, [`SG-B est_${stat}, ${reduction}; mean ± std over seeds × dim × teacher`]),
    ...psiChart(pts, { color: 'lrLabel', domain: lrs, range: LR_COLORS.slice(0, lrs.length), yTitle: stat === 'var' ? `Average Variance (${reduction})` : `Normalized Variance (${reduction})`, logY: log, yDomain: log ? undefined : [0.2, 2], facet: false }) } as TopLevelSpec;
}
