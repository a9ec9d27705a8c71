// Matmul workbench: checks every variant against the float64 reference, then prints GFLOP/s
// (median of --reps timed repetitions after a warm-up; each repetition records many
// dispatches and waits once; the variants' repetitions are interleaved) for square products and the paper MLP's products at B = 128.
//
//   npx tsx scripts/bench/matmul.ts [--backend opengl|vulkan|...] [--reps 7]
//       [--variants vec4,tiled,naive] [--wg 8x8,16x4] [--tilek 16] [--shapes 1024,fwd] [--ms 250]
//
// --wg benchmarks the given workgroup shapes as extra columns instead of the tuned one
// (MATMUL_TUNING in src/kernels/matmul.ts); 'naive' only runs on shapes up to 512².
import { requestGpu, describeGpu, type Backend } from '../../src/gpu/device.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import { matmulCheck, type MatmulCase } from '../../src/checks/matmul.ts';
import {
  adapterKind, MATMUL_TUNING, MATMUL_KERNEL_VARIANTS, vec4Layout, matmulStrides,
  type MatmulConfig, type MatmulKernelVariant,
} from '../../src/kernels/matmul.ts';
import { SHAPES, flags, median, timeInterleaved, operands, freeOperands, ourRunner, table, flops, layoutOf, loadLine, type Shape } from './common.ts';

const f = flags();
const reps = Number(f.reps ?? 7);
const targetMs = Number(f.ms ?? 250);
const variants = (f.variants ?? MATMUL_KERNEL_VARIANTS.join(',')).split(',') as MatmulKernelVariant[];
for (const v of variants) if (!MATMUL_KERNEL_VARIANTS.includes(v)) throw new Error(`unknown variant '${v}'`);
const shapes = f.shapes ? SHAPES.filter((s) => f.shapes.split(',').some((p) => s.name.includes(p))) : SHAPES;

const gpu = await requestGpu({ backend: f.backend as Backend | undefined });
const sched = new Scheduler(gpu);
const kind = adapterKind(gpu);
const wgs = (f.wg ? f.wg.split(',') : [`${MATMUL_TUNING[kind].wgX}x${MATMUL_TUNING[kind].wgY}`]).map((w) => {
  const [wgX, wgY] = w.split('x').map(Number);
  if (!(wgX > 0 && wgY > 0 && wgX * wgY <= 256)) throw new Error(`bad --wg '${w}'`);
  return { wgX, wgY };
});
const tileK = Number(f.tilek ?? MATMUL_TUNING[kind].tileK);
console.log(`adapter: ${describeGpu(gpu)}  [tuning row '${kind}': ${JSON.stringify(MATMUL_TUNING[kind])}]`);
console.log(loadLine());

// 1. Correctness first: a variant that fails any check gets no figures.
const checkCases = (v: MatmulKernelVariant): MatmulCase[] => {
  const cases: MatmulCase[] = [];
  for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
    cases.push({ M: 36, N: 28, K: 52, transA, transB, variant: v }); // every vec4 layout allows these
    if (v !== 'vec4') cases.push({ M: 37, N: 29, K: 53, transA, transB, variant: v });
  }
  cases.push({ M: 68, N: 132, K: 100, transB: true, bias: true, relu: true, variant: v });
  cases.push({ M: 20, N: 16, K: 12, transA: true, beta: 0.5, alpha: -2, variant: v });
  return cases;
};
const failed = new Map<MatmulKernelVariant, string>();
for (const v of variants) {
  for (const c of checkCases(v)) {
    const r = await matmulCheck(c, 7).run(sched);
    if (r.failure) { failed.set(v, `${r.name}: ${r.failure.split('\n')[0]}`); break; }
  }
  console.log(`check ${v.padEnd(5)}: ${failed.has(v) ? 'FAILED ' + failed.get(v) : `ok (${checkCases(v).length} cases vs float64 reference)`}`);
}

// 2. Timings.
const cols: Array<{ label: string; cfg: (s: Shape) => MatmulConfig | null }> = [];
for (const v of variants) {
  if (failed.has(v)) continue;
  for (const { wgX, wgY } of v === 'naive' ? [{ wgX: 16, wgY: 16 }] : wgs) {
    cols.push({
      label: v === 'naive' || wgs.length === 1 ? v : `${v} ${wgX}x${wgY}`,
      cfg: (s) => {
        if (v === 'naive' && s.M * s.N * s.K > 512 ** 3) return null;
        const layout = vec4Layout({ M: s.M, N: s.N, K: s.K, ...matmulStrides(s) });
        if (v === 'vec4' && !layout) return null;
        return { variant: v, wgX, wgY, ...(v === 'vec4' ? { ...layout!, tileK } : {}) };
      },
    });
  }
}
const rows: string[][] = [];
for (const s of shapes) {
  const o = operands(sched, s);
  const row = [s.name, `${s.M}×${s.K}·${s.K}×${s.N}`];
  const live = cols.map((c) => c.cfg(s));
  const runners = live.flatMap((cfg) => (cfg ? [ourRunner(sched, s, o, cfg)] : []));
  const times = await timeInterleaved(runners, reps, targetMs);
  for (const cfg of live) {
    if (!cfg) { row.push('—'); continue; }
    const med = median(times.shift()!);
    row.push(`${(flops(s) / med / 1e6).toFixed(2)} (${med.toFixed(med < 10 ? 2 : 1)} ms)`);
  }
  freeOperands(sched, o);
  rows.push(row);
  process.stderr.write(`  done ${s.name} (${layoutOf(s)})\n`);
}
console.log(`\nGFLOP/s, median of ${reps} repetitions (ms per matmul in brackets); '—' = not run for that shape`);
console.log(table(['shape', 'M×K·K×N', ...cols.map((c) => c.label)], rows));
await sched.finish(); // raises any validation error the timed submissions caused
for (const [v, why] of failed) console.log(`no figures for '${v}': ${why}`);
console.log(loadLine());
gpu.destroy();
