/**
 * The allocator over the process's one WebAssembly memory: first fit over an address-ordered free
 * list, with freed blocks coalescing with their neighbours, and the memory grown when nothing fits.
 *
 * Bookkeeping lives in JavaScript (two parallel arrays for the free list, a Map for live blocks),
 * not in headers inside the memory, so a kernel that writes past its buffer cannot corrupt the
 * allocator, and the whole of every block is usable. Every block starts and ends on a 16-byte
 * boundary (the v128 granule), so the default alignment never leaves padding behind.
 */

import { ValueError } from "../../ir/errors.js";

/** WebAssembly page size. */
export const PAGE_BYTES = 65536;

/** Block granule: sizes and addresses are multiples of it. */
const GRANULE = 16;

export interface HeapStats {
  /** First byte the allocator manages (everything below is reserved). */
  readonly base: number;
  /** Current end of the memory (its byteLength). */
  readonly end: number;
  /** Bytes in live blocks (each rounded up to the 16-byte granule). */
  readonly usedBytes: number;
  /** Bytes in free blocks; usedBytes + freeBytes === end - base. */
  readonly freeBytes: number;
  readonly liveBlocks: number;
  /** Free blocks, address-ordered; never two adjacent ones (they coalesce). */
  readonly freeList: readonly (readonly [start: number, size: number])[];
  /** How often the memory grew. */
  readonly growCount: number;
}

export interface HeapAllocatorOptions {
  /** First managed address (multiple of 16); the bytes below it are left alone. */
  readonly base: number;
  /** The memory's maximum, in pages: growing past it fails with a RangeError. */
  readonly maximumPages: number;
  /** Called after each growth (the runtime bumps its view generation there). */
  readonly onGrow?: () => void;
}

export class HeapAllocator {
  readonly memory: WebAssembly.Memory;
  private readonly base: number;
  private readonly maximumPages: number;
  private readonly onGrow: (() => void) | undefined;
  /** Address-ordered free blocks: freeStart[i], freeSize[i]. */
  private readonly freeStart: number[] = [];
  private readonly freeSize: number[] = [];
  private readonly live = new Map<number, number>();
  private end: number;
  private used = 0;
  private grows = 0;

  constructor(memory: WebAssembly.Memory, opts: HeapAllocatorOptions) {
    if (opts.base % GRANULE !== 0 || opts.base < 0) throw new ValueError(`HeapAllocator: base ${opts.base} must be a non-negative multiple of ${GRANULE}`);
    this.memory = memory;
    this.base = opts.base;
    this.maximumPages = opts.maximumPages;
    this.onGrow = opts.onGrow;
    this.end = memory.buffer.byteLength;
    if (this.end > this.base) {
      this.freeStart.push(this.base);
      this.freeSize.push(this.end - this.base);
    }
  }

  /** How often the memory grew (views on a non-shared memory are detached by each growth). */
  get growCount(): number {
    return this.grows;
  }

