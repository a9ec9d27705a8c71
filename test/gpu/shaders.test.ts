// Every entry point of every shader compiles with zero errors and zero warnings, on the
// validation-only null adapter and on the real test adapter; every kernel descriptor
// agrees with its WGSL (bindings, access, Params layout, overrides) and makes a pipeline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testGpu } from '../helpers/gpu.ts';
import { requestGpu, type Gpu } from '../../src/gpu/device.ts';
import { SHADERS, type ShaderName } from '../../src/gpu/shader_source.ts';
import { allKernels } from '../../src/kernels/all.ts';
import { descriptorMismatches, entryPoints } from '../../src/gpu/shader_reflect.ts';
import { PipelineCache } from '../../src/gpu/pipeline_cache.ts';

const shaders = Object.keys(SHADERS) as ShaderName[];
const kernels = allKernels();

async function compileAll(gpu: Gpu, where: string) {
  for (const s of shaders) {
    const mod = gpu.device.createShaderModule({ code: SHADERS[s], label: s });
    const info = await mod.getCompilationInfo();
    const msgs = info.messages.map((m) => `${m.type} shaders/${s}.wgsl:${m.lineNum} ${m.message}`);
    assert.equal(msgs, [], `${where}: shaders/${s}.wgsl has compiler messages`);
  }
  const cache = new PipelineCache(gpu.device);
  for (const k of kernels) {
    try {
      await cache.compile(k);
    } catch (e) {
      assert.unreachable(`${where}: pipeline for ${k.name} failed: ${(e as Error).message}`);
    }
  }
}

test('every shader and kernel pipeline compiles on the null (validation) adapter', async () => {
  const gpu = await requestGpu({ backend: 'null' });
  try {
    await compileAll(gpu, 'null');
  } finally {
    gpu.destroy();
  }
});

test('every shader and kernel pipeline compiles on the test adapter', async () => {
  const { gpu } = await testGpu();
  await compileAll(gpu, gpu.backend);
});

test('every kernel descriptor matches its WGSL (bindings, access, Params, overrides)', () => {
  const problems = kernels.flatMap((k) => descriptorMismatches(k).map((m) => `${k.name}: ${m}`));
  assert.equal(problems, []);
});

test('every compute entry point has at least one kernel descriptor', () => {
  const covered = new Set(kernels.map((k) => `${k.shader}:${k.entryPoint}`));
  const orphans = shaders.flatMap((s) => entryPoints(s).map((e) => `${s}:${e}`)).filter((e) => !covered.has(e));
  assert.equal(orphans, []);
});

test('the checks above can fail: a wrong descriptor and broken WGSL are reported', async () => {
  const k = kernels.find((x) => x.shader === 'matmul')!;
  const wrong = { ...k, bindings: k.bindings.map((b) => (b.name === 'C' ? { ...b, access: 'read' as const } : b)), params: k.params.slice(1) };
  const problems = descriptorMismatches(wrong);
  assert.ok(problems.some((p) => p.includes("'C' is read_write in WGSL")), problems.join('; '));
  assert.ok(problems.some((p) => p.startsWith('Params in WGSL')), problems.join('; '));
  const { gpu } = await testGpu();
  gpu.device.pushErrorScope('validation');
  const mod = gpu.device.createShaderModule({ code: '@compute @workgroup_size(1) fn f() { let x: u32 = 1.5; }' });
  const info = await mod.getCompilationInfo();
  await gpu.device.popErrorScope();
  assert.ok(info.messages.some((m) => m.type === 'error' && m.lineNum === 1), 'a type error gives a located message');
});

test('kernel names are unique and pipeline keys ignore shapes', () => {
  const names = kernels.map((k) => k.name);
  assert.is(new Set(names).size, names.length);
  assert.not.match(PipelineCache.keyOf(kernels[0]), /M=|N=|K=/);
});

test.run();
