import type { KernelCheck } from './check.ts';
import { compare, upload, dotTol } from './check.ts';
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { bnTrainForward, bnEvalForward, bnTrainBackward, bnEvalBackward } from '../kernels/batchnorm.ts';
import { bnTrainForwardRef, bnEvalForwardRef, bnTrainBackwardRef, bnEvalBackwardRef, bnApplyRef } from '../reference/batchnorm.ts';
import { Rng } from '../util/rng.ts';
import type { Tol } from '../util/close.ts';

export interface BatchnormCase {
  mode: 'train' | 'eval';
  B: number;
  Cch: number;
  H: number;
  W: number;
  relu?: boolean;
  momentum?: number;
  /** channel means up to ±offset (default 2): the variance must not cancel */
  offset?: number;
  wgX?: number;
  wgY?: number;
  per?: number;
  wgC?: number;
}

export function batchnormCaseName(c: BatchnormCase): string {
  const extra = [
    c.relu && 'relu',
    c.momentum !== undefined && `momentum=${c.momentum}`,
    c.offset !== undefined && `offset=${c.offset}`,
    (c.wgX !== undefined || c.wgY !== undefined || c.per !== undefined) && `tile=${c.wgX ?? '-'}x${c.wgY ?? '-'}x${c.per ?? '-'}`,
    c.wgC !== undefined && `wgC=${c.wgC}`,
  ].filter(Boolean);
  return `batchnorm_${c.mode} B=${c.B} Cch=${c.Cch} H=${c.H} W=${c.W}${extra.length ? ' ' + extra.join(' ') : ''} fwd+bwd`;
}

/** Seeded inputs: x with per-channel offsets and scales, γ of both signs, running_var > 0. */
function inputs(c: BatchnormCase, seed: number) {
  const rng = new Rng(seed);
  const { B, Cch, H, W } = c;
  const HW = H * W, offset = c.offset ?? 2;
  const x = rng.uniformArray(B * Cch * HW);
  const shift = rng.uniformArray(Cch, -offset, offset), scale = rng.uniformArray(Cch, 0.5, 2);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / HW) % Cch;
    x[i] = Math.fround(shift[ch] + scale[ch] * x[i]);
  }
  const gamma = rng.uniformArray(Cch, -1.5, 1.5), beta = rng.uniformArray(Cch, -0.5, 0.5);
  const running = new Float32Array([...rng.uniformArray(Cch, -1, 1), ...rng.uniformArray(Cch, 0.5, 2)]);
  const dy = rng.uniformArray(x.length);
  return { x, gamma, beta, running, dy };
}

// Per-channel sums of n f32 terms of size ≲ 4 (x̂ = O(1), offsets ≤ 2 before centring).
const sumTol = (n: number): Tol => ({ atol: 4 * dotTol(n).atol!, rtol: dotTol(n).rtol });
// Elementwise results built from a handful of f32 operations on those sums.
const elemTol = (n: number): Tol => ({ atol: 1e-5 + 2 * dotTol(n).atol! / Math.sqrt(n), rtol: 1e-5 });

export function batchnormCheck(c: BatchnormCase, seed = 1): KernelCheck {
  const name = batchnormCaseName(c);
  return { name, run: (sched) => (c.mode === 'train' ? runTrain(sched, name, c, seed) : runEval(sched, name, c, seed)) };
}

async function readAll(sched: Scheduler, views: View[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const v of views) out.push(await sched.read(v));
  return out;
}

function uploadAll(sched: Scheduler, arrays: Float32Array[]) {
  return arrays.map((a) => upload(sched, a));
}

async function runTrain(sched: Scheduler, name: string, c: BatchnormCase, seed: number) {
  const { x, gamma, beta, running, dy } = inputs(c, seed);
  const n = c.B * c.H * c.W, C = c.Cch;
  const opts = { momentum: c.momentum, relu: c.relu, wgX: c.wgX, wgY: c.wgY, per: c.per, wgC: c.wgC };
  const [vx, vg, vb, vrun, vdy] = uploadAll(sched, [x, gamma, beta, running, dy]);
  const vy = sched.alloc(x.length, 'y'), vsaved = sched.alloc(2 * C, 'saved');
  const vdx = sched.alloc(x.length, 'dx'), vdg = sched.alloc(C, 'dgamma'), vdb = sched.alloc(C, 'dbeta');
  bnTrainForward(sched, { x: vx, gamma: vg, beta: vb, y: vy, saved: vsaved, running: vrun }, c, opts);
  bnTrainBackward(sched, { x: vx, dy: vdy, gamma: vg, beta: vb, saved: vsaved, dx: vdx, dgamma: vdg, dbeta: vdb }, c, opts);
  const [y, saved, run, dx, dg, db] = await readAll(sched, [vy, vsaved, vrun, vdx, vdg, vdb]);
  for (const v of [vx, vg, vb, vrun, vdy, vy, vsaved, vdx, vdg, vdb]) sched.free(v);
  const ref = bnTrainForwardRef(x, gamma, beta, running, c, { momentum: c.momentum === undefined ? 0.1 : Math.fround(c.momentum) });
  // y from the GPU's own statistics isolates bn_apply; the statistics are compared on their own.
  const mean = saved.subarray(0, C), invstd = saved.subarray(C);
  const back = bnTrainBackwardRef(x, dy, gamma, beta, mean, invstd, c, { relu: c.relu });
  return compare(name, [
    ['mean', mean, ref.mean, elemTol(n)],
    ['invstd', invstd, ref.invstd, elemTol(n)],
    ['running', run, ref.running, elemTol(n)],
    ['y', y, bnApplyRef(x, mean, invstd, gamma, beta, c, c.relu), elemTol(n)],
    ['dbeta', db, back.dbeta, sumTol(n)],
    ['dgamma', dg, back.dgamma, sumTol(n)],
    ['dx', dx, back.dx, elemTol(n)],
  ]);
}

async function runEval(sched: Scheduler, name: string, c: BatchnormCase, seed: number) {
  const { x, gamma, beta, running, dy } = inputs(c, seed);
  const n = c.B * c.H * c.W, C = c.Cch;
  const opts = { relu: c.relu, wgX: c.wgX, wgY: c.wgY, per: c.per, wgC: c.wgC };
  const [vx, vg, vb, vrun, vdy] = uploadAll(sched, [x, gamma, beta, running, dy]);
  const vy = sched.alloc(x.length, 'y'), vdx = sched.alloc(x.length, 'dx'), vdg = sched.alloc(C, 'dgamma'), vdb = sched.alloc(C, 'dbeta');
  bnEvalForward(sched, { x: vx, gamma: vg, beta: vb, y: vy, running: vrun }, c, opts);
  bnEvalBackward(sched, { x: vx, dy: vdy, gamma: vg, beta: vb, running: vrun, dx: vdx, dgamma: vdg, dbeta: vdb }, c, opts);
  const [y, run, dx, dg, db] = await readAll(sched, [vy, vrun, vdx, vdg, vdb]);
  for (const v of [vx, vg, vb, vrun, vdy, vy, vdx, vdg, vdb]) sched.free(v);
  const back = bnEvalBackwardRef(x, dy, gamma, beta, running, c, { relu: c.relu });
  return compare(name, [
    ['running (unchanged)', run, running, { atol: 0, rtol: 0 }],
    ['y', y, bnEvalForwardRef(x, gamma, beta, running, c, { relu: c.relu }), elemTol(n)],
    ['dbeta', db, back.dbeta, sumTol(n)],
    ['dgamma', dg, back.dgamma, sumTol(n)],
    ['dx', dx, back.dx, elemTol(n)],
  ]);
}
