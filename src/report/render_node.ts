// Node side of the report: Vega-Lite spec → SVG with vega's headless View, and
// `writeReport(runDir)`, which turns runs/<name>/log.jsonl into SVG charts and report.html.
//
// Rendering uses renderer 'none' + toSVG(): no canvas package is installed, so vega sizes
// text with its built-in estimate (0.8 em per character) instead of font metrics. That
// overestimates widths, so the legend and the y-axis title sit a little further out than in
// a browser; nothing overlaps (checked by eye on rsvg-convert and Chromium renderings).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { DataError } from '../data/data_error.ts';
import { writeFileAtomicSync } from '../io/atomic_file.ts';
import { exactSeries, lastRows, parseVarianceLog, statSeries, type ParsedLog } from './log_records.ts';
import { reportHtml, type ReportChart } from './report_html.ts';
import { averageVarianceSpec, ESTIMATOR_COLORS, exactVsMcSpec, normalizedVarianceSpec, type ChartOptions } from './variance_specs.ts';

type VlLogger = NonNullable<NonNullable<Parameters<typeof compile>[1]>['logger']>;

/** A logger that keeps warnings and errors as text instead of printing them. */
function collectingLogger(sink: string[]): VlLogger {
  const text = (args: readonly unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  let level = 2; // vega's Warn
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...a: unknown[]) {
      sink.push('error: ' + text(a));
      return logger;
    },
    warn(...a: unknown[]) {
      sink.push('warning: ' + text(a));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return logger as unknown as VlLogger;
}

export interface Compiled {
  vega: vega.Spec;
  /** vega-lite's warnings ("warning: ..."); empty for a clean spec. */
  warnings: string[];
}

/** Compiles a Vega-Lite spec, collecting warnings; compile errors throw. */
export function compileSpec(spec: TopLevelSpec): Compiled {
  const warnings: string[] = [];
  const out = compile(spec, { logger: collectingLogger(warnings) });
  const errors = warnings.filter((w) => w.startsWith('error'));
  if (errors.length) throw new Error(`vega-lite: ${errors.join('; ')}`);
  return { vega: out.spec, warnings };
}

/** Renders a Vega-Lite spec to an SVG string (an <svg> element, no XML prolog). */
export async function renderSvg(spec: TopLevelSpec, warnings: string[] = []): Promise<string> {
  const { vega: vg, warnings: w } = compileSpec(spec);
  warnings.push(...w);
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logger: collectingLogger(warnings) });
  try {
    return await view.toSVG();
  } finally {
    view.finalize(); // drops timers and listeners so the process can exit
  }
}

/** Reads and validates a run log (a missing file is a DataError naming it). */
export function readVarianceLog(path: string): ParsedLog {
  if (!existsSync(path)) throw new DataError(path, 'no such file');
  return parseVarianceLog(readFileSync(path, 'utf8'), path);
}

export interface ReportOptions {
  /** Passed to every chart: smoothing, size, y limit (see ChartOptions). */
  chart?: ChartOptions;
  /** Normalized variance of every estimator instead of SG-B alone. */
  allNvar?: boolean;
}

export interface ReportResult {
  dir: string;
  html: string;
  /** The SVG files written (absent when the log has no variance records). */
  svgs: string[];
  records: number;
  /** Log warnings (unknown estimators, a torn tail) and renderer warnings. */
  warnings: string[];
}

function readConfig(path: string): unknown {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text; // shown verbatim: a broken config should not stop the report
  }
}

/**
 * Reads runDir/log.jsonl and writes variance.svg, normalized_variance.svg, exact_vs_mc.svg
 * (only when the log holds closed-form values) and report.html into runDir. Each file is
 * replaced atomically, so a browser reloading the page never sees half of it.
 */
export async function writeReport(runDir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const dir = resolve(runDir);
  const logPath = join(dir, 'log.jsonl');
  const log = readVarianceLog(logPath);
  const warnings = [...log.warnings];
  if (log.tornTail) warnings.push(`${logPath}: the last line is incomplete (run still writing, or killed); it was skipped`);
  const runName = basename(dir);
  const chartOpts = { ...opts.chart, subtitle: opts.chart?.subtitle ?? runName };
  const specs: { title: string; file: string; spec: TopLevelSpec }[] = [];
  if (log.records.length) {
    specs.push(
      { title: 'Average variance', file: 'variance.svg', spec: averageVarianceSpec(statSeries(log.records, 'var'), chartOpts) },
      {
        title: 'Normalized variance',
        file: 'normalized_variance.svg',
        spec: normalizedVarianceSpec(statSeries(log.records, 'nvar'), { ...chartOpts, all: opts.allNvar }),
      },
    );
    const exact = exactSeries(log.records);
    if (exact.length) {
      specs.push({ title: 'Exact vs Monte Carlo', file: 'exact_vs_mc.svg', spec: exactVsMcSpec(statSeries(log.records, 'var'), exact, chartOpts) });
    }
  }
  const charts: ReportChart[] = [];
  const svgs: string[] = [];
  for (const s of specs) {
    const svg = await renderSvg(s.spec, warnings);
    const path = join(dir, s.file);
    writeFileAtomicSync(path, svg);
    charts.push({ title: s.title, file: s.file, svg });
    svgs.push(path);
  }
  const configPath = join(dir, 'config.json');
  const htmlPath = join(dir, 'report.html');
  const files = [
    { label: 'run directory', path: dir },
    { label: 'log', path: logPath },
    ...(existsSync(configPath) ? [{ label: 'config', path: configPath }] : []),
    ...svgs.map((p) => ({ label: 'chart', path: p })),
    { label: 'this report', path: htmlPath },
  ];
  const html = reportHtml(
    {
      runName,
      runDir: dir,
      files,
      charts,
      rows: lastRows(log.records),
      config: readConfig(configPath),
      notes: warnings,
      counts: { variance: log.records.length, training: log.trainingRecords },
      generated: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'),
    },
    ESTIMATOR_COLORS,
  );
  writeFileAtomicSync(htmlPath, html);
  return { dir, html: htmlPath, svgs, records: log.records.length, warnings };
}
