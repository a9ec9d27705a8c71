import type { KernelCheck } from './check.ts';
import { compare, upload } from './check.ts';
import { addRelu, addReluBackward, shortcutA, shortcutABackward, shortcutAOutShape } from '../kernels/resnet_ops.ts';
import { addReluRef, addReluBackwardRef, shortcutARef, shortcutABackwardRef } from '../reference/resnet_ops.ts';
import { Rng } from '../util/rng.ts';
import type { Tol } from '../util/close.ts';

export type ResnetOpsCase =
  | { op: 'add_relu'; n: number; twoGrads?: boolean; wg?: number }
  | { op: 'shortcut_a'; B: number; Cin: number; H: number; W: number; pad: number; beta?: number; wg?: number };

export function resnetOpsCaseName(c: ResnetOpsCase): string {
  const wg = c.wg !== undefined ? ` wg=${c.wg}` : '';
  if (c.op === 'add_relu') return `resnet_ops_add_relu n=${c.n}${c.twoGrads ? ' two_grads' : ''}${wg} fwd+bwd`;
  return `resnet_ops_shortcut_a B=${c.B} Cin=${c.Cin} H=${c.H} W=${c.W} pad=${c.pad}${c.beta ? ` beta=${c.beta}` : ''}${wg} fwd+bwd`;
}

// Copies and masks are exact; a sum of two f32 values rounds once, beta·dx + dy once or twice.
const EXACT: Tol = { atol: 0, rtol: 0 };
const ROUNDED: Tol = { atol: 1e-6, rtol: 1e-6 };

export function resnetOpsCheck(c: ResnetOpsCase, seed = 1): KernelCheck {
  const name = resnetOpsCaseName(c);
  return { name, run: (sched) => (c.op === 'add_relu' ? runAddRelu(sched, name, c, seed) : runShortcut(sched, name, c, seed)) };
}

async function runAddRelu(sched: Parameters<KernelCheck['run']>[0], name: string, c: Extract<ResnetOpsCase, { op: 'add_relu' }>, seed: number) {
  const rng = new Rng(seed);
  const { n, wg } = c;
  const [a, b, dout, dout2] = [0, 1, 2, 3].map(() => rng.uniformArray(n));
  const va = upload(sched, a), vb = upload(sched, b), vd = upload(sched, dout), vd2 = upload(sched, dout2);
  const vout = sched.alloc(n, 'out'), vds = sched.alloc(n, 'dsum');
  addRelu(sched, { a: va, b: vb, out: vout }, {}, { wg });
  addReluBackward(sched, { out: vout, dout: vd, dout2: c.twoGrads ? vd2 : undefined, dsum: vds }, {}, { wg });
  const out = await sched.read(vout), dsum = await sched.read(vds);
  for (const v of [va, vb, vd, vd2, vout, vds]) sched.free(v);
  // The reference masks with the GPU's own f32 output (a + b rounds before the compare).
  return compare(name, [
    ['out', out, addReluRef(a, b), ROUNDED],
    ['dsum', dsum, addReluBackwardRef(out, dout, c.twoGrads ? dout2 : null), c.twoGrads ? ROUNDED : EXACT],
  ]);
}

async function runShortcut(sched: Parameters<KernelCheck['run']>[0], name: string, c: Extract<ResnetOpsCase, { op: 'shortcut_a' }>, seed: number) {
  const rng = new Rng(seed);
  const { B, Cin, H, W, pad, wg } = c;
  const beta = Math.fround(c.beta ?? 0);
  const { Cout, OH, OW } = shortcutAOutShape(c);
  const x = rng.uniformArray(B * Cin * H * W);
  const dy = rng.uniformArray(B * Cout * OH * OW);
  const dx0 = rng.uniformArray(x.length);
  // y starts as garbage: every element, pad channels included, must be written.
  const vx = upload(sched, x), vdy = upload(sched, dy), vdx = upload(sched, dx0), vy = upload(sched, rng.uniformArray(dy.length));
  shortcutA(sched, { x: vx, y: vy }, c, { wg });
  shortcutABackward(sched, { dy: vdy, dx: vdx }, { ...c, beta }, { wg });
  const y = await sched.read(vy), dx = await sched.read(vdx);
  for (const v of [vx, vdy, vdx, vy]) sched.free(v);
  return compare(name, [
    ['y', y, shortcutARef(x, c), EXACT],
    ['dx', dx, shortcutABackwardRef(dy, c, beta, dx0), beta !== 0 ? ROUNDED : EXACT],
  ]);
}
