// Builds a ResNet engine for a run: architecture name, input shape, classes, init seed.
import type { Scheduler } from '../sched/scheduler.ts';
import type { TrainableEngine } from './grad_engine.ts';
import type { Rng } from '../util/rng.ts';

export interface ResNetInput { channels: number; height: number; width: number; classes: number }

export function buildResNet(_sched: Scheduler, arch: string, _input: ResNetInput, _rng: Rng): { engine: TrainableEngine; describe: string } {
  throw new Error(`buildResNet: ${arch} pending`);
}
