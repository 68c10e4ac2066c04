/**
 * GPU buffers: a pool keyed by size class, and GpuStorage, the reference-counted handle a tensor
 * (or a compiled executable) holds.
 *
 * Size classes: up to 256 bytes one class; above, four classes per power of two (at most 25%
 * waste). A released buffer goes back to its class's free list, where the next request of that
 * class takes it; buffers beyond the pool's byte budget are destroyed instead. Reusing a released
 * buffer is safe without waiting for the GPU because all work goes through one queue in order:
 * any later write is submitted after every earlier read of the buffer.
 *
 * Every element takes 4 bytes on the GPU (f32, i32, or one u32 per bool/uint8 element), so a
 * tensor of n elements needs 4n bytes, checked against the device's binding and buffer limits.
 */
import { DeviceError } from "../../ir/errors.js";
import type { WebGPULimits } from "./runtime.js";

const USAGE_STORAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
const MIN_CLASS = 256;

export function sizeClass(bytes: number): number {
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  const p = 2 ** Math.floor(Math.log2(bytes));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}

export interface GpuMemoryStats {
  /** Buffers handed out and not yet released (tensors, executables' planned buffers and constants). */
  readonly liveBuffers: number;
  readonly liveBytes: number;
  /** Released buffers kept for reuse. */
  readonly pooledBuffers: number;
  readonly pooledBytes: number;
  /** Buffers ever created (pool misses). */
  readonly created: number;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private liveBuffers = 0;
  private liveBytes = 0;
  private pooledBuffers = 0;
  private pooledBytes = 0;
  private created = 0;
  /** Bytes of released buffers kept for reuse; more are destroyed. */
  readonly budget: number;

  constructor(
    private readonly device: GPUDevice,
    private readonly limits: WebGPULimits,
  ) {
    this.budget = Math.min(1 << 30, Math.max(64 << 20, limits.maxBufferSize / 2));
  }

  /** A buffer of at least `bytes` (STORAGE | COPY_SRC | COPY_DST). `what` names the tensor for a limit error. */
  acquire(bytes: number, what: string): GpuStorage {
    const max = Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
    if (bytes > max) {
      throw new DeviceError(
        `webgpu: ${what} needs ${bytes} bytes (4 per element), more than this adapter allows in one storage binding (${max} bytes: maxStorageBufferBindingSize/maxBufferSize); split it or run it on the cpu`,
      );
    }
    const cls = sizeClass(bytes);
    const list = this.free.get(cls);
    let buffer = list?.pop();
    if (buffer) {
      this.pooledBuffers--;
      this.pooledBytes -= cls;
    } else {
      buffer = this.device.createBuffer({ size: cls, usage: USAGE_STORAGE, label: `st:buffer:${cls}` });
      this.created++;
    }
    this.liveBuffers++;
    this.liveBytes += cls;
    return new GpuStorage(this, buffer, Math.max(bytes, 4), cls);
  }

  /** Called by GpuStorage when its last reference is released. */
  give(buffer: GPUBuffer, cls: number): void {
    this.liveBuffers--;
    this.liveBytes -= cls;
    if (this.pooledBytes + cls > this.budget) {
      buffer.destroy();
      return;
    }
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = []));
    list.push(buffer);
    this.pooledBuffers++;
    this.pooledBytes += cls;
  }

  /** Destroys every pooled buffer (live ones are untouched). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBuffers = 0;
    this.pooledBytes = 0;
  }

  stats(): GpuMemoryStats {
    return { liveBuffers: this.liveBuffers, liveBytes: this.liveBytes, pooledBuffers: this.pooledBuffers, pooledBytes: this.pooledBytes, created: this.created };
  }
}

/**
 * A GPU buffer holding one tensor's elements (4 bytes each), shared by reference count: tensors
 * that alias a buffer (a reshape, `tensor(t)`) retain it, and the last release returns it to the pool.
 */
export class GpuStorage {
  private refs = 1;
  constructor(
    private readonly pool: BufferPool,
    readonly buffer: GPUBuffer,
    /** Bytes the tensor uses (at least 4: a binding of 0 bytes is invalid). */
    readonly bytes: number,
    private readonly cls: number,
  ) {}

  get released(): boolean {
    return this.refs === 0;
  }

  retain(): this {
    if (this.refs === 0) throw new Error("webgpu: retain() of a released buffer");
    this.refs++;
    return this;
  }

  release(): void {
    if (this.refs === 0) return;
    if (--this.refs === 0) this.pool.give(this.buffer, this.cls);
  }
}
