// Training checkpoints in the safetensors format, readable by PyTorch's `safetensors`:
// the model's tensors under their PyTorch names and shapes (fc1.weight [out, in], ...),
// SGD momentum buffers as `momentum_buffer.<name>`, and in the metadata (string → string):
// the format tag, completed iterations, the data iterator's exact state, the run config.
import { encodeSafetensors, decodeSafetensors, tensor, type Tensor } from '../io/safetensors.ts';
import { DataError } from '../data/data_error.ts';
import type { ParamLayout } from '../models/param_layout.ts';

export const CHECKPOINT_FORMAT = 'gradvar-checkpoint/1';
const MOMENTUM = 'momentum_buffer.';

export interface CheckpointState {
  /** completed SGD steps */
  iteration: number;
  params: Float32Array;
  /** null before the first step (torch.optim.SGD has no buffers yet) */
  momenta: Float32Array | null;
  /** JSON-serialisable extras: data iterator state, config, ... */
  extra: Record<string, unknown>;
}

export function encodeCheckpoint(layout: ParamLayout, s: CheckpointState): Uint8Array {
  const tensors = new Map<string, Tensor>();
  const params = layout.split(s.params);
  for (const e of layout.entries) tensors.set(e.name, tensor(params.get(e.name)!, [...e.shape]));
  if (s.momenta) {
    const mom = layout.split(s.momenta);
    for (const e of layout.entries) tensors.set(MOMENTUM + e.name, tensor(mom.get(e.name)!, [...e.shape]));
  }
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT, iteration: String(s.iteration) };
  for (const [k, v] of Object.entries(s.extra)) metadata[k] = JSON.stringify(v);
  return encodeSafetensors(tensors, metadata);
}

/** Decodes and checks a checkpoint against the model layout; one clear error naming the
 *  file and the first problem. */
export function decodeCheckpoint(bytes: Uint8Array, file: string, layout: ParamLayout): CheckpointState {
  const f = decodeSafetensors(bytes, file);
  const meta = f.metadata ?? {};
  if (meta.format !== CHECKPOINT_FORMAT) throw new DataError(file, `not a gradvar checkpoint (metadata format is ${JSON.stringify(meta.format)}, expected "${CHECKPOINT_FORMAT}")`);
  const iteration = Number(meta.iteration);
  if (!Number.isInteger(iteration) || iteration < 0) throw new DataError(file, `bad iteration in metadata: ${JSON.stringify(meta.iteration)}`);
  const pick = (prefix: string, required: boolean): Float32Array | null => {
    const named = new Map<string, Float32Array>();
    for (const e of layout.entries) {
      const t = f.tensors.get(prefix + e.name);
      if (!t) {
        if (!required && named.size === 0) continue;
        throw new DataError(file, `missing tensor '${prefix + e.name}'`);
      }
      if (t.dtype !== 'F32') throw new DataError(file, `tensor '${prefix + e.name}' is ${t.dtype}, expected F32`);
      if (t.shape.join(',') !== e.shape.join(',')) {
        throw new DataError(file, `tensor '${prefix + e.name}' has shape [${t.shape.join(', ')}], this model needs [${e.shape.join(', ')}]`);
      }
      named.set(e.name, t.data as Float32Array);
    }
    return named.size === 0 ? null : layout.join(named);
  };
  const params = pick('', true)!;
  const momenta = pick(MOMENTUM, false);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (k === 'format' || k === 'iteration') continue;
    try {
      extra[k] = JSON.parse(v);
    } catch {
      throw new DataError(file, `metadata '${k}' is not JSON`);
    }
  }
  return { iteration, params, momenta, extra };
}
