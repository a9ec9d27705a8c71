// The scheduler records passes as plain data and submits them in one command encoder.
// Per-dispatch parameters go into one uniform ring: a CPU-side staging array that holds
// one 256-byte slot per recorded dispatch, written to the GPU ring buffer with a single
// writeBuffer at submit and bound with a dynamic offset. Bind groups are therefore keyed
// by (layout, buffers) only, and a training step that records the same passes every
// iteration re-uses every bind group and allocates nothing.
//
// Errors: each submission runs inside validation + out-of-memory error scopes. Their
// verdicts arrive asynchronously and are raised on the next record/submit/read, naming the
// kernel whose label Dawn's message carries (each dispatch gets its own labelled pass).

import type { Gpu } from '../gpu/device.ts';
import { GpuError } from '../gpu/errors.ts';
import { PipelineCache } from '../gpu/pipeline_cache.ts';
import { BufferPool } from '../gpu/buffer_pool.ts';
import { Readback } from '../gpu/readback.ts';
import { type Bindable, type Kernel, type Params, type View, asView, checkLaunch, packParams } from '../kernels/kernel.ts';
import type { Pass } from './pass.ts';

const INITIAL_RING_SLOTS = 256;

export class Scheduler {
  readonly device: GPUDevice;
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  private readonly readback: Readback;
  private passes: Pass[] = [];
  private ring: GPUBuffer;
  private ringData: ArrayBuffer;
  private ringView: DataView;
  private ringUsed = 0;
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private bindGroupsCreated = 0;
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  private pendingError: GpuError | null = null;
  private inFlightChecks: Promise<void>[] = [];
  /** dispatches submitted so far (for tests and benches) */
  dispatched = 0;
  private dispatchedAtLastWait = 0;
  /** 64 elements bound where a kernel's optional input is switched off by an override */
  readonly dummy: View;

