// Seeded epoch iteration over a Dataset: the paper's DataLoader(shuffle=True, drop_last=False)
// (SPEC 5.1), with every batch carrying the dataset indices of its items (GC looks clusters up
// and scatters assignments by index). The position can be saved and restored exactly, so a
// resumed run sees the identical batch sequence.
import { Rng } from '../util/rng.ts';
import type { Dataset } from './dataset.ts';

export { subset } from './dataset.ts';

export interface Batch {
  /** B×dim inputs, row-major, copied out of the dataset (the caller may keep or upload it). */
  x: Float32Array;
  /** B labels. */
  y: Uint32Array;
  /** B dataset indices: item b of the batch is dataset item indices[b]. */
  indices: Uint32Array;
  /** B; smaller than the batch size only for the last batch of an epoch without dropLast. */
  size: number;
  /** Epoch this batch belongs to, from 0. */
  epoch: number;
  /** Batch number within its epoch, from 0. */
  step: number;
}

export interface EpochOptions {
  batchSize: number;
  /** Seed of the iterator's own Rng (a number, or a saved Rng state). */
  seed: number | readonly number[];
  /** New random order each epoch (default true); false gives 0..N−1 every epoch. */
  shuffle?: boolean;
  /** Drop the last incomplete batch of each epoch (default false, the paper's setting). */
  dropLast?: boolean;
}

/** Everything needed to continue exactly where an iterator stopped; plain JSON. */
export interface EpochState {
  n: number;
  batchSize: number;
  shuffle: boolean;
  dropLast: boolean;
  /** Current epoch (−1 before the first batch). */
  epoch: number;
  /** Items of the current epoch's order already handed out. */
  position: number;
  /** Rng state just before the current epoch's order was drawn (the order is redrawn from it). */
  rngAtEpoch: number[];
}

/** Copies the items `indices` of `ds` into a fresh batch (x: B×dim, y: B), through
 *  ds.rowIndex when the dataset is a view. */
export function gather(ds: Dataset, indices: Uint32Array): { x: Float32Array; y: Uint32Array } {
  const B = indices.length;
  const x = new Float32Array(B * ds.dim);
  const y = new Uint32Array(B);
  for (let b = 0; b < B; b++) {
    const i = indices[b];
    if (i >= ds.n) throw new RangeError(`gather: index ${i} out of range for a dataset of ${ds.n} items`);
    const r = ds.rowIndex ? ds.rowIndex[i] : i; // a view's duplicates share one stored row
    x.set(ds.x.subarray(r * ds.dim, (r + 1) * ds.dim), b * ds.dim);
    y[b] = ds.y[i];
  }
  return { x, y };
}

export class EpochIterator {
  readonly batchesPerEpoch: number;
  private rng: Rng;
  private order: Uint32Array; // N dataset indices: this epoch's visiting order
  private limit: number; // items per epoch actually served (N, or N rounded down to B·k)
  private st: EpochState;

  constructor(private readonly ds: Dataset, opts: EpochOptions) {
    const { batchSize: B, shuffle = true, dropLast = false } = opts;
    if (!Number.isInteger(B) || B < 1) throw new RangeError(`EpochIterator: batch size ${B} must be a positive integer`);
    this.limit = dropLast ? Math.floor(ds.n / B) * B : ds.n;
    if (this.limit === 0) {
      throw new RangeError(`EpochIterator: batch size ${B} with dropLast leaves no batch in a dataset of ${ds.n} items`);
    }
    this.batchesPerEpoch = Math.ceil(this.limit / B);
    this.rng = typeof opts.seed === 'number' ? new Rng(opts.seed) : Rng.fromState(opts.seed);
    this.order = new Uint32Array(ds.n);
    this.st = { n: ds.n, batchSize: B, shuffle, dropLast, epoch: -1, position: 0, rngAtEpoch: this.rng.state() };
  }

  /** Rebuilds an iterator from `state()`; its next batches equal the original's. */
  static restore(ds: Dataset, state: EpochState): EpochIterator {
    if (state.n !== ds.n) {
      throw new RangeError(`EpochIterator.restore: saved state is for ${state.n} items, the dataset has ${ds.n}`);
    }
    const it = new EpochIterator(ds, { batchSize: state.batchSize, seed: state.rngAtEpoch, shuffle: state.shuffle, dropLast: state.dropLast });
    if (!(state.position >= 0 && state.position <= it.limit)) {
      throw new RangeError(`EpochIterator.restore: saved position ${state.position} is outside [0, ${it.limit}]`);
    }
    if (state.epoch >= 0) {
      it.drawOrder(); // replays the draw from rngAtEpoch, leaving the Rng where the original was
      it.st.epoch = state.epoch;
      it.st.position = state.position;
    }
    return it;
  }

  /** A JSON-safe copy of the position; pass it to EpochIterator.restore. */
  state(): EpochState {
    return { ...this.st, rngAtEpoch: [...this.st.rngAtEpoch] };
  }

  get epoch(): number {
    return this.st.epoch;
  }

  /** True when the current epoch has handed out all its batches (or none has started). */
  get epochDone(): boolean {
    return this.st.epoch < 0 || this.st.position >= this.limit;
  }

  /** The next batch, starting a new epoch (with a new order) when the current one is done. */
  next(): Batch {
    if (this.epochDone) this.startEpoch();
    const { position: p, batchSize: B } = this.st;
    const end = Math.min(p + B, this.limit);
    const indices = this.order.slice(p, end);
    const { x, y } = gather(this.ds, indices);
    this.st.position = end;
    return { x, y, indices, size: end - p, epoch: this.st.epoch, step: Math.floor(p / B) };
  }

  /** Yields the rest of the current epoch (a whole new epoch if the current one is done). */
  *epochBatches(): Generator<Batch> {
    do yield this.next();
    while (!this.epochDone);
  }

  private startEpoch(): void {
    this.st.rngAtEpoch = this.rng.state();
    this.drawOrder();
    this.st.epoch += 1;
    this.st.position = 0;
  }

  private drawOrder(): void {
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    if (this.st.shuffle) this.rng.shuffle(this.order);
  }
}
