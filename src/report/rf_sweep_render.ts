// Node side of the RF sweep report: runs.jsonl → aggregated.json, the figures as SVG
// (vega headless, as render_node.ts) and one self-contained report.html.
//   variance_vs_psi.svg         est_var max_70 vs ψ per estimator, a panel per lr (Fig. 4b/c;
//                               with --duplicates, Fig. 8)
//   variance_vs_psi_mean70.svg  the same with mean_70 (Fig. 9)
//   sgb_variance_by_lr.svg      SG-B est_var by lr (Fig. 4a; with more than one lr)
//   nvariance_vs_psi.svg        SG-B est_nvar by lr, max_70 and mean_70 (Fig. 5a, 5b)
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { readJsonl, writeFileAtomicSync } from '../io/atomic_file.ts';
import { DataError } from '../data/data_error.ts';
import { renderSvg } from './render_node.ts';
import { escapeHtml } from './report_html.ts';
import { ESTIMATORS } from './log_records.ts';
import { aggregate, sgbByLrSpec, variancePsiSpec, type AggPoint, type RfRunRow } from './rf_sweep_report.ts';

export interface SweepReport { html: string; svgs: string[]; points: AggPoint[]; warnings: string[] }

function figures(points: AggPoint[], dup: string | null): Array<{ file: string; title: string; spec: TopLevelSpec }> {
  const lrs = new Set(points.map((p) => p.lr));
  const what = dup ? `with duplicates ${dup} (Fig. 8)` : '(Fig. 4b/c)';
  const out = [
    { file: 'variance_vs_psi.svg', title: `Variance vs overparametrization ${what}`, spec: variancePsiSpec(points, 'max_70', `Variance of the estimators vs ψ ${what}`) },
    { file: 'variance_vs_psi_mean70.svg', title: 'Variance vs overparametrization, mean_70 (Fig. 9)', spec: variancePsiSpec(points, 'mean_70', 'Variance of the estimators vs ψ, mean_70 (Fig. 9)') },
  ];
  if (lrs.size > 1) out.push({ file: 'sgb_variance_by_lr.svg', title: 'SG-B variance by learning rate (Fig. 4a)', spec: sgbByLrSpec(points, 'var', 'max_70', 'SG-B variance vs ψ by learning rate (Fig. 4a)') });
  const nv = (r: 'max_70' | 'mean_70') => sgbByLrSpec(points, 'nvar', r, `SG-B normalized variance, ${r} (Fig. 5${r === 'max_70' ? 'a' : 'b'})`);
  const [a, b] = [nv('max_70'), nv('mean_70')] as unknown as Array<Record<string, unknown>>;
  const strip = (s: Record<string, unknown>) => { const { $schema: _s, config: _c, ...rest } = s; return rest; };
  out.push({ file: 'nvariance_vs_psi.svg', title: 'Normalized variance vs overparametrization (Fig. 5)', spec: { $schema: a.$schema, config: a.config, hconcat: [strip(a), strip(b)] } as unknown as TopLevelSpec });
  return out;
}

/** Per lr and ψ: each estimator's mean max_70 variance and GC / SG-B. */
function tableHtml(points: AggPoint[]): string {
  const v = points.filter((p) => p.stat === 'var' && p.reduction === 'max_70');
  const keys = [...new Set(v.map((p) => `${p.lr}|${p.psi}`))].sort((x, y) => {
    const [a, b] = [x.split('|').map(Number), y.split('|').map(Number)];
    return b[0] - a[0] || a[1] - b[1];
  });
  const get = (k: string, e: string) => v.find((p) => `${p.lr}|${p.psi}` === k && p.estimator === e)?.mean;
  const body = keys.map((k) => {
    const [lr, psi] = k.split('|');
    const vals = ESTIMATORS.map((e) => get(k, e));
    const gc = get(k, 'GC'), sg = get(k, 'SG-B');
    const cells = [lr, psi, ...vals.map((x) => (x === undefined ? '–' : x.toExponential(2))), gc !== undefined && sg ? (gc / sg).toFixed(3) : '–'];
    return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  const head = ['lr', 'ψ', ...ESTIMATORS, 'GC / SG-B'];
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

const CSS = `body{margin:0;background:#fafafa;color:#1d1d1f;font:15px/1.5 system-ui,Helvetica,Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:28px 20px 60px}h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.sub{color:#5f6368}.card{background:#fff;border:1px solid #e3e3e6;border-radius:8px;padding:14px;margin:14px 0;overflow-x:auto}
table{border-collapse:collapse;background:#fff;border:1px solid #e3e3e6}th,td{padding:4px 12px;border-bottom:1px solid #e3e3e6;text-align:right;font-variant-numeric:tabular-nums}
th{background:#f3f3f5}pre{background:#fff;border:1px solid #e3e3e6;border-radius:8px;padding:12px;overflow-x:auto;font:13px/1.45 ui-monospace,monospace}`;

/** Reads dir/runs.jsonl and writes aggregated.json, the SVGs and report.html. */
export async function writeSweepReport(runDir: string): Promise<SweepReport> {
  const dir = resolve(runDir);
  const path = join(dir, 'runs.jsonl');
  if (!existsSync(path)) throw new DataError(path, 'no such file');
  const rows = readJsonl(path) as RfRunRow[];
  if (rows.length === 0) throw new DataError(path, 'no runs');
  const points = aggregate(rows);
  writeFileAtomicSync(join(dir, 'aggregated.json'), JSON.stringify(points, null, 1) + '\n');
  const warnings: string[] = [];
  const charts: string[] = [];
  const svgs: string[] = [];
  for (const f of figures(points, rows[0].duplicates)) {
    const svg = await renderSvg(f.spec, warnings);
    writeFileAtomicSync(join(dir, f.file), svg);
    svgs.push(join(dir, f.file));
    charts.push(`<section class="card"><h2>${escapeHtml(f.title)}</h2>${svg}<div class="sub">${f.file}</div></section>`);
  }
  const config = existsSync(join(dir, 'config.json')) ? readFileSync(join(dir, 'config.json'), 'utf8') : '(no config.json)';
  const secs = rows.reduce((s, r) => s + r.seconds, 0);
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>gradvar RF sweep: ${escapeHtml(basename(dir))}</title><style>${CSS}</style></head>
<body><main><h1>Random-features sweep: ${escapeHtml(basename(dir))}</h1>
<p class="sub">${rows.length} runs (one student trajectory each, SG-B, SG-2B, SVRG and GC measured on it), ${secs.toFixed(0)} s in the banks · generated ${new Date().toISOString()}</p>
<h2>Variance (est_var, max_70, mean over seeds × dim × teacher)</h2>${tableHtml(points)}
${charts.join('\n')}
<h2>Configuration</h2><pre>${escapeHtml(config)}</pre>
<h2>Files</h2><pre>${escapeHtml([path, join(dir, 'aggregated.json'), ...svgs].join('\n'))}</pre></main></body></html>
`;
  writeFileAtomicSync(join(dir, 'report.html'), html);
  return { html: join(dir, 'report.html'), svgs, points, warnings };
}
