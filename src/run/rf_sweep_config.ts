// `gradvar sweep rf` configuration: a grid (SPEC 4.4's `paper`, or `small` for a 2-core
// machine without a GPU) plus flag overrides, validated in one place so every bad value gets
// one line naming the flag.
import { z } from 'zod';
import { UsageError } from './train_config.ts';
import { parseDuplicates, RF_INITS, type Duplicates, type RfInit } from '../data/rf.ts';

export interface RfSweepConfig {
  grid: 'paper' | 'small';
  lrs: number[];
  seeds: number[];
  dims: number[];
  teachers: number[];
  /** ψ values (the grid's tau); N = int(hidden/ψ) */
  taus: number[];
  /** student hidden width H */
  hidden: number;
  iters: number;
  batch: number;
  weightDecay: number;
  logEvery: number;
  estimDraws: number;
  snapEvery: number;
  gvarStart: number;
  gcClusters: number;
  gcIters: number;
  gcQuant: number;
  numTest: number;
  init: RfInit;
  duplicates: Duplicates | null;
  exact: boolean;
  out: string;
  progress: boolean;
}

// SPEC 4.4 (grid/underparam.py:rf): momentum 0, weight decay 1e-4, 5000 iterations, batch 10,
// gvar_start 10, g_bsnap_iter 1000, gvar_log_iter 100, gvar_estim_iter 10, 10 clusters,
// gb_citers 3, student hidden 1000, test set 10000. Duplicate runs use lr 0.01 only.
const PAPER: RfSweepConfig = {
  grid: 'paper', lrs: [0.1, 0.01, 0.001], seeds: [123, 456, 789], dims: [100, 10000], teachers: [100, 10000],
  taus: [0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5, 10], hidden: 1000, iters: 5000, batch: 10, weightDecay: 1e-4,
  logEvery: 100, estimDraws: 10, snapEvery: 1000, gvarStart: 10, gcClusters: 10, gcIters: 3, gcQuant: 0,
  numTest: 10000, init: 'gaussian', duplicates: null, exact: true, out: 'runs/rf-paper', progress: true,
};

// The small grid keeps the whole recipe (H = 1000, 5000 iterations, every ψ from 0.5 up,
// the three learning rates, three seeds) and drops what the paper found not to matter (input
// dim and teacher width: "only lr and student_hidden/num_train_data affect the variance"):
// dim = teacher = 100 only, ψ = 0.1 (N = 10000) left out, test set 1000. 72 students
// (27 with --duplicates, lr 0.01 only).
const SMALL: RfSweepConfig = {
  ...PAPER, grid: 'small', dims: [100], teachers: [100], taus: [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5, 10], numTest: 1000, out: 'runs/rf-small',
};

export const RF_GRIDS = { paper: PAPER, small: SMALL } as const;

export const SMALL_GRID_HELP = 'small: lr 0.1,0.01,0.001 × seeds 123,456,789 × ψ 0.5,1,1.5,2,2.5,3,5,10 (N = 1000/ψ), dim 100, teacher 100, H 1000, 5000 iterations, test 1000';

const num = () => z.coerce.number({ error: 'must be a number' });
const int = (min: number) => num().int('must be an integer').min(min, `must be ≥ ${min}`);
const list = (what: string, ok: (x: number) => boolean) => z.string().transform((s, ctx) => {
  const xs = s.split(',').map((p) => p.trim()).filter((p) => p.length > 0).map(Number);
  if (xs.length === 0 || !xs.every(ok)) {
    ctx.addIssue({ code: 'custom', message: `must be comma-separated ${what}` });
    return z.NEVER;
  }
  return xs;
});
const posInt = (x: number) => Number.isInteger(x) && x > 0;
const overrides = z.object({
  lrs: list('positive numbers, e.g. 0.1,0.01', (x) => x > 0 && Number.isFinite(x)),
  seeds: list('non-negative integers', (x) => Number.isInteger(x) && x >= 0),
  dims: list('positive integers', posInt),
  teachers: list('positive integers', posInt),
  taus: list('positive numbers, e.g. 1,2,5', (x) => x > 0 && Number.isFinite(x)),
  hidden: int(1), iters: int(1), logEvery: int(1), estimDraws: int(2), snapEvery: int(1), gvarStart: int(0),
  gcIters: int(1), gcQuant: num().min(0, 'must be ≥ 0'), numTest: int(1), out: z.string().min(1),
  init: z.enum(RF_INITS as [RfInit, ...RfInit[]], { error: `must be ${RF_INITS.map((i) => `'${i}'`).join(' or ')}` }),
}).partial();

const FLAG: Record<string, string> = {
  lrs: '--lr', seeds: '--seeds', dims: '--dims', teachers: '--teachers', taus: '--psi', logEvery: '--log-every',
  estimDraws: '--estim-draws', snapEvery: '--snap-every', gvarStart: '--gvar-start', gcIters: '--gc-iters', gcQuant: '--gc-quant', numTest: '--num-test',
};

/** The config of `gradvar sweep rf --grid <grid>` with flag overrides (raw flag strings). */
export function rfSweepConfig(grid: string, raw: Record<string, unknown>, extra: Partial<RfSweepConfig> = {}): RfSweepConfig {
  if (grid !== 'paper' && grid !== 'small') throw new UsageError(`--grid must be 'paper' or 'small' (got '${grid}')`);
  const { duplicates, ...rest } = raw;
  const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  const r = overrides.safeParse(given);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = String(issue.path[0] ?? '');
    throw new UsageError(`${FLAG[key] ?? `--${key}`} ${issue.message} (got '${given[key]}')`);
  }
  let dup: Duplicates | null = null;
  if (duplicates !== undefined) {
    try {
      dup = parseDuplicates(String(duplicates));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const base = RF_GRIDS[grid];
  const cfg: RfSweepConfig = { ...base, ...r.data, ...extra, duplicates: dup };
  if (dup) {
    if (r.data.lrs === undefined) cfg.lrs = [0.01]; // the paper's duplicate runs (SPEC 4.4)
    if (r.data.out === undefined) cfg.out = `${base.out}-dup${dup.num}x${dup.ratio}`;
  }
  if (cfg.gvarStart >= cfg.iters) throw new UsageError(`--gvar-start ${cfg.gvarStart} must be below --iters ${cfg.iters}`);
  for (const tau of cfg.taus) {
    const N = trainSize(cfg.hidden, tau);
    if (N < cfg.batch) throw new UsageError(`--psi ${tau} gives ${N} training examples, fewer than the batch ${cfg.batch}`);
    if (dup && N - Math.floor(N * dup.ratio) < 1) throw new UsageError(`--duplicates ${dup.num},${dup.ratio} leaves no original point of ${N}`);
  }
  return cfg;
}

/** N = int(hidden/ψ), as the grid's int(1000/tau). */
export function trainSize(hidden: number, tau: number): number {
  return Math.floor(Number((hidden / tau).toPrecision(12)));
}
