// Readback without spinning a core. While a mapAsync promise is pending, Dawn-node polls
// its device in a loop; on a software Vulkan driver that loop takes one of two cores from
// the rasteriser's worker threads (1024² matmul 7.8 → 13.9 GFLOP/s when the caller slept
// first). So we learn how long submissions take to complete and sleep most of that time
// before calling mapAsync; the estimate is an exponential moving average per readback.

import type { BufferPool } from './buffer_pool.ts';
import type { View } from '../kernels/kernel.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Readback {
  /** EMA of milliseconds from submit to mapped, used to size the sleep */
  private expectedMs = 0;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
  ) {}

  /** Copies `v` into a mappable buffer, waits for it, returns a fresh ArrayBuffer. The
   *  caller must have submitted the work that produces `v`. */
  read(v: View): Promise<ArrayBuffer> {
    const run = this.busy.then(() => this.readNow(v));
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Waits until all submitted work has run (same polite waiting as read). */
  idle(): Promise<void> {
    const run = this.busy.then(async () => {
      const t0 = performance.now();
      await this.politeSleep();
      await this.device.queue.onSubmittedWorkDone();
      this.learn(performance.now() - t0);
    });
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async readNow(v: View): Promise<ArrayBuffer> {
    const bytes = v.length * 4;
    const staging = this.pool.acquire(bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'readback');
    try {
      const enc = this.device.createCommandEncoder({ label: 'readback' });
      enc.copyBufferToBuffer(v.buffer, v.offset * 4, staging, 0, Math.ceil(bytes / 4) * 4);
      this.device.queue.submit([enc.finish()]);
      const t0 = performance.now();
      await this.politeSleep();
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      this.learn(performance.now() - t0);
      const out = staging.getMappedRange(0, bytes).slice(0);
      staging.unmap();
      return out;
    } finally {
      this.pool.release(staging);
    }
  }

  private politeSleep(): Promise<void> {
    // Sleep 80% of the expected time; below 2 ms the timer's own slack outweighs the gain.
    const ms = 0.8 * this.expectedMs;
    return ms >= 2 ? sleep(ms) : Promise.resolve();
  }

  private learn(ms: number): void {
    this.expectedMs = this.expectedMs === 0 ? ms : 0.7 * this.expectedMs + 0.3 * ms;
  }
}
