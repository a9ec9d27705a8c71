// Shared pieces of the matmul benchmarks: the shapes, flag parsing, timing statistics,
// and running one of our matmul kernels many times per submission.
import { loadavg } from 'node:os';
import { Scheduler } from '../../src/sched/scheduler.ts';
import type { View } from '../../src/kernels/kernel.ts';
import { matmulKernel, matmulStrides, type MatmulConfig } from '../../src/kernels/matmul.ts';
import { Rng } from '../../src/util/rng.ts';

export interface Shape {
  name: string;
  M: number; N: number; K: number;
  transA?: boolean; transB?: boolean;
}

/** Square NN products, and the paper MLP's (784-1024-1024-10) products at batch B = 128. */
export const SHAPES: Shape[] = [
  { name: '256² NN', M: 256, N: 256, K: 256 },
  { name: '512² NN', M: 512, N: 512, K: 512 },
  { name: '1024² NN', M: 1024, N: 1024, K: 1024 },
  { name: 'fwd 128×784→1024 NT', M: 128, N: 1024, K: 784, transB: true },
  { name: 'fwd 128×1024→1024 NT', M: 128, N: 1024, K: 1024, transB: true },
  { name: 'dX=dY·W 1024→1024 NN', M: 128, N: 1024, K: 1024 },
  { name: 'dW=dYᵀ·X 784→1024 TN', M: 1024, N: 784, K: 128, transA: true },
  { name: 'dW=dYᵀ·X 1024→1024 TN', M: 1024, N: 1024, K: 128, transA: true },
];

export const layoutOf = (s: { transA?: boolean; transB?: boolean }): string => `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`;
export const flops = (s: Shape): number => 2 * s.M * s.N * s.K;

/** `--name value` flags; `--name` alone is 'true'. */
export function flags(argv = process.argv.slice(2)): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = argv[i].match(/^--([\w-]+)(?:=(.*))?$/);
    if (!m) throw new Error(`unexpected argument '${argv[i]}'`);
    if (m[2] !== undefined) out[m[1]] = m[2];
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[m[1]] = argv[++i];
    else out[m[1]] = 'true';
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One line about the machine's state: the numbers here move with other people's load. */
export function loadLine(): string {
  return `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, ${new Date().toISOString()}`;
}

/** Queues n repetitions of one operation and resolves when they have run. */
export type Runner = (n: number) => Promise<void>;

/**
 * Times several runners against each other. Each is warmed up and given a batch size n so
 * one timed repetition lasts about `targetMs`; then the repetitions are interleaved (runner
 * 1, 2, ..., 1, 2, ...) so a burst of load from other processes hits all of them alike.
 * Returns, per runner, the milliseconds per single operation of each repetition.
 */
export async function timeInterleaved(runners: Runner[], reps: number, targetMs = 250): Promise<number[][]> {
  const batch: number[] = [];
  for (const run of runners) {
    let t0 = performance.now();
    await run(1); // compiles the pipeline, first touch of the buffers
    let one = performance.now() - t0;
    t0 = performance.now();
    await run(1);
    one = Math.min(one, performance.now() - t0);
    const n = Math.max(1, Math.min(64, Math.round(targetMs / Math.max(one, 0.01))));
    await run(n); // warm-up at the timed batch size
    batch.push(n);
  }
  const out: number[][] = runners.map(() => []);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < runners.length; i++) {
      const t0 = performance.now();
      await runners[i](batch[i]);
      out[i].push((performance.now() - t0) / batch[i]);
    }
  }
  return out;
}

/** Seeded operands for a shape, uploaded once; C is written by every repetition. */
export interface Operands { A: View; B: View; C: View; a: Float32Array; b: Float32Array }
export function operands(sched: Scheduler, s: Shape, seed = 1): Operands {
  const rng = new Rng(seed);
  const a = rng.uniformArray(s.M * s.K), b = rng.uniformArray(s.K * s.N);
  const A = sched.alloc(a.length, 'bench-A'), B = sched.alloc(b.length, 'bench-B'), C = sched.alloc(s.M * s.N, 'bench-C');
  sched.upload(A, a);
  sched.upload(B, b);
  return { A, B, C, a, b };
}

export function freeOperands(sched: Scheduler, o: Operands): void {
  for (const v of [o.A, o.B, o.C]) sched.free(v);
}

/**
 * Waits for a submission without the busy-poll: while onSubmittedWorkDone/mapAsync is pending,
 * Dawn-node spins a core, which on a 2-core CPU adapter steals half the machine from the
 * driver's threads. So sleep through most of the expected time first. `expectMs` is learned
 * per runner (the scheduler's readback estimate is one average over everything it has read,
 * which a benchmark of very different sizes would skew). On OpenGL the submit itself does the
 * work, so when the submit took most of the expected time there is nothing left to sleep.
 */
export class PoliteWait {
  private recent: number[] = [];
  private calls = 0;
  async after(submitStart: number, submitEnd: number, done: () => Promise<unknown>, units = 1): Promise<void> {
    // The first two waits never sleep: the first includes pipeline compilation, the second
    // gives a clean time; later sleeps are sized by the smallest recent time, so an
    // overestimate shrinks by 15% per call and an underestimate is corrected at once.
    const expect = this.calls++ >= 2 ? Math.min(...this.recent) * units : 0;
    const spent = submitEnd - submitStart;
    if (expect > 4 && spent < 0.5 * expect) await sleep(0.85 * expect - spent);
    await done();
    this.recent = [...this.recent.slice(-2), (performance.now() - submitStart) / units];
  }
}

/** A runner for timeInterleaved: records n dispatches of one of our kernels, submits them as
 *  one command buffer and waits once. */
export function ourRunner(sched: Scheduler, s: Shape, o: Operands, cfg: MatmulConfig): Runner {
  const kernel = matmulKernel(cfg);
  const vec = cfg.variant === 'vec4';
  const bufs = { [vec ? 'A4' : 'A']: o.A, [vec ? 'B4' : 'B']: o.B, C: o.C, bias: sched.dummy };
  const params = { M: s.M, N: s.N, K: s.K, ...matmulStrides(s), alpha: 1, beta: 0 };
  const wait = new PoliteWait();
  return async (n) => {
    for (let i = 0; i < n; i++) sched.record(kernel, bufs, params);
    const t0 = performance.now();
    sched.submit();
    await wait.after(t0, performance.now(), () => sched.device.queue.onSubmittedWorkDone(), n);
  };
}

/** Pads cells to a fixed-width table. */
export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
}
