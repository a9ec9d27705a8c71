// One error type for everything that goes wrong on or on the way to the GPU, so a caller
// (and a user reading a terminal) sees what failed and in which kernel, never a bare Dawn dump.

export type GpuErrorKind =
  | 'no-adapter' // no WebGPU adapter could be created
  | 'validation' // WebGPU validation error (bad binding, bad dispatch, shader compile)
  | 'out-of-memory'
  | 'internal'
  | 'device-lost'
  | 'bad-input'; // caught in TypeScript before anything reached the GPU

export class GpuError extends Error {
  constructor(
    readonly kind: GpuErrorKind,
    message: string,
    readonly kernel?: string,
  ) {
    super(kernel ? `${kind} in kernel '${kernel}': ${message}` : `${kind}: ${message}`);
    this.name = 'GpuError';
  }
}

/** Throws a 'bad-input' GpuError naming the kernel (or function) and what is wrong. */
export function badInput(where: string, what: string): never {
  throw new GpuError('bad-input', what, where);
}
