import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { minifyWgsl } from '../../src/gpu/wgsl_minify.ts';

test('minify strips line, block and nested comments', () => {
  assert.is(minifyWgsl('let a = 1; // one\n/* two /* three */ */ let b = 2;'), 'let a=1;\nlet b=2;');
});
test('minify never fuses two tokens into an operator', () => {
  assert.is(minifyWgsl('var x : vec4<f32> = v;'), 'var x:vec4<f32> =v;');
  assert.is(minifyWgsl('let y = a - -b;'), 'let y=a- -b;');
  assert.is(minifyWgsl('let z = a < = b;'), 'let z=a< =b;');
});
test('minify keeps the space after a minus followed by a number (wgsl_reflect reads `]-2.0` as a literal)', () => {
  assert.is(minifyWgsl('let v = a[k] - 2.0 * b;'), 'let v=a[k]- 2.0*b;');
  assert.is(minifyWgsl('let u = a[k] - -2.0;'), 'let u=a[k]- -2.0;');
  assert.is(minifyWgsl('let w = a - b;'), 'let w=a-b;');
});
test('minify keeps a space between words', () => {
  assert.is(minifyWgsl('fn  main ( )\n{ return ; }'), 'fn main()\n{return;}');
});
test('minify keeps line numbers: line n of the output is line n of the source', () => {
  const src = '// header\n/* block\n   over lines */\nfn f() {\n\n  let q = 1;  // x\n}\n';
  const out = minifyWgsl(src).split('\n');
  assert.is(out[3], 'fn f(){');
  assert.is(out[5], 'let q=1;');
  assert.is(out[6], '}');
});
test.run();
