/**
 * The contract between the WebAssembly code generators and the executor that runs their kernels.
 *
 * A generator turns a kernel description into a `WasmKernelPlan`: a module that imports the one
 * process-wide memory (`env.memory`) and exports one function per phase, each
 * `entry(args: i32, begin: i32, end: i32)`. `args` is the byte address of an i32 block holding the
 * byte addresses of the kernel's buffers, in this order: inputs, outputs, then the scratch region
 * (if `scratchBytes > 0`). Phases run in order with a barrier between them (a matmul packs its
 * right operand, then multiplies); within a phase the executor splits [0, items) into fixed chunks
 * of `grain` items, so the result never depends on how many threads ran them.
 *
 * Every buffer the executor passes starts 16-byte aligned and is padded to a multiple of 16 bytes,
 * so a kernel may load and store whole vectors past a buffer's logical end (the padding is the
 * kernel's to clobber). Chunks must not write the same vector from two threads: a kernel splitting
 * a flat range uses a grain that is a multiple of 4 float32 elements.
 */
import type { MemoryImport } from "./emit.js";

export interface WasmPhase {
  /** Exported function name. */
  readonly entry: string;
  readonly items: number;
  /** Items per chunk (>= 1); the unit of work a thread claims. */
  readonly grain: number;
  /**
   * The phase reads only input `reuseWhileSame` and writes only scratch (a matmul packing its
   * right operand): the executor may keep the kernel's scratch and skip the phase while that input
   * is the same immutable array as on the previous run (weights packed once, not every call).
   */
  readonly reuseWhileSame?: number;
}

export interface WasmKernelPlan {
  /** Canonical description; equal keys mean equal bytes. */
  readonly key: string;
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly phases: readonly WasmPhase[];
  readonly scratchBytes: number;
}

/** The process-wide memory's limits (pages of 64 KiB): 2 GiB at most. */
export const WASM_MAX_PAGES = 32768;

/** The memory import every kernel module declares; `shared` must match the runtime's memory. */
export function kernelMemory(shared: boolean): MemoryImport {
  return { shared, initial: 1, maximum: WASM_MAX_PAGES };
}
