// Buffer pool: GPUBuffers are recycled by (usage, rounded size) so a training step allocates
// nothing after warm-up. Sizes are rounded up to 256 bytes (the storage offset alignment),
// not to powers of two: layer shapes repeat exactly from step to step, so exact-size reuse
// hits every time and wastes at most 255 bytes per buffer.

const ALIGN = 256;

export interface PoolStats {
  /** buffers handed out and not yet released */
  live: number;
  /** buffers waiting in free lists */
  free: number;
  /** bytes held by the pool, live and free together */
  bytes: number;
  /** createBuffer calls made so far */
  created: number;
}

export class BufferPool {
  private readonly freeLists = new Map<string, GPUBuffer[]>();
  private readonly sizeOf = new WeakMap<GPUBuffer, number>();
  private liveCount = 0;
  private freeCount = 0;
  private heldBytes = 0;
  private createdCount = 0;

  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `bytes` bytes with exactly `usage`; contents are undefined. */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label = 'pooled'): GPUBuffer {
    if (!(bytes > 0) || !Number.isFinite(bytes)) throw new Error(`BufferPool.acquire(${label}): size must be > 0, got ${bytes}`);
    const size = Math.ceil(bytes / ALIGN) * ALIGN;
    const key = `${usage}:${size}`;
    const list = this.freeLists.get(key);
    let buf = list?.pop();
    if (buf) {
      this.freeCount--;
    } else {
      buf = this.device.createBuffer({ size, usage, label });
      this.sizeOf.set(buf, size);
      this.heldBytes += size;
      this.createdCount++;
    }
    this.liveCount++;
    return buf;
  }

  /** Returns a buffer to its free list; the caller must not use it afterwards. */
  release(buf: GPUBuffer): void {
    const size = this.sizeOf.get(buf);
    if (size === undefined) throw new Error(`BufferPool.release: buffer '${buf.label}' was not acquired from this pool`);
    const key = `${buf.usage}:${size}`;
    let list = this.freeLists.get(key);
    if (!list) this.freeLists.set(key, (list = []));
    list.push(buf);
    this.liveCount--;
    this.freeCount++;
  }

  stats(): PoolStats {
    return { live: this.liveCount, free: this.freeCount, bytes: this.heldBytes, created: this.createdCount };
  }
}