  constructor(readonly gpu: Gpu) {
    this.device = gpu.device;
    this.pipelines = new PipelineCache(this.device);
    this.pool = new BufferPool(this.device);
    this.readback = new Readback(this.device, this.pool);
    const bytes = INITIAL_RING_SLOTS * 256;
    this.ring = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'param-ring' });
    this.ringData = new ArrayBuffer(bytes);
    this.ringView = new DataView(this.ringData);
    this.dummy = { buffer: this.device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE, label: 'dummy' }), offset: 0, length: 64 };
  }

  /** Records one dispatch. Shapes and buffer sizes are checked here, before the GPU. */
  record<P extends Params>(kernel: Kernel<P>, buffers: Record<string, Bindable>, params: P): void {
    this.raisePending();
    const views = checkLaunch(kernel, buffers, params);
    const compiled = this.pipelines.get(kernel);
    const slot = this.takeRingSlot(compiled.paramBytes);
    packParams(kernel, params, this.ringView, slot);
    const groups = kernel.dispatch(params);
    if (groups.some((g) => g > 65535)) {
      throw new GpuError('bad-input', `dispatch ${groups.join('x')} exceeds 65535 workgroups per dimension`, kernel.name);
    }
    this.passes.push({ kind: 'dispatch', kernel, compiled, views, ringOffset: slot, groups });
  }

  /** Records a buffer-to-buffer copy of `src` into `dst` (same length). */
  copy(src: Bindable, dst: Bindable): void {
    const s = asView(src);
    const d = asView(dst);
    if (s.length !== d.length) throw new GpuError('bad-input', `copy of ${s.length} elements into a view of ${d.length}`, 'copy');
    this.passes.push({ kind: 'copy', src: s, dst: d });
  }

  /** Writes host data into a view now, on the queue timeline: it lands before any pass
   *  submitted later, including those already recorded but not yet submitted. */
  upload(dst: Bindable, data: Float32Array | Uint32Array | Int32Array): void {
    const d = asView(dst);
    if (data.length > d.length) throw new GpuError('bad-input', `upload of ${data.length} elements into a view of ${d.length}`, 'upload');
    this.device.queue.writeBuffer(d.buffer, d.offset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Encodes every recorded pass into one command encoder and submits it. Never waits. */
  submit(): void {
    this.raisePending();
    if (this.passes.length === 0) return;
    const passes = this.passes;
    this.passes = [];
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    this.device.queue.writeBuffer(this.ring, 0, this.ringData, 0, this.ringUsed);
    this.ringUsed = 0;
    const enc = this.device.createCommandEncoder({ label: 'step' });
    for (const p of passes) {
      if (p.kind === 'copy') {
        enc.copyBufferToBuffer(p.src.buffer, p.src.offset * 4, p.dst.buffer, p.dst.offset * 4, p.src.length * 4);
        continue;
      }
      // One labelled pass per dispatch: Dawn's messages then name the kernel exactly.
      const pass = enc.beginComputePass({ label: p.kernel.name });
      pass.setPipeline(p.compiled.pipeline);
      pass.setBindGroup(0, this.bindGroup(p.kernel.name, p.compiled, p.views), [p.ringOffset]);
      pass.dispatchWorkgroups(p.groups[0], p.groups[1], p.groups[2]);
      pass.end();
      this.dispatched++;
    }
    this.device.queue.submit([enc.finish()]);
    const names = passes.flatMap((p) => (p.kind === 'dispatch' ? [p.kernel.name] : []));
    const validation = this.device.popErrorScope();
    const oom = this.device.popErrorScope();
    const check = Promise.all([validation, oom]).then(([v, o]) => {
      const err = v ?? o;
      if (err && !this.pendingError) this.pendingError = toGpuError(err, o && !v ? 'out-of-memory' : 'validation', names);
    });
    this.inFlightChecks.push(check);
    if (this.inFlightChecks.length > 64) this.inFlightChecks.splice(0, 32);
  }

  /** Submits what is recorded, then copies `src` back to the host. The only sync point. */
  async read(src: Bindable): Promise<Float32Array> {
    const bytes = await this.readBytes(src);
    return new Float32Array(bytes);
  }

  async readU32(src: Bindable): Promise<Uint32Array> {
    return new Uint32Array(await this.readBytes(src));
  }

  /** Waits until everything submitted so far has run, and raises any error it caused. */
  async finish(): Promise<void> {
    this.submit();
    await this.readback.idle(this.takeWork());
    await Promise.all(this.inFlightChecks);
    this.inFlightChecks = [];
    this.raisePending();
  }

  /** A zero-filled storage buffer from the pool, as a view of `length` elements. */
  alloc(length: number, label = 'tensor'): View {
    const buffer = this.pool.acquire(Math.max(length, 1) * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label);
    this.device.queue.writeBuffer(buffer, 0, new Uint8Array(buffer.size));
    return { buffer, offset: 0, length };
  }

  free(v: View): void {
    this.pool.release(v.buffer);
  }

  private async readBytes(src: Bindable): Promise<ArrayBuffer> {
    const v = asView(src);
    this.submit();
    const out = await this.readback.read(v, this.takeWork());
    await Promise.all(this.inFlightChecks);
    this.inFlightChecks = [];
    this.raisePending();
    return out;
  }

  /** Dispatches submitted since the last wait: how much work a wait now waits for. */
  private takeWork(): number {
    const w = this.dispatched - this.dispatchedAtLastWait;
    this.dispatchedAtLastWait = this.dispatched;
    return w;
  }

  private raisePending(): void {
    if (this.gpu.lostReason !== null) throw new GpuError('device-lost', this.gpu.lostReason);
    // A failed pipeline also fails the submission that used it: raise one error, the
    // creation's (it names the cause), and drop the other.
    const e = this.pipelines.takeFailure() ?? this.pendingError ?? (this.gpu.uncaptured ? new GpuError('validation', this.gpu.uncaptured) : null);
    this.pendingError = null;
    this.gpu.uncaptured = null;
    if (e) throw e;
  }

  private takeRingSlot(bytes: number): number {
    if (this.ringUsed + bytes > this.ringData.byteLength) this.growRing(2 * (this.ringUsed + bytes));
    const at = this.ringUsed;
    this.ringUsed += bytes;
    return at;
  }

  private growRing(bytes: number): void {
    const data = new ArrayBuffer(bytes);
    new Uint8Array(data).set(new Uint8Array(this.ringData, 0, this.ringUsed));
    this.ringData = data;
    this.ringView = new DataView(data);
    // Passes already recorded bind the old ring through cached bind groups; the old buffer
    // stays valid until garbage-collected, but their params now live in the new one, so
    // drop the cache and re-bind at submit.
    this.ring = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'param-ring' });
    this.bindGroups.clear();
  }

  /** bind groups created so far (a test checks a repeated step creates none) */
  get bindGroupCount(): number {
    return this.bindGroupsCreated;
  }

  private idOf(b: GPUBuffer): number {
    let id = this.bufferIds.get(b);
    if (id === undefined) this.bufferIds.set(b, (id = this.nextBufferId++));
    return id;
  }

  private bindGroup(name: string, c: { layout: GPUBindGroupLayout; paramBytes: number }, views: View[]): GPUBindGroup {
    const key = `${c.paramBytes}|` + views.map((v) => `${this.idOf(v.buffer)}:${v.offset}:${v.length}`).join('|') + `|${layoutId(c.layout)}`;
    let bg = this.bindGroups.get(key);
    if (!bg) {
      if (this.bindGroups.size > 8192) this.bindGroups.clear();
      bg = this.device.createBindGroup({
        label: name,
        layout: c.layout,
        entries: [
          { binding: 0, resource: { buffer: this.ring, offset: 0, size: c.paramBytes } },
          ...views.map((v, i) => ({ binding: i + 1, resource: { buffer: v.buffer, offset: v.offset * 4, size: Math.max(v.length, 1) * 4 } })),
        ],
      });
      this.bindGroups.set(key, bg);
      this.bindGroupsCreated++;
    }
    return bg;
  }
}

const layoutIds = new WeakMap<GPUBindGroupLayout, number>();
let nextLayoutId = 1;
function layoutId(l: GPUBindGroupLayout): number {
  let id = layoutIds.get(l);
  if (id === undefined) layoutIds.set(l, (id = nextLayoutId++));
  return id;
}

/** Names the kernel whose label appears in Dawn's message; falls back to the submission. */
function toGpuError(err: GPUError, kind: 'validation' | 'out-of-memory', names: string[]): GpuError {
  const msg = err.message;
  const hit = names.find((n) => msg.includes(`"${n}"`));
  return new GpuError(kind, msg.split('\n')[0] + (hit ? '' : ` (submission held: ${[...new Set(names)].join(', ')})`), hit);
}
