// Our matmul against TF.js 4.22 on the same machine, measured in one run with the
// repetitions interleaved (ours, tfjs-webgpu, tfjs-wasm, ours, ...):
//   - @tensorflow/tfjs-backend-webgpu on the same Dawn adapter (its own device, from a second
//     `webgpu` create() instance exposed as globalThis.navigator.gpu);
//   - @tensorflow/tfjs-backend-wasm (XNNPACK) on the CPU.
// Same shapes as scripts/bench/matmul.ts; ratios are ours ÷ peer throughput (> 1: ours faster).
//
//   npx tsx scripts/bench/peer_tfjs.ts [--backend vulkan|opengl] [--reps 7] [--shapes 1024,fwd]
//
// A peer that fails to initialise (or gives wrong products on a small check) is reported and
// left out; the rest still runs.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { requestGpu, describeGpu, type Backend } from '../../src/gpu/device.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import { matmulPlan, adapterKind } from '../../src/kernels/matmul.ts';
import { matmulRef } from '../../src/reference/matmul.ts';
import { closeReport } from '../../src/util/close.ts';
import { dotTol } from '../../src/checks/check.ts';
import { matmulCheck } from '../../src/checks/matmul.ts';
import { Rng } from '../../src/util/rng.ts';
import {
  SHAPES, flags, median, timeInterleaved, operands, freeOperands, ourRunner, table, flops, loadLine, sleep,
  PoliteWait, type Runner, type Shape,
} from './common.ts';

const f = flags();
const reps = Number(f.reps ?? 7);
const targetMs = Number(f.ms ?? 250);
const shapes = f.shapes ? SHAPES.filter((s) => f.shapes.split(',').some((p) => s.name.includes(p))) : SHAPES;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const gpu = await requestGpu({ backend: f.backend as Backend | undefined });
const sched = new Scheduler(gpu);
console.log(`ours: ${describeGpu(gpu)}`);
console.log(loadLine());
for (const t of ['NN', 'TN', 'NT']) {
  const r = await matmulCheck({ M: 36, N: 28, K: 52, transA: t[0] === 'T', transB: t[1] === 'T' }, 3).run(sched);
  if (r.failure) throw new Error(`our matmul fails its check, no figures: ${r.name}\n${r.failure}`);
}

// Peers. Each is a name and a factory giving a runner per shape; null when unavailable.
type Tf = typeof import('@tensorflow/tfjs');
interface Peer { name: string; runner(s: Shape): Runner }
const peers: Peer[] = [];
const keepAlive: unknown[] = []; // Dawn aborts if a create() instance is collected while in use

// TF.js checks for navigator.gpu when its webgpu module is first imported, so set it first.
let tf: Tf | null = null;
try {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const backend = gpu.backend;
  const inst = create([`backend=${backend}`, ...(backend === 'vulkan' ? ['disable-dawn-features=timestamp_quantization'] : [])]);
  keepAlive.push(inst);
  // TF.js asks for a default (core) adapter; on OpenGL only a compatibility one exists.
  const compat = gpu.featureLevel === 'compatibility';
  const gpuForTf = compat
    ? { requestAdapter: (o?: GPURequestAdapterOptions) => inst.requestAdapter({ ...o, featureLevel: 'compatibility' } as GPURequestAdapterOptions), getPreferredCanvasFormat: () => 'rgba8unorm', wgslLanguageFeatures: new Set() }
    : inst;
  keepAlive.push(gpuForTf);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpuForTf }, configurable: true, writable: true });
  tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-webgpu');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
} catch (e) {
  console.log(`TF.js could not be loaded at all: ${(e as Error).message}`);
}

