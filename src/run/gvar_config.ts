// `gradvar run mnist` configuration: a preset (the default fits 10 minutes on a 2-core
// machine without a GPU; `paper` is SPEC 4.2's MNIST row) plus flag overrides, validated
// in one place so every bad value gets one line naming the flag.
import { z } from 'zod';
import { UsageError } from './train_config.ts';

export interface GvarRunConfig {
  hidden: number[];
  iters: number;
  batch: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  /** variance measured every logEvery iterations (the paper's "Log T") */
  logEvery: number;
  /** n: Monte Carlo draws per loop, 2n per estimator per log (the paper's "Estim T") */
  estimDraws: number;
  /** SVRG and GC snapshots every snapEvery iterations from gvarStart (the paper's "U") */
  snapEvery: number;
  gvarStart: number;
  /** A/U rounds per GC snapshot (the paper's "GC T") */
  gcIters: number;
  gcClusters: number;
  /** N_k in the A-step. 'running' (the original code's count, our default) because the
   *  paper's 'fixed' sizes collapse: measured on MNIST and on the SPEC 10.5 toy, see
   *  test/gpu/estimators.test.ts and src/cluster/gradient_clustering.ts */
  gcMultiplier: 'fixed' | 'running';
  gcQuant: number;
  /** compute the exact statistics (SPEC 11) at every measurement */
  exact: boolean;
  /** examples for the exact statistics (0 = the whole training set) */
  exactSubset: number;
  /** train (and cluster, and sample estimators) on the first n examples only (0 = all) */
  trainSubset: number;
  evalEvery: number;
  seed: number;
  out: string;
  progress: boolean;
  /** false runs the same training without measuring (tests: the trajectory must not change) */
  measure: boolean;
}

export const PRESETS: Record<'default' | 'paper', GvarRunConfig> = {
  // Same method as the paper on a narrower MLP and a shorter run, for 2 CPU cores.
  default: {
    hidden: [256, 256], iters: 2000, batch: 128, lr: 0.02, momentum: 0.5, weightDecay: 5e-4,
    logEvery: 200, estimDraws: 10, snapEvery: 1000, gvarStart: 10, gcIters: 2, gcClusters: 128,
    gcMultiplier: 'running', gcQuant: 0, exact: true, exactSubset: 5000, trainSubset: 0, evalEvery: 500, seed: 1, out: 'runs/mnist', progress: true, measure: true,
  },
  // SPEC 4.2, MNIST MLP: T 50000, Log T 500, Estim T 50, U 2000, GC T 10, gvar_start 10, C = B = 128.
  paper: {
    hidden: [1024, 1024], iters: 50000, batch: 128, lr: 0.02, momentum: 0.5, weightDecay: 5e-4,
    logEvery: 500, estimDraws: 50, snapEvery: 2000, gvarStart: 10, gcIters: 10, gcClusters: 128,
    gcMultiplier: 'running', gcQuant: 0, exact: true, exactSubset: 0, trainSubset: 0, evalEvery: 1000, seed: 1, out: 'runs/mnist-paper', progress: true, measure: true,
  },
};

const num = () => z.coerce.number({ error: 'must be a number' });
const int = (min: number) => num().int('must be an integer').min(min, `must be ≥ ${min}`);
const overrides = z.object({
  hidden: z.string().regex(/^\d+(,\d+)*$/, 'must be comma-separated positive integers, e.g. 256,256')
    .transform((s) => s.split(',').map(Number)).refine((h) => h.every((x) => x > 0), 'widths must be > 0'),
  iters: int(1), batch: int(2).max(4096, 'must be ≤ 4096'), lr: num().positive('must be > 0'),
  logEvery: int(1), estimDraws: int(2), snapEvery: int(1), gvarStart: int(0), gcIters: int(1),
  gcClusters: int(2), gcMultiplier: z.enum(['fixed', 'running'], { error: "must be 'fixed' or 'running'" }),
  gcQuant: num().min(0, 'must be ≥ 0'), exactSubset: int(0), trainSubset: int(0), evalEvery: int(1), seed: int(0), out: z.string().min(1),
}).partial();

const FLAG: Record<string, string> = {
  logEvery: '--log-every', estimDraws: '--estim-draws', snapEvery: '--snap-every', gvarStart: '--gvar-start', gcIters: '--gc-iters',
  gcClusters: '--gc-clusters', gcMultiplier: '--gc-multiplier', gcQuant: '--gc-quant', exactSubset: '--exact-subset', trainSubset: '--train-subset', evalEvery: '--eval-every',
};

export function gvarRunConfig(preset: string, raw: Record<string, unknown>, extra: Partial<GvarRunConfig> = {}): GvarRunConfig {
  if (preset !== 'default' && preset !== 'paper') throw new UsageError(`--preset must be 'default' or 'paper' (got '${preset}')`);
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const r = overrides.safeParse(given);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = String(issue.path[0] ?? '');
    throw new UsageError(`${FLAG[key] ?? `--${key}`} ${issue.message} (got '${given[key]}')`);
  }
  const cfg = { ...PRESETS[preset], ...r.data, ...extra } as GvarRunConfig;
  if (cfg.gvarStart >= cfg.iters) throw new UsageError(`--gvar-start ${cfg.gvarStart} must be below --iters ${cfg.iters}`);
  return cfg;
}
