// The batch plumbing every gradient engine shares (the MLP's MlpGrad, the ResNets'
// ResNetGrad): per-batch-size input and output buffers, the fused softmax + cross-entropy
// between a model's forward and backward, and compute() = check sizes, upload, record, submit.
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { badInput } from '../gpu/errors.ts';
import { softmaxXent } from '../kernels/softmax_xent.ts';
import type { TrainableEngine, GradOptions, BatchIo } from '../models/grad_engine.ts';

/** The buffers of one batch size: x [B, inputSize], y, w, per-example loss and correct [B]. */
export function allocBatchIo(sched: Scheduler, B: number, inputSize: number): BatchIo {
  return {
    x: sched.alloc(B * inputSize, 'batch.x'), y: sched.alloc(B, 'batch.y'), w: sched.alloc(B, 'batch.w'),
    loss: sched.alloc(B, 'batch.loss'), correct: sched.alloc(B, 'batch.correct'),
  };
}

/** Records the (weighted, smoothed) mean cross-entropy of logits [B, K] against io.y: the
 *  per-example loss and correctness into io, dlogits = dscale·w·(p − q) (default 1/B). */
export function recordLoss(sched: Scheduler, io: BatchIo, logits: View, dlogits: View, B: number, K: number, o: GradOptions): void {
  softmaxXent(
    sched,
    { logits, labels: io.y, weights: o.weights ? io.w : undefined, loss: io.loss, correct: io.correct, dlogits },
    { B, K, smoothing: o.labelSmoothing ?? 0, dscale: o.dscale ?? 1 / B },
  );
}

/** What every engine's compute() does: checks the sizes (one clear error naming `where`),
 *  uploads x, y (and the weights) into buffers(B), records forward + loss + backward, and
 *  submits (the next upload must not overtake it). */
export function computeBatch(sched: Scheduler, e: TrainableEngine, x: Float32Array, y: Uint32Array, o: GradOptions, where: string): BatchIo {
  const B = y.length;
  if (x.length !== B * e.inputSize) badInput(where, `x holds ${x.length} floats, ${B} examples of ${e.inputSize} need ${B * e.inputSize}`);
  if (o.weights && o.weights.length !== B) badInput(where, `weights hold ${o.weights.length} values for ${B} examples`);
  const io = e.buffers(B);
  sched.upload(io.x, x);
  sched.upload(io.y, y);
  if (o.weights) sched.upload(io.w, o.weights);
  e.recordFromUploaded(B, o);
  sched.submit();
  return io;
}

