// Times convLayerTerms (one conv layer's GC A-step terms: GG, CG and the distance
// accumulation) on the six conv shapes of ResNet8 (SPEC 3.2) at B = 128, C = 128, so the
// GC assignment pass can be compared with a backprop step (target: A-step ≤ 1 backprop;
// scripts/bench/resnet_step.ts times the step). Each row: the contractions chosen, the chunk
// count, and the median ms of --runs runs of --reps calls, all of a run's calls submitted
// before one wait. Rows run interleaved (row 1, 2, ..., 1, 2, ...) so load from other
// processes hits them alike. Where the `shared` cost rule (convCostChoice: g_i formed once
// for both statistics) picks another CG contraction than the SPEC 1.4 formulas, the layer gets
// a second row with it, and the last line sums the layers with those rows instead.
//   npx tsx scripts/bench/conv_stats.ts [--backend opengl|vulkan] [--reps 3] [--runs 5]
//                                       [--chunk FLOATS] [--ustep] [--only N]
// --ustep times convUstepRows (the U-step's Ais, Gos rows) instead.
import { requestGpu, describeGpu, type Backend } from '../../src/gpu/device.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import { convShape, convCostChoice, type ConvGeometry } from '../../src/kernels/conv_stats.ts';
import { convScratch, convLayerTerms, convUstepRows, convPlan, DEFAULT_CHUNK_FLOATS } from '../../src/kernels/conv_stats_layer.ts';
import { Rng } from '../../src/util/rng.ts';
import { flags, median, loadLine, table, PoliteWait } from './common.ts';

const f = flags();
const reps = Number(f.reps ?? 3), runs = Number(f.runs ?? 5);
const chunkFloats = Number(f.chunk ?? DEFAULT_CHUNK_FLOATS);
const B = 128, C = 128;
const layers: Array<[string, ConvGeometry]> = [
  ['conv1 3→16 32²', { B, Cin: 3, Cout: 16, H: 32, W: 32, kh: 3, kw: 3, stride: 1, pad: 1 }],
  ['16→16 32²', { B, Cin: 16, Cout: 16, H: 32, W: 32, kh: 3, kw: 3, stride: 1, pad: 1 }],
  ['16→32 s2', { B, Cin: 16, Cout: 32, H: 32, W: 32, kh: 3, kw: 3, stride: 2, pad: 1 }],
  ['32→32 16²', { B, Cin: 32, Cout: 32, H: 16, W: 16, kh: 3, kw: 3, stride: 1, pad: 1 }],
  ['32→64 s2', { B, Cin: 32, Cout: 64, H: 16, W: 16, kh: 3, kw: 3, stride: 2, pad: 1 }],
  ['64→64 8²', { B, Cin: 64, Cout: 64, H: 8, W: 8, kh: 3, kw: 3, stride: 1, pad: 1 }],
].filter((_, n) => f.only === undefined || n === Number(f.only)) as Array<[string, ConvGeometry]>;

const gpu = await requestGpu({ backend: (f.backend as Backend) || undefined });
const sched = new Scheduler(gpu);
const rng = new Rng(1);
type Row = { name: string; n: number; shared: boolean };
const rowsToTime: Row[] = layers.flatMap(([name, g], n) => {
  const differs = !f.ustep && convCostChoice(g, C).cg !== convCostChoice(g, C, { shared: true }).cg;
  return [{ name, n, shared: false }, ...(differs ? [{ name: `${name} shared`, n, shared: true }] : [])];
});
const scratch = convScratch(sched, layers.map(([, g]) => g), C, { chunkFloats });
const scratchShared = convScratch(sched, layers.map(([, g]) => g), C, { chunkFloats, force: { shared: true } });
const dist = sched.alloc(B * C, 'dist');
const data = layers.map(([, g]) => {
  const { T, din } = convShape(g);
  const up = (n: number, s: number) => { const v = sched.alloc(n); sched.upload(v, rng.uniformArray(n, -s, s)); return v; };
  return {
    x: up(B * g.Cin * g.H * g.W, 1), dy: up(B * g.Cout * T, 1e-3), Ci: up(C * din, 1e-2), Co: up(C * g.Cout, 1e-3),
    Ais: sched.alloc(B * din), Gos: sched.alloc(B * g.Cout),
  };
});
const work = rowsToTime.map(({ n, shared }) => () => {
  const d = data[n], g = layers[n][1];
  if (f.ustep) convUstepRows(sched, { x: d.x, dy: d.dy, Ais: d.Ais, Gos: d.Gos }, g);
  else convLayerTerms(sched, { x: d.x, dy: d.dy, Ci: d.Ci, Co: d.Co, dist, scratch: shared ? scratchShared : scratch }, g, C, 1, { force: { shared } });
});

// One PoliteWait per layer: it sleeps through most of the layer's learned time before the
// wait (a pending wait spins a core, DESIGN 7) and learns from clean times only (the first
// two calls, which compile and first-touch, never sleep). sched.finish() is not used for
// timing: its learned sleep is per dispatch count and remembers the compile.
const waits = work.map(() => new PoliteWait());
async function timeOne(n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) work[n]();
  sched.submit();
  await waits[n].after(t0, performance.now(), () => sched.device.queue.onSubmittedWorkDone(), reps);
  return (performance.now() - t0) / reps;
}

console.log(`${describeGpu(gpu)}\n${loadLine()}`);
console.log(`ResNet8 conv layers, B=${B}, C=${C}, chunk ≤ ${chunkFloats} floats; ${f.ustep ? 'convUstepRows' : 'convLayerTerms'}, median of ${runs} runs × ${reps}`);
for (let w = 0; w < 2; w++) for (let n = 0; n < work.length; n++) await timeOne(n); // compile, first touch
await sched.finish(); // raises any GPU error
const ms: number[][] = work.map(() => []);
for (let r = 0; r < runs; r++) {
  for (let n = 0; n < work.length; n++) ms[n].push(await timeOne(n));
}
await sched.finish();
const rows = rowsToTime.map(({ name, n, shared }, r) => {
  const p = convPlan(layers[n][1], C, 'terms', chunkFloats, { shared });
  return [name, f.ustep ? '' : p.choice.cg, f.ustep ? '' : p.choice.gg, String(Math.ceil(B / p.nb)), median(ms[r]).toFixed(1), Math.min(...ms[r]).toFixed(1)];
});
const total = (shared: boolean) => layers.reduce((s, _, n) => {
  const r = rowsToTime.findIndex((x) => x.n === n && x.shared === shared);
  return s + median(ms[r >= 0 ? r : rowsToTime.findIndex((x) => x.n === n)]);
}, 0);
const totals = [['all layers (SPEC 1.4 choice)', '', '', '', total(false).toFixed(1), '']];
if (rowsToTime.some((x) => x.shared)) totals.push(['all layers (shared choice)', '', '', '', total(true).toFixed(1), '']);
console.log(table(['layer', 'CG', 'GG', 'chunks', 'median ms', 'min ms'], [...rows, ...totals]));
console.log(loadLine());
gpu.destroy();
process.exit(0);
