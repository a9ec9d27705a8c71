// `gradvar doctor`: which adapter this machine gives, its key limits, and whether every
// kernel family matches its float64 reference on it. Exit code 0 only if all match.
import { Command, Option } from 'commander';
import { requestGpu, describeGpu, NODE_BACKENDS, type Backend, type Gpu } from '../gpu/device.ts';
import { Scheduler } from '../sched/scheduler.ts';
import { kernelChecks } from '../checks/registry.ts';
import { GpuError } from '../gpu/errors.ts';

const LIMITS = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension',
] as const;

function printAdapter(gpu: Gpu): void {
  console.log(`adapter   ${describeGpu(gpu)}`);
  console.log(`backend   ${gpu.backend}   feature level: ${gpu.featureLevel}`);
  const feats = ['timestamp-query', 'shader-f16', 'subgroups'].map((f) => `${f}: ${gpu.adapter.features.has(f as GPUFeatureName) ? 'yes' : 'no'}`);
  console.log(`features  ${feats.join('   ')}`);
  for (const l of LIMITS) console.log(`  ${l.padEnd(36)} adapter ${String(gpu.adapter.limits[l]).padStart(12)}   device ${gpu.device.limits[l]}`);
}

async function runChecks(gpu: Gpu): Promise<number> {
  const sched = new Scheduler(gpu);
  let failed = 0;
  const checks = kernelChecks();
  for (const c of checks) {
    const t0 = performance.now();
    let failure: string | null;
    try {
      failure = (await c.run(sched)).failure;
    } catch (e) {
      failure = (e as Error).message;
    }
    const ms = (performance.now() - t0).toFixed(0).padStart(5);
    console.log(`  ${failure ? 'FAIL' : 'ok  '} ${ms} ms  ${c.name}${failure ? '\n' + failure.replace(/^/gm, '        ') : ''}`);
    if (failure) failed++;
  }
  console.log(`${checks.length - failed} passed, ${failed} failed (${gpu.backend})`);
  return failed;
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('show the WebGPU adapter and check every kernel family against its float64 reference')
    .addOption(new Option('--backend <name>', 'use this backend (default: GRADVAR_BACKEND, else the best available)').choices(NODE_BACKENDS.filter((b) => b !== 'null')))
    .option('--all-backends', 'check every backend that has an adapter here (vulkan, opengl)')
    .action(async (opts: { backend?: Backend; allBackends?: boolean }) => {
      const backends: Array<Backend | undefined> = opts.allBackends ? ['vulkan', 'opengl'] : [opts.backend];
      let failed = 0;
      let ran = 0;
      for (const b of backends) {
        let gpu: Gpu;
        try {
          gpu = await requestGpu({ backend: b });
        } catch (e) {
          if (e instanceof GpuError && opts.allBackends) {
            console.log(`${b}: no adapter here, skipped`);
            continue;
          }
          throw e;
        }
        ran++;
        printAdapter(gpu);
        try {
          failed += await runChecks(gpu);
        } finally {
          gpu.destroy();
        }
      }
      if (ran === 0) throw new GpuError('no-adapter', 'no backend had an adapter');
      process.exitCode = failed === 0 ? 0 : 1;
    });
}
