// Exact gradient statistics of the MLP, per Linear layer (its weight and bias together) and in
// total, from one exactPass (SPEC 11): ||G||², tr(S), B_simple and the exact variances of
// SG-B and SG-2B. Per-example squared norms and ||G||² split over layers, so the layer values
// add up to the total (B_simple and the variances per parameter do not add: they are ratios).
// "var" is the paper's average variance: the trace tr(S)/B divided by the parameter count of
// the layer (or of the model), for B draws with replacement (sgVariance).
import type { Scheduler } from '../sched/scheduler.ts';
import type { Dataset } from '../data/dataset.ts';
import { Mlp, type MlpConfig } from '../models/mlp.ts';
import { MlpGrad } from '../run/mlp_grad.ts';
import { exactPass, type ExactPassResult } from './exact_pass.ts';
import { traceCov, sgVariance, simpleNoiseScale, coordStats } from './exact.ts';

export interface GradStatsRow {
  /** fc1, fc2, ..., or 'total' */
  name: string;
  /** D, real parameters (weight + bias) */
  params: number;
  /** ||G||², G the full-data gradient of the mean loss */
  G2: number;
  /** tr(S) = (1/N) Σ_i ||g_i − G||² */
  trS: number;
  /** tr(S) / ||G||² (McCandlish et al. 2018) */
  B_simple: number;
  /** tr(S)/(B·D) and tr(S)/(2B·D) */
  var: { 'SG-B': number; 'SG-2B': number };
  /** mean GSNR G_j²/Var_i[g_ij] over the coordinates whose gradient varies, and the exact
   *  per-coordinate normalized variance of SG-B and SG-2B (the noise-free limit of SPEC 2.5's
   *  est_nvar); present when the pass gathered per-coordinate second moments */
  gsnr?: number;
  nvar?: { 'SG-B': number; 'SG-2B': number };
}

export interface GradStats {
  /** examples N and the SG-B batch size B */
  n: number;
  batch: number;
  layers: GradStatsRow[];
  total: GradStatsRow;
}

function row(name: string, params: number, sqNorms: ArrayLike<number>, G2: number, B: number, coord?: { gsnr: number; nvar: number[] }): GradStatsRow {
  const trS = traceCov(sqNorms, G2);
  const r: GradStatsRow = {
    name, params, G2, trS, B_simple: simpleNoiseScale(trS, G2),
    var: { 'SG-B': sgVariance(trS, B) / params, 'SG-2B': sgVariance(trS, 2 * B) / params },
  };
  if (coord) Object.assign(r, { gsnr: coord.gsnr, nvar: { 'SG-B': coord.nvar[0], 'SG-2B': coord.nvar[1] } });
  return r;
}

/** coordStats over the named tensors' real coordinates (the layout's padding excluded). */
function coordOf(r: ExactPassResult, model: Mlp, names: string[], B: number): { gsnr: number; nvar: number[] } | undefined {
  if (!r.coordSq) return undefined;
  const G: number[] = [], Q: number[] = [];
  for (const name of names) {
    const e = model.layout.entry(name);
    for (let j = e.offset; j < e.offset + e.length; j++) {
      G.push(r.G[j]);
      Q.push(r.coordSq[j]);
    }
  }
  return coordStats(G, Q, [B, 2 * B]);
}

/** Per-layer and total statistics of `r` (a pass of `model`) for the SG-B batch size B. */
export function gradStats(r: ExactPassResult, model: Mlp, B: number): GradStats {
  if (!(Number.isInteger(B) && B >= 1)) throw new RangeError(`gradStats: batch size ${B} must be a positive integer`);
  const total = new Float64Array(r.n);
  let G2all = 0;
  const layers = model.layers.map((L, l) => {
    let G2 = 0;
    for (const t of ['weight', 'bias']) {
      const e = model.layout.entry(`${L.name}.${t}`);
      for (let j = e.offset; j < e.offset + e.length; j++) G2 += r.G[j] * r.G[j];
    }
    G2all += G2;
    r.layerSq[l].forEach((v, i) => (total[i] += v));
    return row(L.name, L.din * L.dout + L.dout, r.layerSq[l], G2, B, coordOf(r, model, [`${L.name}.weight`, `${L.name}.bias`], B));
  });
  const all = model.layers.flatMap((L) => [`${L.name}.weight`, `${L.name}.bias`]);
  return { n: r.n, batch: B, layers, total: row('total', model.layout.count, total, G2all, B, coordOf(r, model, all, B)) };
}

/** The statistics of the MLP `cfg` with parameters `params` (flat, in its layout) over ds. */
export async function mlpGradStats(sched: Scheduler, cfg: MlpConfig, params: Float32Array, ds: Dataset, B: number, passBatch = 1024): Promise<GradStats> {
  const model = new Mlp(sched, cfg);
  const grad = new MlpGrad(sched, model);
  try {
    sched.upload(model.params, params);
    return gradStats(await exactPass(sched, grad, ds, { passBatch, coordSq: true }), model, B);
  } finally {
    grad.destroy();
    model.destroy();
  }
}
