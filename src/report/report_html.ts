// report.html as one self-contained page: the chart SVGs inline, the last-values table, the
// run's config and the paths. No scripts, fonts or styles from the network, so the file can
// be mailed or opened from a machine with no internet. Pure string building (browser-safe).
import type { LastRow } from './log_records.ts';
import { formatPlain, formatRatio, formatSci } from './print_table.ts';

export interface ReportChart {
  title: string;
  /** File name of the SVG beside report.html. */
  file: string;
  /** The SVG markup (vega's toSVG output: an <svg> element, no XML prolog). */
  svg: string;
}

export interface ReportPage {
  runName: string;
  runDir: string;
  /** Files to list with their paths, e.g. the log and config. */
  files: { label: string; path: string }[];
  charts: ReportChart[];
  rows: LastRow[];
  /** Parsed config.json, or its raw text when it is not valid JSON; undefined when absent. */
  config?: unknown;
  /** Lines worth showing above the charts (warnings, a torn log tail, no records yet). */
  notes: string[];
  /** Records counted in the log. */
  counts: { variance: number; training: number };
  generated: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
:root { color-scheme: light; --fg: #1d1d1f; --muted: #5f6368; --line: #e3e3e6; --bg: #fafafa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 28px 20px 60px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 10px; }
.sub { color: var(--muted); margin: 0 0 20px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px; margin: 14px 0; }
.card svg { display: block; max-width: 100%; height: auto; }
.card .file { color: var(--muted); font-size: 13px; margin-top: 6px; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { padding: 6px 14px; border-bottom: 1px solid var(--line); text-align: right;
  font-variant-numeric: tabular-nums; white-space: nowrap; }
th { background: #f3f3f5; font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
.swatch { display: inline-block; width: 14px; height: 3px; margin: 0 8px 4px 0; vertical-align: middle; }
pre { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; overflow-x: auto;
  font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.notes { background: #fff8e1; border: 1px solid #f0d98c; border-radius: 8px; padding: 8px 14px; }
.notes li { margin: 2px 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
`;

function tableHtml(rows: readonly LastRow[], colors: Readonly<Record<string, string>>): string {
  if (rows.length === 0) return '<p class="sub">No variance records yet.</p>';
  const withExact = rows.some((r) => r.exact !== undefined);
  const head = ['Estimator', 'Iteration', 'Average Variance', 'Normalized Variance', 'Ratio to SG-B', ...(withExact ? ['Exact Variance'] : [])];
  const body = rows.map((r) => {
    const cells = [
      `<span class="swatch" style="background:${colors[r.estimator]}"></span>${escapeHtml(r.estimator)}`,
      String(r.iter),
      formatSci(r.var),
      formatPlain(r.nvar),
      formatRatio(r.ratio),
      ...(withExact ? [formatSci(r.exact)] : []),
    ];
    return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

function configHtml(config: unknown): string {
  if (config === undefined) return '<p class="sub">No config.json in the run directory.</p>';
  const text = typeof config === 'string' ? config : JSON.stringify(config, null, 2);
  return `<pre>${escapeHtml(text)}</pre>`;
}

/** The whole page. `colors` maps estimator names to their chart colours (for the table swatches). */
export function reportHtml(page: ReportPage, colors: Readonly<Record<string, string>>): string {
  const notes = page.notes.length ? `<ul class="notes">${page.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  const charts = page.charts
    .map((c) => `<section class="card" aria-label="${escapeHtml(c.title)}">${c.svg}<div class="file">${escapeHtml(c.file)}</div></section>`)
    .join('\n');
  const files = page.files.map((f) => `<dt>${escapeHtml(f.label)}</dt><dd>${escapeHtml(f.path)}</dd>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gradvar report: ${escapeHtml(page.runName)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>Gradient variance: ${escapeHtml(page.runName)}</h1>
<p class="sub">${page.counts.variance} variance records, ${page.counts.training} training records · generated ${escapeHtml(page.generated)}</p>
${notes}
<h2>Last logged values</h2>
${tableHtml(page.rows, colors)}
<h2>Charts</h2>
${charts || '<p class="sub">No charts: the log has no variance records yet.</p>'}
<h2>Configuration</h2>
${configHtml(page.config)}
<h2>Files</h2>
<dl>${files}</dl>
</main>
</body>
</html>
`;
}
