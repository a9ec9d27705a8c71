// The browser page: gets a WebGPU device through navigator.gpu (the same requestGpu() that
// Node uses, minus Dawn), runs every check the registry returns on it and shows the verdicts.
// The results live on window.__gradvarResults (see results.ts) for the test driver, and every
// step is logged to the console with LOG_PREFIX. Failures never vanish: a check that throws is
// a failed check, and a page-level error (no WebGPU, no adapter, an uncaught exception) is
// shown on the page, logged, and ends the run with `error` set.
import { requestGpu, describeGpu } from '../gpu/device.ts';
import { GpuError } from '../gpu/errors.ts';
import { Scheduler } from '../sched/scheduler.ts';
import { kernelChecks } from '../checks/registry.ts';
import type { KernelCheck } from '../checks/check.ts';
import { LOG_PREFIX, type WebResults } from './results.ts';
import { ChecksView } from './view.ts';

const started = performance.now();
const results: WebResults = { adapter: null, results: [], error: null, done: false, totalMs: null };
window.__gradvarResults = results;
const view = new ChecksView();

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

function finish(): void {
  if (results.done) return;
  results.totalMs = performance.now() - started;
  results.done = true;
  view.showSummary(results);
  const passed = results.results.filter((r) => r.status === 'pass').length;
  const failed = results.results.filter((r) => r.status === 'fail').length;
  console.log(`${LOG_PREFIX} done: ${passed} passed, ${failed} failed${results.error ? ' (page error)' : ''}`);
}

/** Records a page-level error (the first one wins) and ends the run. */
function failPage(e: unknown): void {
  let message = messageOf(e);
  if (e instanceof GpuError && e.kind === 'no-adapter') {
    // What a person looking at the page most likely needs to know.
    message += ' — WebGPU must be enabled: recent Chrome/Edge on Windows, macOS and ChromeOS have it; ' +
      'on Linux start Chromium with --enable-unsafe-webgpu.';
  }
  results.error ??= message;
  view.showError(message);
  console.error(`${LOG_PREFIX} error: ${message}`);
  finish();
}

// Errors that escape every await (e.g. in a WebGPU callback) still end up on the page.
window.addEventListener('error', (ev) => failPage(ev.error ?? ev.message));
window.addEventListener('unhandledrejection', (ev) => failPage(ev.reason));

/** Runs the checks one after another; a check that throws counts as failed, and the rest run. */
async function runChecks(sched: Scheduler, checks: KernelCheck[]): Promise<void> {
  for (const [i, check] of checks.entries()) {
    const r = results.results[i];
    r.status = 'running';
    view.updateCheck(i, r);
    view.showStatus(`running ${i + 1}/${checks.length}: ${check.name}`);
    const t0 = performance.now();
    try {
      r.failure = (await check.run(sched)).failure;
    } catch (e) {
      r.failure = `threw: ${messageOf(e)}`;
    }
    r.ms = performance.now() - t0;
    r.status = r.failure === null ? 'pass' : 'fail';
    view.updateCheck(i, r);
    const verdict = r.status === 'pass' ? 'PASS' : `FAIL ${r.failure}`;
    console.log(`${LOG_PREFIX} ${verdict} ${check.name} (${r.ms.toFixed(0)} ms)`);
  }
}

async function main(): Promise<void> {
  view.showStatus('requesting a WebGPU device…');
  const gpu = await requestGpu();
  results.adapter = describeGpu(gpu);
  view.showAdapter(results.adapter);
  console.log(`${LOG_PREFIX} adapter: ${results.adapter}`);

  const checks = kernelChecks();
  results.results = checks.map((c) => ({ name: c.name, status: 'pending', failure: null, ms: null }));
  view.setChecks(results.results);
  await runChecks(new Scheduler(gpu), checks);
  finish();
}

main().catch(failPage);
