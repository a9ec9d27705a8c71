// Conv workbench: GFLOP/s of our conv2d forward, backward-input and backward-weight at the
// ResNet8 (CIFAR, SPEC 3.2) layer shapes, against TF.js `tfjs-backend-webgpu` on the same
// Dawn backend, measured in one run with the repetitions interleaved (ours, tfjs, ours, ...).
// Each figure is 2·B·Cout·Ho·Wo·Cin·kh·kw flop over the median time of --reps timed
// repetitions; ratio = ours ÷ tfjs (> 1: ours faster). Every pass of both is first checked
// against the float64 reference; one that fails gets no figures.
//
//   npx tsx scripts/bench/conv.ts [--backend opengl|vulkan] [--reps 3] [--batch 128]
//       [--ms 150] [--shapes 16→16,conv1] [--ops fwd,dx,dW] [--tf-layout NHWC|NCHW]
//
// --ms is the target length of one timed repetition (each repetition queues enough passes).
// TF.js runs in NHWC by default: its native layout and its fast path (in NCHW its conv
// gradients fall back to naive kernels); ours is NCHW, PyTorch's.
import { requestGpu, describeGpu, type Backend } from '../../src/gpu/device.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import type { View } from '../../src/kernels/kernel.ts';
import {
  conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dShape, conv2dWeightSplits, conv2dWeightPartialLength,
  conv2dTile, type Conv2dGeometry,
} from '../../src/kernels/conv2d.ts';
import { adapterKind } from '../../src/kernels/matmul.ts';
import { conv2dCheck, type Conv2dCase } from '../../src/checks/conv2d.ts';
import { Rng } from '../../src/util/rng.ts';
import { flags, median, timeInterleaved, table, loadLine, sleep, PoliteWait, type Runner } from './common.ts';
import { tfjsConvPeer, type ConvOp, type ConvPeer, type TfLayout } from './tfjs_conv.ts';

const f = flags();
const reps = Number(f.reps ?? 3);
const B = Number(f.batch ?? 128);
const targetMs = Number(f.ms ?? 150);
const ops = (f.ops ?? 'fwd,dx,dW').split(',') as ConvOp[];
const layout = (f['tf-layout'] ?? 'NHWC').toUpperCase() as TfLayout;
for (const o of ops) if (!['fwd', 'dx', 'dW'].includes(o)) throw new Error(`unknown op '${o}' (fwd, dx, dW)`);
if (!['NHWC', 'NCHW'].includes(layout)) throw new Error(`--tf-layout is NHWC or NCHW, got '${layout}'`);
if (!(Number.isInteger(B) && B > 0 && reps > 0)) throw new Error(`--batch and --reps must be positive`);

/** ResNet8's convolutions (SPEC 3.2): all 3×3, pad 1; the shortcut has no conv. */
const conv = (Cin: number, Cout: number, H: number, stride: number): Conv2dGeometry => ({ B, Cin, H, W: H, Cout, kh: 3, kw: 3, stride, pad: 1 });
const SHAPES: Array<[string, Conv2dGeometry]> = [
  ['conv1 3→16 32²', conv(3, 16, 32, 1)],
  ['16→16 32²', conv(16, 16, 32, 1)],
  ['16→32 s2 32²', conv(16, 32, 32, 2)],
  ['32→32 16²', conv(32, 32, 16, 1)],
  ['32→64 s2 16²', conv(32, 64, 16, 2)],
  ['64→64 8²', conv(64, 64, 8, 1)],
];
const shapes = f.shapes ? SHAPES.filter(([n]) => f.shapes.split(',').some((p) => n.includes(p))) : SHAPES;
const flops = (g: Conv2dGeometry) => 2 * g.B * g.Cout * conv2dShape(g).T * g.Cin * g.kh * g.kw;

const gpu = await requestGpu({ backend: f.backend as Backend | undefined });
const sched = new Scheduler(gpu);
const kind = adapterKind(gpu);
console.log(`ours: ${describeGpu(gpu)}`);
console.log(loadLine());

// 1. Correctness first: odd sizes, every pass, both strides, against the float64 reference.
const odd = { B: 3, Cin: 5, H: 11, W: 11, Cout: 7, kh: 3, kw: 3, pad: 1 };
for (const stride of [1, 2]) {
  for (const op of ['forward', 'backward_input', 'backward_weight', 'bias_grad'] as const) {
    const c: Conv2dCase = { ...odd, stride, op, ...(op === 'forward' ? { bias: true, relu: true } : { beta: 0.5 }) };
    const r = await conv2dCheck(c, 5).run(sched);
    if (r.failure) throw new Error(`our conv2d fails its check, no figures: ${r.name}\n${r.failure}`);
  }
}
console.log('check ours: ok (forward, backward-input, backward-weight, bias-grad; strides 1 and 2; vs float64 reference)');

