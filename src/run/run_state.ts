// The whole state of a `gradvar run` at a measurement point, so `--resume` continues the
// same trajectory and the same estimator streams: model parameters and SGD momenta, the
// training iterator, every estimator's stream, SVRG's snapshot (θ_snap, μ), GC's partition,
// sampler position, centres and Rng, and the engine's own extras (augmentation Rng, BatchNorm
// running statistics). One safetensors file: flat float tensors, u32 partition, and the
// positions as JSON metadata. Written atomically (temp file + rename) after the log record
// of the same iteration is flushed, so log and state never disagree by more than the cut
// that --resume makes.
import { encodeSafetensors, decodeSafetensors, tensor, type Tensor } from '../io/safetensors.ts';
import { DataError } from '../data/data_error.ts';
import type { EpochState } from '../data/batches.ts';
import type { EstimatorsState } from '../estimators/estimators.ts';
import type { GcState } from '../cluster/gradient_clustering.ts';
import type { EngineState } from '../models/grad_engine.ts';

export const RUN_STATE_FORMAT = 'gradvar-run-state/1';

export interface RunState {
  /** completed training iterations */
  iteration: number;
  params: Float32Array;
  momenta: Float32Array;
  momentumStarted: boolean;
  batches: EpochState;
  estimators: EstimatorsState;
  gc: GcState;
  /** the last GC snapshot's log fields */
  gcInfo: { td: number; splits: number; M: number } | null;
  engine: EngineState;
}

const flat = (a: Float32Array | Uint32Array) => tensor(a, [a.length]);

export function encodeRunState(s: RunState): Uint8Array {
  const t = new Map<string, Tensor>([['params', flat(s.params)], ['momenta', flat(s.momenta)]]);
  if (s.estimators.svrg) {
    t.set('svrg.params', flat(s.estimators.svrg.params));
    t.set('svrg.mu', flat(s.estimators.svrg.mu));
  }
  if (s.estimators.gc) t.set('gc.assign', flat(s.estimators.gc.assign));
  if (s.gc.sizes) t.set('gc.sizes', flat(s.gc.sizes));
  s.gc.centres.forEach((c, l) => {
    t.set(`gc.${l}.Ci`, flat(c.Ci));
    t.set(`gc.${l}.Co`, flat(c.Co));
  });
  for (const [k, v] of Object.entries(s.engine.tensors)) t.set(`engine.${k}`, flat(v));
  const meta = {
    format: RUN_STATE_FORMAT, iteration: String(s.iteration), momentumStarted: String(s.momentumStarted),
    batches: JSON.stringify(s.batches), streams: JSON.stringify(s.estimators.streams),
    sampler: JSON.stringify(s.estimators.gc?.sampler ?? null), gcRng: JSON.stringify(s.gc.rng), layers: String(s.gc.centres.length),
    gcInfo: JSON.stringify(s.gcInfo), engine: JSON.stringify(s.engine.meta ?? null),
  };
  return encodeSafetensors(t, meta);
}

export function decodeRunState(bytes: Uint8Array, file: string): RunState {
  const f = decodeSafetensors(bytes, file);
  const m = f.metadata ?? {};
  if (m.format !== RUN_STATE_FORMAT) throw new DataError(file, `not a gradvar run state (format ${JSON.stringify(m.format)}, expected "${RUN_STATE_FORMAT}")`);
  const json = (k: string): any => {
    try {
      return JSON.parse(m[k]);
    } catch {
      throw new DataError(file, `metadata '${k}' is missing or not JSON`);
    }
  };
  const f32 = (k: string, required = true): Float32Array => {
    const x = f.tensors.get(k);
    if (!x) {
      if (required) throw new DataError(file, `missing tensor '${k}'`);
      return null as unknown as Float32Array;
    }
    if (!(x.data instanceof Float32Array)) throw new DataError(file, `tensor '${k}' is ${x.dtype}, expected F32`);
    return x.data;
  };
  const assign = f.tensors.get('gc.assign')?.data;
  if (assign && !(assign instanceof Uint32Array)) throw new DataError(file, `tensor 'gc.assign' must be U32`);
  const sampler = json('sampler');
  const layers = Number(m.layers);
  const engineTensors: Record<string, Float32Array> = {};
  for (const k of f.tensors.keys()) if (k.startsWith('engine.')) engineTensors[k.slice(7)] = f32(k);
  return {
    iteration: Number(m.iteration), params: f32('params'), momenta: f32('momenta'), momentumStarted: m.momentumStarted === 'true',
    batches: json('batches'),
    estimators: {
      streams: json('streams'),
      svrg: f.tensors.has('svrg.params') ? { params: f32('svrg.params'), mu: f32('svrg.mu') } : null,
      gc: assign && sampler ? { assign: assign as Uint32Array, sampler } : null,
    },
    gc: {
      rng: json('gcRng'), sizes: f.tensors.has('gc.sizes') ? f32('gc.sizes') : null,
      centres: Array.from({ length: layers }, (_, l) => ({ Ci: f32(`gc.${l}.Ci`), Co: f32(`gc.${l}.Co`) })),
    },
    gcInfo: json('gcInfo'),
    engine: { meta: json('engine'), tensors: engineTensors },
  };
}
