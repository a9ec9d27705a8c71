// The test command (`npm test`): CPU-only suites (test/unit) once, then the GPU suites
// (test/gpu) once per backend, each in its own process with GRADVAR_BACKEND set.
//   GRADVAR_TEST_BACKENDS=opengl,vulkan  the backends that must run (CI sets it; a missing
//                                        adapter is then a failure, never a skip)
//   default                              every backend that has an adapter here; none is a failure
// Ends with one line `N passed, N failed`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { requestGpu, type Backend } from '../src/gpu/device.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const uvu = join(root, 'node_modules/uvu/bin.js');
const inCI = process.env.CI === 'true' || process.env.CI === '1';
const filter = process.argv[2]; // optional file-name pattern, e.g. `npm test -- matmul`

interface Tally { passed: number; failed: number; skipped: number }

function runSuite(dir: string, env: Record<string, string>, label: string): Promise<Tally> {
  return new Promise((resolve) => {
    const args = ['--import', 'tsx', uvu, dir, filter ? `${filter}.*\\.test\\.ts$` : '\\.test\\.ts$'];
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (chunk: Buffer, sink: NodeJS.WriteStream) => {
      const s = chunk.toString();
      out += s;
      // Dawn prints adapter-limit notices on stderr at device creation: noise, not failures.
      sink.write(s.split('\n').filter((l) => !/artificially reduced|Couldn't load Vulkan|BackendVk\.cpp/.test(l)).join('\n'));
    };
    child.stdout.on('data', (c) => keep(c, process.stdout));
    child.stderr.on('data', (c) => keep(c, process.stderr));
    child.on('close', (code) => {
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const num = (k: string) => Number(plain.match(new RegExp(`${k}:\\s+(\\d+)`))?.[1] ?? NaN);
      const total = num('Total'), passed = num('Passed'), skipped = num('Skipped');
      if (Number.isNaN(total)) {
        console.log(`[${label}] suite crashed before reporting (exit ${code})`);
        resolve({ passed: 0, failed: 1, skipped: 0 });
        return;
      }
      const failed = total - passed - skipped + (code !== 0 && total === passed + skipped ? 1 : 0);
      resolve({ passed, failed, skipped });
    });
  });
}

async function availableBackends(): Promise<Backend[]> {
  const wanted = process.env.GRADVAR_TEST_BACKENDS;
  if (wanted) return wanted.split(',').map((s) => s.trim()).filter(Boolean) as Backend[];
  const found: Backend[] = [];
  for (const b of ['vulkan', 'opengl'] as Backend[]) {
    try {
      const gpu = await requestGpu({ backend: b });
      gpu.destroy();
      found.push(b);
    } catch {
      console.log(`(no ${b} adapter here; its GPU suites are not run: see README "Test matrix")`);
    }
  }
  return found;
}

const total: Tally = { passed: 0, failed: 0, skipped: 0 };
const add = (t: Tally) => { total.passed += t.passed; total.failed += t.failed; total.skipped += t.skipped; };

console.log('== unit (CPU) suites');
add(await runSuite('test/unit', {}, 'unit'));
const backends = await availableBackends();
if (backends.length === 0) {
  console.log('No WebGPU adapter at all: GPU suites cannot run. Run `npx gradvar doctor` for what to install.');
  total.failed++;
}
for (const b of backends) {
  console.log(`== GPU suites on ${b}`);
  add(await runSuite('test/gpu', { GRADVAR_BACKEND: b }, b));
}
if (inCI && total.skipped > 0) {
  console.log(`${total.skipped} tests skipped: CI allows none`);
  total.failed += total.skipped;
}
console.log(`\n${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed === 0 ? 0 : 1);
