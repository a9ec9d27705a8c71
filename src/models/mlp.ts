// The paper's MNIST MLP (SPEC 3.1): 784 → 1024 → 1024 → 10 with ReLU, no dropout; hidden
// widths configurable. Parameters in PyTorch's layout and names (fc1.weight [out, in],
// fc1.bias [out], ..., the last layer named fc4 for the paper's 3-layer model as in its
// code, else fc{L}), in one flat buffer; gradients and momenta in two more with the same
// layout. Forward and backward only record passes on the scheduler: nothing here waits.
import type { Scheduler } from '../sched/scheduler.ts';
import type { View } from '../kernels/kernel.ts';
import { matmul } from '../kernels/matmul.ts';
import { reluBackward } from '../kernels/elementwise.ts';
import { colsum } from '../kernels/reduce.ts';
import { ParamLayout } from './param_layout.ts';
import { Rng } from '../util/rng.ts';

export interface MlpConfig {
  readonly inputDim: number;
  readonly hidden: readonly number[];
  readonly classes: number;
}

export interface LinearSpec { readonly name: string; readonly din: number; readonly dout: number }

/** Layer names: fc1, fc2, ..., and the paper's code names its last layer fc4 (fc3 was
 *  commented out), so a 2-hidden-layer model keeps that name for checkpoint parity. */
export function mlpLayers(cfg: MlpConfig): LinearSpec[] {
  const dims = [cfg.inputDim, ...cfg.hidden, cfg.classes];
  return dims.slice(1).map((dout, l) => {
    const last = l === dims.length - 2;
    const name = last && cfg.hidden.length === 2 ? 'fc4' : `fc${l + 1}`;
    return { name, din: dims[l], dout };
  });
}

export function mlpLayout(cfg: MlpConfig): ParamLayout {
  return new ParamLayout(mlpLayers(cfg).flatMap((L) => [
    { name: `${L.name}.weight`, shape: [L.dout, L.din] },
    { name: `${L.name}.bias`, shape: [L.dout] },
  ]));
}

/** PyTorch's default Linear init: kaiming_uniform(a=√5) gives W ~ U(±1/√fan_in); the
 *  bias is U(±1/√fan_in) too. Drawn layer by layer, weight then bias, from `rng`. */
export function initMlpParams(cfg: MlpConfig, rng: Rng): Float32Array {
  const layout = mlpLayout(cfg);
  const flat = new Float32Array(layout.total);
  for (const L of mlpLayers(cfg)) {
    const bound = 1 / Math.sqrt(L.din);
    for (const t of ['weight', 'bias']) {
      const e = layout.entry(`${L.name}.${t}`);
      for (let i = 0; i < e.length; i++) flat[e.offset + i] = (2 * rng.uniform() - 1) * bound;
    }
  }
  return flat;
}

/** Activation memory for one batch size: h[l] is layer l's output (ReLU applied for hidden
 *  layers, raw logits for the last), dz[l] the gradient w.r.t. layer l's pre-activation,
 *  dh the gradient w.r.t. a hidden output before the ReLU mask (scratch, widest layer).
 *  Each in its own buffer: a dispatch may not read and write one buffer. */
export interface MlpWorkspace {
  readonly batch: number;
  readonly h: View[];
  readonly dz: View[];
  readonly dh: View;
}

export class Mlp {
  readonly layers: LinearSpec[];
  readonly layout: ParamLayout;
  readonly params: View;
  readonly grads: View;
  readonly momenta: View;
  private readonly workspaces = new Map<number, MlpWorkspace>();

  constructor(private readonly sched: Scheduler, readonly cfg: MlpConfig) {
    this.layers = mlpLayers(cfg);
    this.layout = mlpLayout(cfg);
    this.params = sched.alloc(this.layout.total, 'mlp.params');
    this.grads = sched.alloc(this.layout.total, 'mlp.grads');
    this.momenta = sched.alloc(this.layout.total, 'mlp.momenta');
  }

  /** Activation buffers for batch size B, made once and kept. */
  workspace(B: number): MlpWorkspace {
    let ws = this.workspaces.get(B);
    if (!ws) {
      ws = {
        batch: B,
        h: this.layers.map((L) => this.sched.alloc(B * L.dout, `${L.name}.out`)),
        dz: this.layers.map((L) => this.sched.alloc(B * L.dout, `${L.name}.dz`)),
        dh: this.sched.alloc(B * Math.max(...this.layers.map((L) => L.din)), 'mlp.dh'),
      };
      this.workspaces.set(B, ws);
    }
    return ws;
  }

  private w(L: LinearSpec, buf: View): View {
    return { buffer: buf.buffer, offset: buf.offset + this.layout.entry(`${L.name}.weight`).offset, length: L.din * L.dout };
  }
  private b(L: LinearSpec, buf: View): View {
    return { buffer: buf.buffer, offset: buf.offset + this.layout.entry(`${L.name}.bias`).offset, length: L.dout };
  }

  /** Records h_l = ReLU(h_{l-1}·W_lᵀ + b_l) for every layer (no ReLU on the logits).
   *  x is [B, inputDim]; returns the logits view [B, classes]. */
  forward(x: View, B: number): View {
    const ws = this.workspace(B);
    this.layers.forEach((L, l) => {
      const input = l === 0 ? x : ws.h[l - 1];
      const relu = l < this.layers.length - 1;
      matmul(this.sched, { A: input, B: this.w(L, this.params), bias: this.b(L, this.params), C: ws.h[l] }, { M: B, N: L.dout, K: L.din, transB: true, relu });
    });
    return ws.h[this.layers.length - 1];
  }

  /** Records the backward pass, given dlogits already in ws.dz[last] (the loss kernel
   *  writes it there). Writes dW_l = dz_lᵀ·h_{l-1} and db_l = Σ_batch dz_l into grads, unless
   *  paramGrads is false: then only the output gradients dz_l are formed (all that the GC
   *  A- and U-passes read; it skips a third of the backward's work) and grads is untouched. */
  backward(x: View, B: number, paramGrads = true): void {
    const ws = this.workspace(B);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const L = this.layers[l];
      const input = l === 0 ? x : ws.h[l - 1];
      if (paramGrads) {
        matmul(this.sched, { A: ws.dz[l], B: input, C: this.w(L, this.grads) }, { M: L.dout, N: L.din, K: B, transA: true });
        colsum(this.sched, { X: ws.dz[l], out: this.b(L, this.grads) }, { R: B, Cc: L.dout });
      }
      if (l > 0) {
        // dh = dz_l·W_l, then dz_{l-1} = dh ⊙ [h_{l-1} > 0] (ReLU' from the forward output).
        const dh = { ...ws.dh, length: B * L.din };
        matmul(this.sched, { A: ws.dz[l], B: this.w(L, this.params), C: dh }, { M: B, N: L.din, K: L.dout });
        reluBackward(this.sched, { y: ws.h[l - 1], dy: dh, dx: ws.dz[l - 1] }, { n: B * L.din });
      }
    }
  }

  /** Dlogits view for batch B: where the loss kernel writes its gradient. */
  dlogits(B: number): View {
    return this.workspace(B).dz[this.layers.length - 1];
  }

  destroy(): void {
    for (const v of [this.params, this.grads, this.momenta]) this.sched.free(v);
    for (const ws of this.workspaces.values()) for (const v of [...ws.h, ...ws.dz, ws.dh]) this.sched.free(v);
    this.workspaces.clear();
  }
}
