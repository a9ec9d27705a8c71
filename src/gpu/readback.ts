// Readback without spinning a core. While a mapAsync promise is pending, Dawn-node polls
// its device in a loop; on a software Vulkan driver that loop takes one of two cores from
// the rasteriser's worker threads (1024² matmul 7.8 → 13.9 GFLOP/s when the caller slept
// first). So we learn how long the GPU takes to finish the work in flight and sleep most
// of that time before calling mapAsync. The estimate is an exponential moving average
// kept per amount of work (dispatches since the last wait, in half-octave buckets), so a
// long wait after a big batch of work does not make the next small read sleep as long;
// work of a size never seen before is waited for without sleeping, and learned.

import type { BufferPool } from './buffer_pool.ts';
import type { View } from '../kernels/kernel.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Readback {
  /** EMA of milliseconds from submit to mapped, per bucket of work in flight */
  private readonly expectedMs = new Map<number, number>();
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
  ) {}

  /** Copies `v` into a mappable buffer, waits for it, returns a fresh ArrayBuffer. The
   *  caller must have submitted the work that produces `v`. */
  read(v: View, work: number): Promise<ArrayBuffer> {
    const run = this.busy.then(() => this.readNow(v, bucket(work)));
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Waits until all submitted work has run (same polite waiting as read). */
  idle(work: number): Promise<void> {
    const b = bucket(work);
    const run = this.busy.then(async () => {
      const t0 = performance.now();
      await this.politeSleep(b);
      await this.device.queue.onSubmittedWorkDone();
      this.learn(b, performance.now() - t0);
    });
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async readNow(v: View, b: number): Promise<ArrayBuffer> {
    const bytes = v.length * 4;
    const staging = this.pool.acquire(bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'readback');
    try {
      const enc = this.device.createCommandEncoder({ label: 'readback' });
      enc.copyBufferToBuffer(v.buffer, v.offset * 4, staging, 0, Math.ceil(bytes / 4) * 4);
      this.device.queue.submit([enc.finish()]);
      const t0 = performance.now();
      await this.politeSleep(b);
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      this.learn(b, performance.now() - t0);
      const out = staging.getMappedRange(0, bytes).slice(0);
      staging.unmap();
      return out;
    } finally {
      this.pool.release(staging);
    }
  }

  private politeSleep(b: number): Promise<void> {
    // Sleep 80% of the expected time; below 2 ms the timer's own slack outweighs the gain.
    const ms = 0.8 * (this.expectedMs.get(b) ?? 0);
    return ms >= 2 ? sleep(ms) : Promise.resolve();
  }

  private learn(b: number, ms: number): void {
    const old = this.expectedMs.get(b);
    this.expectedMs.set(b, old === undefined ? ms : 0.7 * old + 0.3 * ms);
  }
}

/** Half-octave bucket of a dispatch count: 0, 1, 2, 3, 4-5, 6-7, 8-11, ... */
function bucket(work: number): number {
  return Math.round(2 * Math.log2(work + 1));
}
