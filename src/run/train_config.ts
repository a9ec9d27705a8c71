// The `gradvar train mnist-mlp` configuration: raw flag strings in, a validated, typed
// config out. Every bad value gives one line naming the flag and what it must be.
import { z } from 'zod';

export class UsageError extends Error {
  override name = 'UsageError';
}

const num = () => z.coerce.number({ error: 'must be a number' });
const int = (min: number) => num().int('must be an integer').min(min, `must be ≥ ${min}`);
const intList = (what: string) =>
  z.string().transform((s, ctx) => {
    const parts = s.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
    const nums = parts.map(Number);
    if (nums.some((n) => !Number.isInteger(n) || n < 0)) {
      ctx.addIssue({ code: 'custom', message: `must be comma-separated non-negative integers (${what}), got '${s}'` });
      return z.NEVER;
    }
    return nums;
  });

export const trainSchema = z.object({
  iters: int(1),
  hidden: intList('hidden widths, e.g. 1024,1024').refine((h) => h.length > 0 && h.every((x) => x > 0), 'needs at least one positive width'),
  lr: num().positive('must be > 0').finite(),
  momentum: num().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)'),
  weightDecay: num().min(0, 'must be ≥ 0').finite(),
  batch: int(1).max(8192, 'must be ≤ 8192'),
  milestones: intList('iterations where lr is multiplied by --lr-decay'),
  lrDecay: num().positive('must be > 0').max(1, 'must be ≤ 1'),
  labelSmoothing: num().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)'),
  evalEvery: int(1),
  logEvery: int(1),
  ckptEvery: int(1),
  out: z.string().min(1, 'must name a directory'),
  resume: z.boolean(),
  seed: int(0).max(2 ** 31 - 1, 'must be < 2^31'),
  data: z.string().optional(),
  trainSubset: int(1).optional(),
  testSubset: int(1).optional(),
  progress: z.boolean(),
});

export type TrainConfig = z.infer<typeof trainSchema>;

/** Flag names as the user types them, for messages. */
const FLAG: Record<string, string> = {
  weightDecay: '--weight-decay', lrDecay: '--lr-decay', labelSmoothing: '--label-smoothing', evalEvery: '--eval-every',
  logEvery: '--log-every', ckptEvery: '--ckpt-every', trainSubset: '--train-subset', testSubset: '--test-subset', milestones: '--milestones',
};

export function parseTrainConfig(raw: Record<string, unknown>): TrainConfig {
  const r = trainSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = String(issue.path[0] ?? '');
  const flag = FLAG[key] ?? `--${key}`;
  throw new UsageError(`${flag} ${issue.message}${raw[key] !== undefined ? ` (got '${raw[key]}')` : ''}`);
}
