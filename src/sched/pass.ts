// A recorded pass is plain data: what to run, on which views, with which ring slot.
import type { Kernel, View } from '../kernels/kernel.ts';
import type { CompiledKernel } from '../gpu/pipeline_cache.ts';

export type Pass =
  | {
      readonly kind: 'dispatch';
      readonly kernel: Kernel<any>;
      readonly compiled: CompiledKernel;
      readonly views: View[];
      /** byte offset of this dispatch's Params in the uniform ring */
      readonly ringOffset: number;
      readonly groups: [number, number, number];
    }
  | { readonly kind: 'copy'; readonly src: View; readonly dst: View };
