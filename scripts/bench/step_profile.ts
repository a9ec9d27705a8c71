// Where the time of one MLP SGD step goes: each recorded kernel timed alone (many
// repetitions in one submission, one wait at the end), then the whole step.
//   npx tsx scripts/bench/step_profile.ts [--hidden 256] [--batch 128] [--reps 20]
import { requestGpu, describeGpu } from '../../src/gpu/device.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import { MlpTrainer, PAPER_MNIST_SGD } from '../../src/run/mlp_trainer.ts';
import { initMlpParams } from '../../src/models/mlp.ts';
import { Rng } from '../../src/util/rng.ts';
import type { Kernel, Params } from '../../src/kernels/kernel.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const hidden = arg('hidden', '256').split(',').map(Number);
const B = Number(arg('batch', '128'));
const reps = Number(arg('reps', '20'));

const gpu = await requestGpu();
const sched = new Scheduler(gpu);
const cfg = { inputDim: 784, hidden, classes: 10 };
const trainer = new MlpTrainer(sched, cfg, PAPER_MNIST_SGD);
const rng = new Rng(1);
trainer.loadParams(initMlpParams(cfg, rng));
const x = rng.uniformArray(B * 784);
const y = Uint32Array.from({ length: B }, () => rng.int(10));
console.log(`${describeGpu(gpu)}\nMLP 784-${hidden.join('-')}-10, B=${B}, ${reps} reps`);

// Capture the passes of one step by wrapping record().
const recorded: Array<{ kernel: Kernel<any>; bufs: Record<string, any>; params: Params }> = [];
const orig = sched.record.bind(sched);
sched.record = (k, b, p) => { recorded.push({ kernel: k, bufs: b, params: p }); orig(k, b, p); };
trainer.step(x, y, 0);
await sched.finish();
sched.record = orig;

const median = (a: number[]) => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)];
async function time(fn: () => void, n = 5): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    await sched.finish();
    const t0 = performance.now();
    fn();
    await sched.finish();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}
let sum = 0;
for (const r of recorded) {
  const ms = (await time(() => { for (let i = 0; i < reps; i++) sched.record(r.kernel, r.bufs, r.params); })) / reps;
  sum += ms;
  const shape = Object.entries(r.params).filter(([k]) => ['M', 'N', 'K', 'n', 'B', 'R', 'Cc'].includes(k)).map(([k, v]) => `${k}=${v}`).join(' ');
  console.log(`  ${ms.toFixed(2).padStart(8)} ms  ${r.kernel.name.padEnd(28)} ${shape}`);
}
console.log(`  ${sum.toFixed(2).padStart(8)} ms  sum of kernels`);
const step = (await time(() => { for (let i = 0; i < reps; i++) trainer.step(x, y, i + 1); })) / reps;
console.log(`  ${step.toFixed(2).padStart(8)} ms  whole step (upload + passes), median of 5 × ${reps}`);
gpu.destroy();
