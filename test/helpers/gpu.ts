// The one device every GPU test shares. Its backend comes from GRADVAR_BACKEND (the test
// runner sets it per pass); no adapter is a failure, never a skip.
import { requestGpu, describeGpu, type Gpu } from '../../src/gpu/device.ts';
import { Scheduler } from '../../src/sched/scheduler.ts';
import type { KernelCheck } from '../../src/checks/check.ts';

let shared: Promise<{ gpu: Gpu; sched: Scheduler }> | null = null;

export function testGpu(): Promise<{ gpu: Gpu; sched: Scheduler }> {
  shared ??= requestGpu().then((gpu) => {
    if (!process.env.GRADVAR_QUIET) console.log(`  [gpu] ${describeGpu(gpu)}`);
    return { gpu, sched: new Scheduler(gpu) };
  });
  return shared;
}

/** Runs a kernel check on the shared device and throws its mismatch report. */
export async function expectPass(check: KernelCheck): Promise<void> {
  const { sched } = await testGpu();
  const r = await check.run(sched);
  if (r.failure) throw new Error(`${r.name}\n${r.failure}`);
}
