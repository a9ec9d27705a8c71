// One SGD step of any model (a TrainableEngine: the MLP, the ResNets) on the GPU, as recorded
// passes: upload the batch, forward, fused softmax + cross-entropy (per-example loss,
// correctness and dlogits in one pass), backward, torch.optim.SGD update — then one submit. Nothing waits inside a step; the per-example
// loss and correctness of the last step stay on the GPU until someone asks for them.
// Environment-agnostic: the Node CLI and the browser page drive the same trainer.
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { softmaxXent } from '../kernels/softmax_xent.ts';
import { sgd } from '../kernels/sgd.ts';
import type { TrainableEngine, ParamBuffers } from '../models/grad_engine.ts';
import type { Dataset } from '../data/dataset.ts';
import { gather } from '../data/batches.ts';

export interface SgdHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
  /** iterations at which the learning rate is multiplied by lrDecay */
  milestones: readonly number[];
  lrDecay: number;
  labelSmoothing: number;
}

/** The paper's MNIST MLP settings (SPEC 4.2): lr 0.02, momentum 0.5, wd 5e-4, constant lr. */
export const PAPER_MNIST_SGD: SgdHyper = { lr: 0.02, momentum: 0.5, weightDecay: 5e-4, milestones: [], lrDecay: 0.1, labelSmoothing: 0 };

/** Eval batches are 1024 rows (or the engine's evalBatch, a multiple of 64) so each batch's
 *  outputs start at a 64-element boundary. */
const EVAL_BATCH = 1024;

export interface LossAcc { loss: number; acc: number }

export class Trainer<E extends TrainableEngine = TrainableEngine> {
  /** torch.optim.SGD creates momentum buffers on the first step; until then buf = d. */
  momentumStarted = false;
  private lastB = 0;

  /** grad: the gradient engine, shared with estimator draws and statistics passes; the
   *  trainer owns it (destroy() destroys it). */
  constructor(protected readonly sched: Scheduler, readonly grad: E, readonly hyper: SgdHyper) {}

  get params(): ParamBuffers {
    return this.grad.model;
  }

  /** lr0 · decay^(milestones passed), milestones counted in completed iterations. */
  lrAt(iter: number): number {
    return this.hyper.lr * this.hyper.lrDecay ** this.hyper.milestones.filter((m) => iter >= m).length;
  }

  /** Records and submits one SGD step on (x [B, inputDim], y [B]) at iteration `iter`
   *  (completed steps before this one, which sets the learning rate). */
  step(x: Float32Array, y: Uint32Array, iter: number): void {
    const B = y.length;
    const io = this.grad.buffers(B);
    this.sched.upload(io.x, x);
    this.sched.upload(io.y, y);
    this.grad.recordFromUploaded(B, { labelSmoothing: this.hyper.labelSmoothing });
    const m = this.grad.model;
    sgd(this.sched, { p: m.params, g: m.grads, buf: m.momenta }, {
      n: m.layout.total, lr: this.lrAt(iter), momentum: this.hyper.momentum, dampening: 0,
      weightDecay: this.hyper.weightDecay, nesterov: false, first: !this.momentumStarted,
    });
    this.momentumStarted = true;
    this.lastB = B;
    this.sched.submit();
  }

  /** Mean loss and accuracy of the last step's batch (reads 2·B floats back). */
  async lastBatch(): Promise<LossAcc> {
    const io = this.grad.buffers(this.lastB);
    const [loss, correct] = [await this.sched.read(io.loss), await this.sched.read(io.correct)];
    return { loss: mean(loss), acc: mean(correct) };
  }

  /** Loss and accuracy over a whole dataset: every batch's outputs land in one buffer pair,
   *  read back once at the end. */
  async evaluate(ds: Dataset): Promise<LossAcc> {
    const loss = this.sched.alloc(ds.n, 'eval.loss');
    const correct = this.sched.alloc(ds.n, 'eval.correct');
    try {
      const step = this.grad.evalBatch ?? EVAL_BATCH;
      for (let start = 0; start < ds.n; start += step) {
        const B = Math.min(step, ds.n - start);
        const io = this.grad.buffers(B);
        if (ds.rowIndex) {
          const g = gather(ds, Uint32Array.from({ length: B }, (_, j) => start + j));
          this.sched.upload(io.x, g.x);
          this.sched.upload(io.y, g.y);
        } else {
          this.sched.upload(io.x, ds.x.subarray(start * ds.dim, (start + B) * ds.dim));
          this.sched.upload(io.y, ds.y.subarray(start, start + B));
        }
        const logits = this.grad.forward(io.x, B);
        const at = (v: View) => ({ buffer: v.buffer, offset: v.offset + start, length: B });
        softmaxXent(this.sched, { logits, labels: io.y, loss: at(loss), correct: at(correct), dlogits: this.grad.dlogits(B) }, { B, K: this.grad.classes });
        // The next batch's upload must not overtake this batch's passes: submit now.
        this.sched.submit();
      }
      return { loss: mean(await this.sched.read(loss)), acc: mean(await this.sched.read(correct)) };
    } finally {
      this.sched.free(loss);
      this.sched.free(correct);
    }
  }

  async readParams(): Promise<Float32Array> {
    return this.sched.read(this.grad.model.params);
  }
  async readMomenta(): Promise<Float32Array> {
    return this.sched.read(this.grad.model.momenta);
  }
  loadParams(flat: Float32Array): void {
    this.sched.upload(this.grad.model.params, flat);
  }
  loadMomenta(flat: Float32Array): void {
    this.sched.upload(this.grad.model.momenta, flat);
    this.momentumStarted = true;
  }

  destroy(): void {
    this.grad.destroy();
  }
}

function mean(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}
