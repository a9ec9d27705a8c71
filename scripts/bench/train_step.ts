// Milliseconds per SGD step (batch 128) of the MNIST MLP: ours, TF.js `tfjs-backend-webgpu`
// on the same Dawn adapter, and `tfjs-backend-wasm` (XNNPACK), with our/peer ratios measured
// in the same run. Each figure is the median over --runs runs of --steps steps; a run ends
// with one readback of the loss, so every engine's timing covers finished work.
//   npx tsx scripts/bench/train_step.ts [--backend opengl|vulkan] [--steps 10] [--runs 5] [--shapes 256,1024x1024]
// Before timing, ours is checked: 3 steps on the GPU equal the float64 reference step.
import { requestGpu, describeGpu, type Backend } from '../../src/gpu/device.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import { MlpTrainer, PAPER_MNIST_SGD } from '../../src/run/mlp_trainer.ts';
import { initMlpParams, type MlpConfig } from '../../src/models/mlp.ts';
import { Rng } from '../../src/util/rng.ts';
import { tfjsPeer, type PeerStep } from './tfjs_mlp.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const steps = Number(arg('steps', '10'));
const runs = Number(arg('runs', '5'));
const shapes = arg('shapes', '256,1024x1024').split(',').map((s) => s.split('x').map(Number));
const B = 128;
const median = (a: number[]) => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)];

const gpu = await requestGpu({ backend: arg('backend', '') as Backend || undefined });
const backend = gpu.backend;
const sched = new Scheduler(gpu);
console.log(`ours on ${describeGpu(gpu)}; batch ${B}, median of ${runs} runs × ${steps} steps`);

async function timeOurs(cfg: MlpConfig, x: Float32Array, y: Uint32Array): Promise<number> {
  const t = new MlpTrainer(sched, cfg, PAPER_MNIST_SGD);
  t.loadParams(initMlpParams(cfg, new Rng(1)));
  t.step(x, y, 0);
  await t.lastBatch(); // warm-up: pipelines, bind groups, workspaces
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) t.step(x, y, s + 1);
    await t.lastBatch();
    ms.push((performance.now() - t0) / steps);
  }
  t.destroy();
  return median(ms);
}

async function timePeer(peer: PeerStep | string): Promise<number | string> {
  if (typeof peer === 'string') return peer;
  await peer.step(); // warm-up
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) await peer.step(s === steps - 1);
    ms.push((performance.now() - t0) / steps);
  }
  peer.dispose();
  return median(ms);
}

const rows: string[][] = [['model', 'ours ms', 'tfjs-webgpu ms', 'ratio', 'tfjs-wasm ms', 'ratio']];
for (const hidden of shapes) {
  const cfg: MlpConfig = { inputDim: 784, hidden, classes: 10 };
  const rng = new Rng(2);
  const x = rng.uniformArray(B * 784);
  const y = Uint32Array.from({ length: B }, () => rng.int(10));
  const ours = await timeOurs(cfg, x, y);
  const webgpu = await timePeer(await tfjsPeer('webgpu', backend, cfg, x, y));
  const wasm = await timePeer(await tfjsPeer('wasm', backend, cfg, x, y));
  const fmt = (v: number | string) => (typeof v === 'number' ? v.toFixed(1) : v);
  const ratio = (v: number | string) => (typeof v === 'number' ? `${(v / ours).toFixed(2)}×` : '-');
  rows.push([`784-${hidden.join('-')}-10`, fmt(ours), fmt(webgpu), ratio(webgpu), fmt(wasm), ratio(wasm)]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((v, c) => v.padStart(widths[c])).join('  '));
console.log('ratio = peer ms / ours ms (> 1: ours is faster)');
gpu.destroy();
process.exit(0);
