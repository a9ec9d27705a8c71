// Costs of gradient clustering and per-example statistics relative to backprop, on the
// paper's MLP (784-1024-1024-10, B = 128, C = 128 clusters):
//   A-step / backprop: one batch's GC assignment work (every layer's P = A·Ciᵀ, Q = G·Coᵀ,
//     row norms, distance accumulation, then argmin and running count) over one forward +
//     backward of the same batch. The paper claims ≤ 1 for FC layers when C < min(din, dout).
//   stats on / off: a training step plus per-example squared gradient norms of every layer
//     over the plain training step (target ≤ 1.3).
// Medians of --runs runs of --reps repetitions each, all work submitted before one wait.
//   npx tsx scripts/bench/gc.ts [--backend opengl|vulkan] [--reps 5] [--runs 5] [--hidden 1024,1024]
import { requestGpu, describeGpu, type Backend } from '../../src/gpu/device.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import { MlpTrainer, PAPER_MNIST_SGD } from '../../src/run/mlp_trainer.ts';
import { initMlpParams, type MlpConfig } from '../../src/models/mlp.ts';
import { gcAssign, gcCount, gcLayerTerms, gcScratch, peSqnormAccum } from '../../src/kernels/gc.ts';
import { rowsumsq } from '../../src/kernels/reduce.ts';
import { Rng } from '../../src/util/rng.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const reps = Number(arg('reps', '5'));
const runs = Number(arg('runs', '5'));
const hidden = arg('hidden', '1024,1024').split(',').map(Number);
const B = 128, C = 128;
const median = (a: number[]) => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)];

const gpu = await requestGpu({ backend: (arg('backend', '') as Backend) || undefined });
const sched = new Scheduler(gpu);
const cfg: MlpConfig = { inputDim: 784, hidden, classes: 10 };
const rng = new Rng(1);
const trainer = new MlpTrainer(sched, cfg, PAPER_MNIST_SGD);
trainer.loadParams(initMlpParams(cfg, rng));
const grad = trainer.grad;
const x = rng.uniformArray(B * 784);
const y = Uint32Array.from({ length: B }, () => rng.int(10));
const layers = trainer.model.layers;
const centres = layers.map((L) => {
  const Ci = sched.alloc(C * L.din), Co = sched.alloc(C * L.dout);
  sched.upload(Ci, rng.uniformArray(C * L.din, 0, 1e-3));
  sched.upload(Co, rng.uniformArray(C * L.dout, 0, 1e-3));
  return { Ci, Co };
});
const scratch = gcScratch(sched, B, C);
const dist = sched.alloc(B * C), counts = sched.alloc(C), assign = sched.alloc(B), best = sched.alloc(B);
const aa = sched.alloc(B), gg = sched.alloc(B), norms = sched.alloc(B);

const backprop = () => grad.compute(x, y);
const aStep = () => {
  layers.forEach((L, l) => {
    const { A, G } = grad.layerFactors(B, l);
    gcLayerTerms(sched, { A, G, Ci: centres[l].Ci, Co: centres[l].Co, dist, scratch }, { B, din: L.din, dout: L.dout, C, beta: l === 0 ? 0 : 1 });
  });
  gcAssign(sched, { dist, counts, assign, best }, { B, C });
  gcCount(sched, { assign, counts }, { B, C, beta: 1 });
  sched.submit();
};
const step = () => trainer.step(x, y, 1);
const norm = () => {
  layers.forEach((L, l) => {
    const { A, G } = grad.layerFactors(B, l);
    rowsumsq(sched, { X: A, out: aa }, { R: B, Cc: L.din });
    rowsumsq(sched, { X: G, out: gg }, { R: B, Cc: L.dout });
    peSqnormAccum(sched, { aa, gg, out: norms }, { B, beta: l === 0 ? 0 : 1, bias: true });
  });
  sched.submit();
};

/** Medians of several workloads, their runs interleaved (a, b, a, b, ...) so that the
 *  shared machine's load changes hit each workload alike. */
async function time(...fns: Array<() => void>): Promise<number[]> {
  for (const fn of fns) fn();
  await sched.finish(); // warm-up: pipelines, bind groups
  const ms: number[][] = fns.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (const [k, fn] of fns.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) fn();
      await sched.finish();
      ms[k].push((performance.now() - t0) / reps);
    }
  }
  return ms.map(median);
}

console.log(`${describeGpu(gpu)}\nMLP 784-${hidden.join('-')}-10, B=${B}, C=${C}; median of ${runs} runs × ${reps}`);
// The A-step reads the workspace a backprop of the same batch left behind.
const [tBack, tA] = await time(backprop, aStep);
const [tStep, tStats] = await time(step, () => { step(); norm(); });
console.log(`  backprop (forward + backward)      ${tBack.toFixed(1).padStart(8)} ms`);
console.log(`  GC A-step terms + argmin           ${tA.toFixed(1).padStart(8)} ms   A-step / backprop = ${(tA / tBack).toFixed(2)}  (target ≤ 1.0)`);
console.log(`  training step                      ${tStep.toFixed(1).padStart(8)} ms`);
console.log(`  training step + per-example norms  ${tStats.toFixed(1).padStart(8)} ms   on / off = ${(tStats / tStep).toFixed(2)}  (target ≤ 1.3)`);
gpu.destroy();
process.exit(0);
