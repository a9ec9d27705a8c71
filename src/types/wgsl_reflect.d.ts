// wgsl_reflect ships its types at the package root; Node must import the ES module file
// directly (its "main" is not resolvable as ESM), so point that path at the same types.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
