// The MLP's trainer: the generic SGD Trainer (src/run/trainer.ts) on an MlpGrad, keeping the
// model and its engine at hand for the MNIST code, the estimators and the browser page.
import type { Scheduler } from '../sched/scheduler.ts';
import { Mlp, type MlpConfig } from '../models/mlp.ts';
import { MlpGrad } from './mlp_grad.ts';
import { Trainer, type SgdHyper } from './trainer.ts';

export { PAPER_MNIST_SGD, type SgdHyper, type LossAcc } from './trainer.ts';

export class MlpTrainer extends Trainer<MlpGrad> {
  readonly model: Mlp;

  constructor(sched: Scheduler, readonly cfg: MlpConfig, hyper: SgdHyper) {
    const model = new Mlp(sched, cfg);
    super(sched, new MlpGrad(sched, model, true), hyper);
    this.model = model;
  }
}
