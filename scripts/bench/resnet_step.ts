// Milliseconds per ResNetGrad.compute() (upload, forward, softmax-xent, backward, submit) and
// per forward alone, for one of the paper's ResNets. Each figure is the median over --runs runs
// of --steps calls; a run ends with one readback of the loss, so it covers finished work.
//   npx tsx scripts/bench/resnet_step.ts [--model resnet8] [--batch 128] [--size 32]
//       [--backend opengl|vulkan] [--steps 5] [--runs 3] [--width 1] [--mode train|eval] [--profile]
// --profile: then each pass of one compute() timed alone (median of 3 submissions of 2 copies),
// summed per kernel name, largest first.
import { requestGpu, describeGpu, type Backend } from '../../src/gpu/device.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import { resnetConfig } from '../../src/models/resnet.ts';
import { ResNet } from '../../src/models/resnet_net.ts';
import { ResNetGrad } from '../../src/run/resnet_grad.ts';
import { Rng } from '../../src/util/rng.ts';
import { flags } from './common.ts';
import type { Kernel, Params, Bindable } from '../../src/kernels/kernel.ts';

const f = flags();
const name = f.model ?? 'resnet8', B = Number(f.batch ?? 128), size = Number(f.size ?? 32);
const steps = Number(f.steps ?? 5), runs = Number(f.runs ?? 3);
const median = (a: number[]) => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)];

const gpu = await requestGpu({ backend: (f.backend as Backend) || undefined });
const sched = new Scheduler(gpu);
const cfg = resnetConfig(name, { H: size, ...(f.width ? { width: Number(f.width) } : {}) });
const model = new ResNet(sched, cfg);
const grad = new ResNetGrad(sched, model);
model.init(new Rng(1));
grad.setMode((f.mode as 'train' | 'eval') ?? 'train');
const rng = new Rng(2);
const x = rng.uniformArray(B * model.inputSize, -1, 1);
const y = Uint32Array.from({ length: B }, () => rng.int(cfg.classes));
console.log(`${name} (${model.layout.count} parameters) on ${describeGpu(gpu)}; batch ${B}, input 3×${size}×${size}, median of ${runs} runs × ${steps} calls`);

async function time(call: () => void): Promise<number> {
  call();
  await sched.read(grad.buffers(B).loss); // warm-up: pipelines, bind groups, workspace
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) call();
    await sched.read(grad.buffers(B).loss);
    ms.push((performance.now() - t0) / steps);
  }
  return median(ms);
}

const d0 = sched.dispatched;
grad.compute(x, y);
await sched.finish();
const perCompute = sched.dispatched - d0;
const computeMs = await time(() => grad.compute(x, y));
const noParamMs = await time(() => grad.compute(x, y, { paramGrads: false }));
const io = grad.buffers(B);
const forwardMs = await time(() => { grad.forward(io.x, B); sched.submit(); });
console.log(`compute():                  ${computeMs.toFixed(1)} ms  (${perCompute} dispatches)`);
console.log(`compute({paramGrads:false}): ${noParamMs.toFixed(1)} ms`);
console.log(`forward only:               ${forwardMs.toFixed(1)} ms`);
console.log(`workspace: ${(model.workspace(B).floats * 4 / 2 ** 20).toFixed(0)} MiB of activations at batch ${B}`);
if (f.profile) await profile();
grad.destroy();
model.destroy();
gpu.destroy();

async function profile(): Promise<void> {
  const passes: Array<{ k: Kernel<Params>; b: Record<string, Bindable>; p: Params }> = [];
  const orig = sched.record.bind(sched);
  sched.record = (k, b, p) => { passes.push({ k: k as unknown as Kernel<Params>, b, p }); orig(k, b, p); };
  grad.compute(x, y);
  await sched.finish();
  sched.record = orig;
  const byName = new Map<string, { ms: number; n: number }>();
  for (const r of passes) {
    const ts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      orig(r.k, r.b, r.p);
      orig(r.k, r.b, r.p);
      await sched.finish();
      ts.push((performance.now() - t0) / 2);
    }
    const e = byName.get(r.k.name) ?? { ms: 0, n: 0 };
    byName.set(r.k.name, { ms: e.ms + median(ts), n: e.n + 1 });
  }
  const rows = [...byName].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, e]) => s + e.ms, 0);
  for (const [name, e] of rows) console.log(`  ${e.ms.toFixed(1).padStart(8)} ms ${(100 * e.ms / total).toFixed(0).padStart(3)}%  ${String(e.n).padStart(3)}×  ${name}`);
  console.log(`  ${total.toFixed(1).padStart(8)} ms       sum of passes timed alone`);
}
process.exit(0);
