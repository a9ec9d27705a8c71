import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { renderShaderModule } from '../../scripts/embed_shaders.ts';

test('src/gpu/shader_source.ts is up to date with shaders/*.wgsl (run `npm run embed`)', () => {
  const current = readFileSync(new URL('../../src/gpu/shader_source.ts', import.meta.url), 'utf8');
  assert.ok(current === renderShaderModule(), 'shader_source.ts is stale: run `npm run embed`');
});
test.run();