  /**
   * A block of at least `bytes` bytes at an address that is a multiple of `align` (a power of two),
   * never 0. Its contents are unspecified (freed blocks are not cleared).
   */
  alloc(bytes: number, align = GRANULE): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new ValueError(`alloc: size must be a non-negative integer, got ${bytes}`);
    if (!Number.isSafeInteger(align) || align < 1 || (align & (align - 1)) !== 0 || align > PAGE_BYTES) {
      throw new ValueError(`alloc: alignment must be a power of two from 1 to ${PAGE_BYTES}, got ${align}`);
    }
    const size = Math.max(GRANULE, roundUp(bytes, GRANULE));
    const a = Math.max(align, GRANULE);
    let ptr = this.fit(size, a);
    if (ptr < 0) {
      this.grow(size, a);
      ptr = this.fit(size, a);
      if (ptr < 0) throw new Error("HeapAllocator: internal error, no fit after growing");
    }
    this.live.set(ptr, size);
    this.used += size;
    return ptr;
  }

  /** Returns a block from alloc() to the free list. Freeing anything else is a ValueError. */
  free(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new ValueError(`free: ${ptr} is not a live allocation (double free, or not from alloc)`);
    this.live.delete(ptr);
    this.used -= size;
    this.insertFree(ptr, size);
  }

  /** Size of the live block at `ptr` (rounded up to the granule), or undefined. */
  sizeOf(ptr: number): number | undefined {
    return this.live.get(ptr);
  }

  stats(): HeapStats {
    let freeBytes = 0;
    const freeList: [number, number][] = [];
    for (let i = 0; i < this.freeStart.length; i++) {
      freeBytes += this.freeSize[i]!;
      freeList.push([this.freeStart[i]!, this.freeSize[i]!]);
    }
    return { base: this.base, end: this.end, usedBytes: this.used, freeBytes, liveBlocks: this.live.size, freeList, growCount: this.grows };
  }

  /** First fit: carves the block out of the free list and returns its address, or -1. */
  private fit(size: number, align: number): number {
    const starts = this.freeStart;
    const sizes = this.freeSize;
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i]!;
      const avail = sizes[i]!;
      const ptr = roundUp(start, align);
      const pad = ptr - start;
      if (pad + size > avail) continue;
      const tail = avail - pad - size;
      // Replace block i by the padding before the block and the tail after it (either may be empty).
      if (pad > 0 && tail > 0) {
        sizes[i] = pad;
        starts.splice(i + 1, 0, ptr + size);
        sizes.splice(i + 1, 0, tail);
      } else if (pad > 0) {
        sizes[i] = pad;
      } else if (tail > 0) {
        starts[i] = ptr + size;
        sizes[i] = tail;
      } else {
        starts.splice(i, 1);
        sizes.splice(i, 1);
      }
      return ptr;
    }
    return -1;
  }

  private insertFree(start: number, size: number): void {
    const starts = this.freeStart;
    const sizes = this.freeSize;
    // Binary search for the first free block after `start`.
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! < start) lo = mid + 1;
      else hi = mid;
    }
    const prev = lo - 1;
    const joinsPrev = prev >= 0 && starts[prev]! + sizes[prev]! === start;
    const joinsNext = lo < starts.length && start + size === starts[lo]!;
    if (joinsPrev && joinsNext) {
      sizes[prev] = sizes[prev]! + size + sizes[lo]!;
      starts.splice(lo, 1);
      sizes.splice(lo, 1);
    } else if (joinsPrev) {
      sizes[prev] = sizes[prev]! + size;
    } else if (joinsNext) {
      starts[lo] = start;
      sizes[lo] = sizes[lo]! + size;
    } else {
      starts.splice(lo, 0, start);
      sizes.splice(lo, 0, size);
    }
  }

  /** Grows the memory so that a block of `size` bytes aligned to `align` fits at the end. */
  private grow(size: number, align: number): void {
    const n = this.freeStart.length;
    const last = n - 1;
    // A free block touching the end of memory extends into the new pages.
    const tailStart = n > 0 && this.freeStart[last]! + this.freeSize[last]! === this.end ? this.freeStart[last]! : this.end;
    const needEnd = roundUp(Math.max(tailStart, this.base), align) + size;
    const pages = this.end / PAGE_BYTES;
    const needPages = Math.ceil((needEnd - this.end) / PAGE_BYTES);
    // Grow by at least a quarter of the current size, so that a run of allocations grows
    // geometrically (few growths, each of which replaces a plain memory's buffer) - but never past
    // the maximum when the exact need still fits.
    let delta = Math.max(needPages, Math.ceil(pages / 4));
    if (pages + delta > this.maximumPages) delta = needPages;
    if (pages + delta > this.maximumPages) {
      throw new RangeError(
        `WebAssembly memory exhausted: ${size} bytes do not fit in the maximum of ${this.maximumPages} pages (${(this.maximumPages * PAGE_BYTES) / 2 ** 20} MiB); ${this.used} bytes are in use`,
      );
    }
    this.memory.grow(delta);
    const oldEnd = this.end;
    this.end = this.memory.buffer.byteLength;
    this.grows++;
    this.insertFree(Math.max(oldEnd, this.base), this.end - Math.max(oldEnd, this.base));
    this.onGrow?.();
  }
}

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}