async function addPeer(name: string, backendName: 'webgpu' | 'wasm'): Promise<void> {
  if (!tf) return;
  const t = tf;
  try {
    if (!(await t.setBackend(backendName))) throw new Error(`tf.setBackend('${backendName}') returned false`);
    await t.ready();
    const be = t.backend() as { adapterInfo?: { vendor?: string; architecture?: string; description?: string } };
    const ai = be.adapterInfo ? [be.adapterInfo.vendor, be.adapterInfo.architecture, be.adapterInfo.description].filter(Boolean).join(' ') : '';
    const info = backendName === 'webgpu' ? ` on Dawn ${gpu.backend}${ai ? ` (${ai})` : ' (adapter reports no info)'}` : '';
    const extra = backendName === 'wasm'
      ? ` (SIMD ${await t.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, threads ${await t.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')})` : '';
    // A small product per layout against the float64 reference: same operation as ours?
    for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
      const M = 13, N = 11, K = 17, rng = new Rng(9);
      const a = rng.uniformArray(M * K), b = rng.uniformArray(K * N);
      const at = t.tensor2d(a, transA ? [K, M] : [M, K]), bt = t.tensor2d(b, transB ? [N, K] : [K, N]);
      const c = t.matMul(at, bt, transA, transB);
      const bad = closeReport(await c.data(), matmulRef(a, b, null, { M, N, K, transA, transB }), dotTol(K));
      t.dispose([at, bt, c]);
      if (bad) throw new Error(`wrong product for transA=${transA} transB=${transB}: ${bad.split('\n')[0]}`);
    }
    peers.push({ name, runner: (s) => tfRunner(t, backendName, s) });
    console.log(`peer ${name}: ready${info}${extra}`);
  } catch (e) {
    console.log(`peer ${name}: NOT AVAILABLE (${(e as Error).message.split('\n')[0]})`);
  }
}

/** n products on TF.js, then one read of the last result (the queue is in order). */
function tfRunner(t: Tf, backendName: 'webgpu' | 'wasm', s: Shape): Runner {
  const rng = new Rng(1);
  const a = t.tensor2d(rng.uniformArray(s.M * s.K), s.transA ? [s.K, s.M] : [s.M, s.K]);
  const b = t.tensor2d(rng.uniformArray(s.K * s.N), s.transB ? [s.N, s.K] : [s.K, s.N]);
  const wait = new PoliteWait();
  return async (n) => {
    await t.setBackend(backendName); // no-op when already current
    let last: import('@tensorflow/tfjs').Tensor | null = null;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const c = t.matMul(a, b, s.transA, s.transB);
      last?.dispose();
      last = c;
    }
    // Flush TF's batched commands, sleep through the work, then read (mapAsync spins a core).
    // (the three calls are what its own readback does before mapAsync)
    const be = t.backend() as { ensureCommandEncoderReady?(): void; endComputePassEncoder?(): void; submitQueue?(): void };
    if (backendName === 'webgpu' && be.ensureCommandEncoderReady && be.endComputePassEncoder && be.submitQueue) {
      be.ensureCommandEncoderReady();
      be.endComputePassEncoder();
      be.submitQueue();
    }
    await wait.after(t0, performance.now(), () => last!.data(), n);
    last!.dispose();
  };
}

await addPeer('tfjs-webgpu', 'webgpu');
await addPeer('tfjs-wasm', 'wasm');

const rows: string[][] = [];
for (const s of shapes) {
  const o = operands(sched, s);
  const cfg = matmulPlan(s, adapterKind(gpu));
  const runners = [ourRunner(sched, s, o, cfg), ...peers.map((p) => p.runner(s))];
  const times = (await timeInterleaved(runners, reps, targetMs)).map(median);
  const gf = times.map((ms) => flops(s) / ms / 1e6);
  const row = [s.name, `${cfg.variant}${cfg.variant === 'vec4' ? `_${cfg.aVecK ? 'k' : 'm'}${cfg.bVecK ? 'k' : 'n'}` : ''}`, gf[0].toFixed(2)];
  peers.forEach((_, i) => row.push(gf[i + 1].toFixed(2), (gf[0] / gf[i + 1]).toFixed(2)));
  rows.push(row);
  freeOperands(sched, o);
  process.stderr.write(`  done ${s.name}\n`);
  await sleep(0);
}
console.log(`\nGFLOP/s, median of ${reps} interleaved repetitions; ratio = ours ÷ peer (same run)`);
console.log(table(['shape', 'our kernel', 'ours', ...peers.flatMap((p) => [p.name, `ours/${p.name.replace('tfjs-', '')}`])], rows));
console.log(loadLine());
await sched.finish();
gpu.destroy();
process.exit(0); // TF.js's wasm worker threads would keep the process alive
