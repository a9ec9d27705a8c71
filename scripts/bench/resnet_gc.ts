// The GC assignment pass against backprop on a ResNet (default ResNet8, SPEC 3.2), B = C = 128:
//   backprop   one ResNetGrad.compute(): upload, forward, softmax-xent, backward, submit
//   A-step     the same batch's assignment work as GradientClustering records it: every conv
//              layer's terms through convLayerTerms (the contraction the cost rule picks), the
//              head's through gcLayerTerms, then argmin and the running count
// The A-step reads the factors the backprop of the same batch left in the workspace. Both are
// timed interleaved (backprop, A-step, backprop, ...) as medians of --runs runs of --reps
// calls, each run ending with one wait, so load from other processes hits both alike.
// Target (issue 6): A-step / backprop ≤ 1.0, the paper's claim for its layers.
//   npx tsx scripts/bench/resnet_gc.ts [--backend opengl|vulkan] [--model resnet8] [--batch 128]
//       [--clusters 128] [--reps 2] [--runs 5]
import { requestGpu, describeGpu, type Backend } from '../../src/gpu/device.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import { createResNetEngine } from '../../src/run/resnet_grad.ts';
import { gcAssign, gcCount, gcLayerTerms, gcScratch } from '../../src/kernels/gc.ts';
import { convLayerTerms, convScratch } from '../../src/kernels/conv_stats_layer.ts';
import { Rng } from '../../src/util/rng.ts';
import { flags, median, loadLine } from './common.ts';

const f = flags();
const model = f.model ?? 'resnet8';
const B = Number(f.batch ?? 128), C = Number(f.clusters ?? 128);
const reps = Number(f.reps ?? 2), runs = Number(f.runs ?? 5);

const gpu = await requestGpu({ backend: (f.backend as Backend) || undefined });
const sched = new Scheduler(gpu);
const rng = new Rng(1);
const { engine, describe } = createResNetEngine(sched, model, { channels: 3, height: 32, width: 32, classes: 10 }, rng);
const x = rng.uniformArray(B * engine.inputSize, -1, 1);
const y = Uint32Array.from({ length: B }, () => rng.int(10));
const layers = engine.clustered;
// Centres as GC holds them: Ci [C, din], Co [C, dout] per clustered layer, small and nonzero.
const centres = layers.map((L) => {
  const Ci = sched.alloc(C * L.din), Co = sched.alloc(C * L.dout);
  sched.upload(Ci, rng.uniformArray(C * L.din, 0, 1e-3));
  sched.upload(Co, rng.uniformArray(C * L.dout, 0, 1e-3));
  return { Ci, Co };
});
const convs = layers.filter((L) => L.conv).map((L) => ({ B, ...L.conv! }));
const cscratch = convScratch(sched, convs, C);
const fscratch = gcScratch(sched, B, C);
const dist = sched.alloc(B * C), counts = sched.alloc(C), assign = sched.alloc(B), best = sched.alloc(B);

const backprop = () => engine.compute(x, y);
const aStep = () => {
  layers.forEach((L, l) => {
    const { A, G } = engine.layerFactors(B, l);
    const beta = l === 0 ? 0 : 1;
    if (L.conv) convLayerTerms(sched, { x: A, dy: G, Ci: centres[l].Ci, Co: centres[l].Co, dist, scratch: cscratch }, { B, ...L.conv }, C, beta);
    else gcLayerTerms(sched, { A, G, Ci: centres[l].Ci, Co: centres[l].Co, dist, scratch: fscratch }, { B, din: L.din, dout: L.dout, C, beta });
  });
  gcAssign(sched, { dist, counts, assign, best }, { B, C });
  gcCount(sched, { assign, counts }, { B, C, beta: 1 });
  sched.submit();
};

console.log(`resnet_gc bench: ${describe}, B = ${B}, C = ${C}, ${layers.length} clustered layers; median of ${runs} runs × ${reps}`);
console.log(`${describeGpu(gpu)}\n${loadLine()}`);
backprop();
aStep();
await sched.finish(); // warm-up: pipelines, bind groups, scratch
const ms: number[][] = [[], []];
for (let r = 0; r < runs; r++) {
  for (const [k, fn] of [backprop, aStep].entries()) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    await sched.finish();
    ms[k].push((performance.now() - t0) / reps);
  }
}
const [tBack, tA] = ms.map(median);
console.log(`  backprop (forward + backward)  ${tBack.toFixed(1).padStart(9)} ms   runs: ${ms[0].map((v) => v.toFixed(0)).join(' ')}`);
console.log(`  GC A-step terms + argmin       ${tA.toFixed(1).padStart(9)} ms   runs: ${ms[1].map((v) => v.toFixed(0)).join(' ')}`);
console.log(`  A-step / backprop = ${(tA / tBack).toFixed(2)}  (target ≤ 1.0)`);
console.log(loadLine());
gpu.destroy();
process.exit(0);