const peer: ConvPeer | string = await tfjsConvPeer(gpu.backend, layout);
console.log(typeof peer === 'string' ? `peer tfjs-webgpu: ${peer}` : `peer ${peer.name}: ready on Dawn ${gpu.backend} (checked against the float64 reference)`);

/** Our passes on seeded operands, uploaded once per shape. */
function ourRunners(g: Conv2dGeometry): { run: Record<ConvOp, Runner>; free(): void; plan: string } {
  const s = conv2dShape(g);
  const rng = new Rng(1);
  const up = (n: number) => { const v = sched.alloc(n, 'bench-conv'); sched.upload(v, rng.uniformArray(n)); return v; };
  const x = up(s.xLen), w = up(s.wLen), dy = up(s.outLen);
  const out = sched.alloc(s.outLen), dx = sched.alloc(s.xLen), dW = sched.alloc(s.wLen);
  const splits = conv2dWeightSplits(g, kind);
  const partial = sched.alloc(Math.max(1, conv2dWeightPartialLength(g, splits)));
  const one: Record<ConvOp, () => void> = {
    fwd: () => conv2dForward(sched, { x, w, out }, g),
    dx: () => conv2dBackwardInput(sched, { dy, w, dx }, g),
    dW: () => conv2dBackwardWeight(sched, { x, dy, dW, partial }, g, { splits }),
  };
  const runner = (op: ConvOp): Runner => {
    const wait = new PoliteWait();
    return async (n) => {
      for (let i = 0; i < n; i++) one[op]();
      const t0 = performance.now();
      sched.submit();
      await wait.after(t0, performance.now(), () => sched.device.queue.onSubmittedWorkDone(), n);
    };
  };
  const tile = (M: number) => { const t = conv2dTile(M, kind); return `${t.wgX}x${t.wgY}`; };
  return {
    run: { fwd: runner('fwd'), dx: runner('dx'), dW: runner('dW') },
    free: () => { for (const v of [x, w, dy, out, dx, dW, partial] as View[]) sched.free(v); },
    plan: `wg ${tile(g.Cout)} / ${tile(g.Cin)} / ${tile(g.Cout)}, dW splits ${splits}`,
  };
}

// 2. Timings.
const rows: string[][] = [];
const plans: string[] = [];
for (const [name, g] of shapes) {
  const ours = ourRunners(g);
  plans.push(`  ${name}: ${ours.plan}`);
  for (const op of ops) {
    const runners = [ours.run[op], ...(typeof peer === 'string' ? [] : [peer.runner(op, g)])];
    const times = (await timeInterleaved(runners, reps, targetMs)).map(median);
    const gf = times.map((ms) => flops(g) / ms / 1e6);
    rows.push([name, op, `${gf[0].toFixed(2)} (${times[0].toFixed(1)} ms)`,
      ...(gf.length > 1 ? [`${gf[1].toFixed(2)} (${times[1].toFixed(1)} ms)`, (gf[0] / gf[1]).toFixed(2)] : [])]);
    process.stderr.write(`  done ${name} ${op}\n`);
    await sleep(0);
  }
  ours.free();
  if (typeof peer !== 'string') peer.release();
}

// ---- GC assignment / backprop ratio ----------------------------------------------------
// Reserved for a later addition (not part of this bench yet): the time of a gradient
// clustering assignment step over conv layers (SPEC 1.4, per-example conv statistics) as a
// ratio of the backprop time measured above, per shape. It will add its own rows or table
// here, after the conv timings and before the summary below.

console.log(`\nB = ${B}; GFLOP/s, median of ${reps} interleaved repetitions (ms per pass in brackets); ratio = ours ÷ tfjs (same run)`);
console.log(table(['shape', 'pass', 'ours', ...(typeof peer === 'string' ? [] : [peer.name, 'ours/tfjs'])], rows));
console.log(`our tile shapes (forward / backward-input / backward-weight):\n${plans.join('\n')}`);
console.log(loadLine());
await sched.finish(); // raises any validation error the timed submissions caused
gpu.destroy();
process.exit(0);
