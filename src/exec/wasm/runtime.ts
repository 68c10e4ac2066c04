/**
 * The WebAssembly runtime: one memory for the whole process (shared when worker threads can use
 * it), an allocator over it, the thread-count setting, and backendInfo(). Everything is created
 * lazily on first use; getWasmRuntime() returns undefined where WebAssembly SIMD is missing or
 * SYMTENSOR_WASM=0, and the CPU backend then keeps its JavaScript kernels (backendInfo() says why,
 * rather than a console warning).
 */

import { ValueError } from "../../ir/errors.js";
import { emitWarning } from "../../ir/warnings.js";
import { WASM_MAX_PAGES } from "./abi.js";
import type { MemoryImport } from "./emit.js";
import { HeapAllocator, PAGE_BYTES, type HeapStats } from "./runtime-alloc.js";
import { detectFeatures, type Features } from "./runtime-features.js";

/** 16 MiB to start with, 2 GiB at most (the whole i32 address range a kernel can use safely). */
export const INITIAL_PAGES = 256;
/** The most the memory may grow to: the kernels' import declares the same (abi.ts). */
export const MAXIMUM_PAGES = WASM_MAX_PAGES;
/** Addresses below this are never handed out: 0 stays an invalid pointer. */
const HEAP_BASE = 1024;

export interface WasmRuntime {
  readonly memory: WebAssembly.Memory;
  /** Whether the memory is shared (workers can run kernels on it). */
  readonly shared: boolean;
  /**
   * The import every kernel declares: `new ModuleBuilder({ memory: runtime.memoryImport })`.
   * (A module's imported memory must match the memory's sharedness and limits.)
   */
  readonly memoryImport: MemoryImport;
  /** A block of at least `bytes` bytes aligned to `align` (a power of two, default 16); grows the memory as needed. */
  alloc(bytes: number, align?: number): number;
  /** Returns a block from alloc(). */
  free(ptr: number): void;
  /**
   * Bumped by every growth of the memory. Growth detaches every view on a plain memory's buffer;
   * on a shared memory old views stay valid but do not cover the new pages. Either way a cached
   * view is current while its generation is.
   */
  readonly generation: number;
  /** Views over the whole memory, recreated only after a growth. */
  u8(): Uint8Array;
  i32(): Int32Array;
  f32(): Float32Array;
  f64(): Float64Array;
  heapStats(): HeapStats;
}

class Runtime implements WasmRuntime {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly memoryImport: MemoryImport;
  private readonly heap: HeapAllocator;
  private gen = 0;
  private viewGen = -1;
  private u8View = new Uint8Array(0);
  private i32View = new Int32Array(0);
  private f32View = new Float32Array(0);
  private f64View = new Float64Array(0);

  constructor(shared: boolean) {
    this.shared = shared;
    this.memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared });
    this.memoryImport = { shared, initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES };
    this.heap = new HeapAllocator(this.memory, {
      base: HEAP_BASE,
      maximumPages: MAXIMUM_PAGES,
      onGrow: () => {
        this.gen++;
      },
    });
  }

  get generation(): number {
    return this.gen;
  }

  alloc(bytes: number, align = 16): number {
    return this.heap.alloc(bytes, align);
  }

  free(ptr: number): void {
    this.heap.free(ptr);
  }

  heapStats(): HeapStats {
    return this.heap.stats();
  }

  u8(): Uint8Array {
    if (this.viewGen !== this.gen) this.refresh();
    return this.u8View;
  }
  i32(): Int32Array {
    if (this.viewGen !== this.gen) this.refresh();
    return this.i32View;
  }
  f32(): Float32Array {
    if (this.viewGen !== this.gen) this.refresh();
    return this.f32View;
  }
  f64(): Float64Array {
    if (this.viewGen !== this.gen) this.refresh();
    return this.f64View;
  }

  private refresh(): void {
    const buf = this.memory.buffer;
    this.u8View = new Uint8Array(buf);
    this.i32View = new Int32Array(buf);
    this.f32View = new Float32Array(buf);
    this.f64View = new Float64Array(buf);
    this.viewGen = this.gen;
  }
}

let runtime: Runtime | undefined;
let runtimeReason: string | undefined;
let probed = false;
let requestedThreads: number | undefined;

function threadsPossible(f: Features): boolean {
  return f.sharedMemory && f.workers !== "none";
}

/**
 * The process's WebAssembly runtime, created on first call; undefined when WebAssembly SIMD is
 * missing or SYMTENSOR_WASM=0 (backendInfo().cpu.reason says which).
 */
export function getWasmRuntime(): WasmRuntime | undefined {
  if (probed) return runtime;
  probed = true;
  const f = detectFeatures();
  if (!f.disabledByEnv && f.simd) {
    try {
      runtime = new Runtime(threadsPossible(f));
    } catch (e) {
      // E.g. the engine refuses to reserve 2 GiB of address space for the memory.
      runtimeReason = `the WebAssembly memory could not be created: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  // Say once why the CPU runs slower than it could (not when the user turned the kernels off).
  const { reason, kernels, threads } = backendInfo().cpu;
  if (reason !== undefined && !f.disabledByEnv) {
    emitWarning("ST103", `the CPU backend runs ${kernels === "js" ? "JavaScript kernels (no WebAssembly SIMD)" : `WebAssembly SIMD kernels on ${threads} thread${threads === 1 ? "" : "s"}`}: ${reason}. backendInfo() reports this too.`);
  }
  return runtime;
}

/** Sets how many threads (the calling one included) run WebAssembly kernels; applies from the next job. */
export function setNumThreads(n: number): void {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
    throw new ValueError(`setNumThreads: expected an integer >= 1, got ${typeof n === "number" ? n : typeof n}`);
  }
  requestedThreads = n;
}

/**
 * Threads the next parallel job may use, the calling thread included: setNumThreads(), else
 * SYMTENSOR_THREADS, else min(4, hardware threads); always 1 where the kernels cannot run on
 * workers (no shared memory, no workers, or no WebAssembly runtime).
 */
export function getNumThreads(): number {
  const rt = getWasmRuntime();
  if (rt === undefined || !rt.shared) return 1;
  const f = detectFeatures();
  return requestedThreads ?? f.envThreads ?? f.defaultThreads;
}

export interface BackendInfo {
  readonly cpu: {
    /** Which kernels the CPU backend runs. */
    readonly kernels: "wasm-simd" | "js";
    readonly simd: boolean;
    /** Threads a parallel kernel uses (calling thread included). */
    readonly threads: number;
    readonly sharedMemory: boolean;
    /** Why something is off (WebAssembly kernels, shared memory, threads), when it is. */
    readonly reason?: string;
  };
}

/** What the CPU backend runs on here, and why anything is off. */
export function backendInfo(): BackendInfo {
  const f = detectFeatures();
  const rt = getWasmRuntime();
  const reasons = [...f.reasons];
  if (runtimeReason !== undefined) reasons.push(runtimeReason);
  const cpu = {
    kernels: rt !== undefined ? ("wasm-simd" as const) : ("js" as const),
    simd: f.simd,
    threads: getNumThreads(),
    sharedMemory: rt?.shared ?? false,
  };
  return { cpu: reasons.length > 0 ? { ...cpu, reason: reasons.join("; ") } : cpu };
}

/** Bytes in a page of WebAssembly memory. */
export { PAGE_BYTES };

