// What the estimators, Gradient Clustering and the variance meter need from a model: its
// parameter buffers, a mean-loss (or weighted) gradient of a batch, and, for every layer that
// GC clusters, the layer's input and output-gradient tensors of the last batch. The MLP
// (src/run/mlp_grad.ts) and the ResNets (src/models/resnet.ts) implement it, so SG-B, SG-2B,
// SVRG, GC and the Monte Carlo statistics are written once.
import type { View } from '../kernels/kernel.ts';
import type { ParamLayout } from './param_layout.ts';

/** Parameters, their gradient and SGD momenta: three flat buffers in one layout. */
export interface ParamBuffers {
  readonly layout: ParamLayout;
  readonly params: View;
  readonly grads: View;
  readonly momenta: View;
}

/** Spatial geometry of a clustered conv layer (NCHW input [B, Cin, H, W], weight
 *  [Cout, Cin, kh, kw], zero padding). */
export interface ConvLayerShape {
  Cin: number; H: number; W: number; Cout: number; kh: number; kw: number; stride: number; pad: number;
}

/** A layer GC clusters (its weight only: biases, BN and frozen layers are not clustered,
 *  SPEC 7.5). For a Linear layer din/dout are its widths and the factors are [B, din] inputs
 *  and [B, dout] output gradients; for a conv layer din = Cin·kh·kw, dout = Cout, and the
 *  factors are the NCHW input [B, Cin, H, W] and output gradient [B, Cout, Ho, Wo]. */
export interface ClusteredLayer {
  readonly name: string;
  readonly din: number;
  readonly dout: number;
  readonly conv?: ConvLayerShape;
}

export interface GradOptions {
  /** per-example loss weights (GC's M·N_k/N); default: none (all 1) */
  weights?: Float32Array;
  /** dlogits = dscale·w·(p − q); default 1/B: the gradient of the mean loss */
  dscale?: number;
  labelSmoothing?: number;
  /** false: form every layer's output gradient but not model.grads (default true) */
  paramGrads?: boolean;
}

export interface GradEngine {
  readonly model: ParamBuffers;
  /** the layers GC clusters, in the order layerFactors indexes them */
  readonly clustered: readonly ClusteredLayer[];
  /** Records and submits forward + loss + backward of (x, y) (x in the model's input layout,
   *  B = y.length rows); model.grads then holds the gradient unless paramGrads is false. */
  compute(x: Float32Array, y: Uint32Array, o?: GradOptions): void;
  /** Clustered layer l's input and output-gradient tensors after the last compute at B. */
  layerFactors(B: number, l: number): { A: View; G: View };
  /** A new engine of the same architecture with its own buffers (SVRG's snapshot model). */
  sibling(): GradEngine;
  /** BatchNorm models: 'eval' uses running statistics (GC passes, SPEC 7.13); others ignore it. */
  setMode?(mode: 'train' | 'eval'): void;
  destroy(): void;
}

/** Per-batch-size host→GPU inputs and per-example outputs (made once per B, kept). */
export interface BatchIo {
  readonly x: View;
  readonly y: View;
  readonly w: View;
  /** per-example loss (weighted) and argmax == label, of the last computation at this B */
  readonly loss: View;
  readonly correct: View;
}

/** What a trainer and an evaluator need on top of a gradient: the batch buffers, recording
 *  without upload or submit, and the forward pass alone. */
export interface TrainableEngine extends GradEngine {
  /** number of classes K and floats per input example */
  readonly classes: number;
  readonly inputSize: number;
  buffers(B: number): BatchIo;
  /** compute() on inputs already in buffers(B): records, does not upload or submit */
  recordFromUploaded(B: number, o?: GradOptions): void;
  /** records the forward pass of x [B, inputSize] and returns the logits view [B, K] */
  forward(x: View, B: number): View;
  /** where the loss kernel writes dlogits for batch B */
  dlogits(B: number): View;
  /** the largest batch evaluate() should use (activation memory); a multiple of 64 */
  readonly evalBatch?: number;
  sibling(): TrainableEngine;
  /** Engine state beyond the parameters that a run checkpoint must keep (augmentation Rng,
   *  BatchNorm running statistics); engines without any leave these out. */
  saveState?(): Promise<EngineState>;
  loadState?(s: EngineState): void;
}

/** JSON-safe metadata and named flat tensors. */
export interface EngineState { meta: unknown; tensors: Record<string, Float32Array> }
