/**
 * Runs WebAssembly kernel plans inside the CPU executor: the bridge between the compiler's value
 * table (typed arrays) and the process-wide WebAssembly memory the kernels address.
 *
 * A kernel reads and writes only WebAssembly memory. An operand that already lives there (a
 * planned intermediate whose slot the executable allocated in the memory, or a constant staged at
 * compile time) is passed by address; any other array is copied into a staging area first, and an
 * output that lives outside the memory (a fresh graph result the caller will own) is written to
 * staging and copied out afterwards. The staging area is one growable block for the whole process:
 * kernels run one at a time on the calling thread (the workers only ever run chunks of the current
 * kernel), so one area is never used by two steps at once.
 */
import { allocate, type DType, dtypeInfo, type TypedArray } from "../../ir/dtype.js";
import { sizeOf } from "../../ir/shape.js";
import type { TensorType } from "../../ir/types.js";
import type { WasmKernelPlan } from "./abi.js";
import { loadKernel, parallelFor, type WasmKernel } from "./pool.js";
import { getWasmRuntime, type WasmRuntime } from "./runtime.js";

export type WasmKernelFn = (env: readonly TypedArray[], slots: Int32Array) => void;

/** Bytes a buffer of `type` takes in WebAssembly memory: padded to whole vectors (abi.ts). */
export function paddedBytes(type: TensorType): number {
  return pad16(sizeOf(type.shape) * dtypeInfo(type.dtype).itemsize);
}

const pad16 = (n: number): number => (n + 15) & ~15;

// ---- which arrays live in WebAssembly memory ------------------------------------------------------

/**
 * Every ArrayBuffer the memory has handed out as `memory.buffer` (a new object after each growth;
 * views on a shared memory's old buffer objects stay valid and still address the same memory).
 */
const memoryBuffers = new WeakSet<ArrayBufferLike>();
let seenGeneration = -1;

function noteBuffer(rt: WasmRuntime): void {
  if (seenGeneration === rt.generation) return;
  seenGeneration = rt.generation;
  memoryBuffers.add(rt.memory.buffer);
}

/** Whether `a` is a view into the WebAssembly memory (its byteOffset is then its address). */
export function inWasmMemory(rt: WasmRuntime, a: TypedArray): boolean {
  noteBuffer(rt);
  // A plain (unshared) memory detaches its old buffers when it grows, so only the current one counts.
  return rt.shared ? memoryBuffers.has(a.buffer) : a.buffer === rt.memory.buffer;
}

/** A view of `n` elements of `dtype` at `ptr`, on the memory's current buffer (recorded as one of ours). */
function wasmView(rt: WasmRuntime, dtype: DType, ptr: number, n: number): TypedArray {
  const buffer = rt.memory.buffer;
  memoryBuffers.add(buffer);
  const Ctor = dtypeInfo(dtype).array as unknown as new (b: ArrayBufferLike, offset: number, length: number) => TypedArray;
  return new Ctor(buffer, ptr, n);
}

/**
 * A typed array of `type` allocated in WebAssembly memory, freed when `owner` is collected. Only
 * for a shared memory: a plain memory's views detach when it grows.
 */
export function allocateInWasm(rt: WasmRuntime, type: TensorType, owner: object): TypedArray {
  const ptr = rt.alloc(Math.max(16, paddedBytes(type)));
  freeWith(owner, ptr);
  return wasmView(rt, type.dtype, ptr, sizeOf(type.shape));
}

// ---- tensors that live in WebAssembly memory ---------------------------------------------------------

/**
 * Bytes of tensor data that may live in WebAssembly memory at once. A block returns to the
 * allocator when its tensors are disposed, or else when the garbage collector has collected the
 * array and the event loop has run the finalizers, which a long synchronous loop never lets
 * happen: past the budget, new tensors go to the JavaScript heap (and their kernels copy), so
 * memory stays bounded either way.
 */
const RESIDENT_BUDGET = 128 * 1024 * 1024;
/** Smaller arrays stay on the JavaScript heap: copying them costs less than a block does. */
const RESIDENT_MIN_BYTES = 16 * 1024;
let residentBytes = 0;

/**
 * One tensor-data block in WebAssembly memory. `owners` counts the tensors that hold the view;
 * `pinned` marks a view that escaped to something other than a tensor (a traced graph's constant),
 * which only the garbage collector can prove dead.
 */
interface ResidentBlock {
  readonly rt: WasmRuntime;
  readonly ptr: number;
  readonly bytes: number;
  owners: number;
  pinned: boolean;
  freed: boolean;
}

function freeBlock(b: ResidentBlock): void {
  if (b.freed) return;
  b.freed = true;
  b.rt.free(b.ptr);
  residentBytes -= b.bytes;
}

const residents = new FinalizationRegistry<ResidentBlock>(freeBlock);
/** The block behind each view allocateTensorData returned. */
const blocks = new WeakMap<TypedArray, ResidentBlock>();

/**
 * A typed array for tensor data (zeroed unless `zeroed` is false: the caller writes every element): in the shared WebAssembly memory when it is large enough
 * and within budget (so kernels read and write it in place), else on the JavaScript heap.
 */
export function allocateTensorData(dtype: DType, n: number, zeroed = true): TypedArray {
  const bytes = pad16(n * dtypeInfo(dtype).itemsize);
  if (bytes < RESIDENT_MIN_BYTES || residentBytes + bytes > RESIDENT_BUDGET) return allocate(dtype, n);
  const rt = getWasmRuntime();
  if (!rt?.shared) return allocate(dtype, n);
  let ptr: number;
  try {
    ptr = rt.alloc(bytes);
  } catch {
    return allocate(dtype, n);
  }
  const view = wasmView(rt, dtype, ptr, n);
  // Blocks are reused: zero it, as a fresh ArrayBuffer would be, unless the caller overwrites it all.
  if (zeroed) new Uint8Array(view.buffer, ptr, bytes).fill(0);
  residentBytes += bytes;
  const block: ResidentBlock = { rt, ptr, bytes, owners: 0, pinned: false, freed: false };
  blocks.set(view, block);
  residents.register(view, block, block);
  return view;
}

/**
 * A tensor now holds `data` (called for every CPU tensor; a no-op for arrays that are not a
 * block's own view). Tensor data is never a subarray of another tensor's block (the interpreter
 * copies scan slices), so the view itself identifies its block. Reading `data.buffer` here would
 * cost V8 a materialization for every small on-heap array.
 */
export function retainTensorData(data: TypedArray): void {
  if (data.byteLength < RESIDENT_MIN_BYTES) return; // never a block: skip the lookup on the tiny-call path
  const b = blocks.get(data);
  if (b !== undefined) b.owners++;
}

/**
 * `data` escapes to a holder that is not a tensor (a graph constant): its block is then freed only
 * by the garbage collector, never by dispose().
 */
export function pinTensorData(data: TypedArray): void {
  const b = blocks.get(data);
  if (b !== undefined) b.pinned = true;
}

/**
 * A tensor holding `data` was disposed. When it was the last tensor holding a block that never
 * escaped, the block goes back to the allocator now instead of after the next collection, which a
 * long synchronous loop (a benchmark, a training loop) would never reach.
 */
export function releaseTensorData(data: TypedArray): void {
  if (data.byteLength < RESIDENT_MIN_BYTES) return;
  const b = blocks.get(data);
  if (b === undefined || b.freed) return;
  b.owners--;
  if (b.owners > 0 || b.pinned) return;
  residents.unregister(b);
  blocks.delete(data);
  freeBlock(b);
}

/** Bytes of tensor data currently in WebAssembly memory (for tests). */
export function residentTensorBytes(): number {
  return residentBytes;
}

const registry = new FinalizationRegistry<{ rt: WasmRuntime; ptrs: number[] }>((held) => {
  for (const p of held.ptrs) held.rt.free(p);
});
const owned = new WeakMap<object, number[]>();

function freeWith(owner: object, ptr: number): void {
  const rt = getWasmRuntime()!;
  let ptrs = owned.get(owner);
  if (!ptrs) {
    ptrs = [];
    owned.set(owner, ptrs);
    registry.register(owner, { rt, ptrs });
  }
  ptrs.push(ptr);
}

// ---- the staging area -----------------------------------------------------------------------------

let stagingPtr = 0;
let stagingBytes = 0;

function staging(rt: WasmRuntime, bytes: number): number {
  if (bytes > stagingBytes) {
    if (stagingPtr !== 0) rt.free(stagingPtr);
    stagingBytes = Math.max(pad16(bytes), 2 * stagingBytes, 1 << 16);
    stagingPtr = rt.alloc(stagingBytes, 64);
  }
  return stagingPtr;
}

// ---- loaded modules -------------------------------------------------------------------------------

const loaded = new Map<string, readonly WasmKernel[]>();

/** The plan's phases, compiled and instantiated once per plan key. */
function phasesOf(plan: WasmKernelPlan): readonly WasmKernel[] {
  let kernels = loaded.get(plan.key);
  if (!kernels) {
    kernels = plan.phases.map((p) => loadKernel(plan.bytes, p.entry, p.entry));
    loaded.set(plan.key, kernels);
  }
  return kernels;
}

/** Forgets the compiled modules (the pool keeps those that executables still use). */
export function clearLoadedKernels(): void {
  loaded.clear();
}

/** Modules compiled so far (one per plan key), for tests and stats. */
export function wasmKernelCount(): number {
  return loaded.size;
}

/**
 * A kernel function for the compiled step list: `fn(env, slots)` with `env[slots[k]]` the k-th
 * input and `env[slots[inputs.length + o]]` output o, the same calling convention as generated
 * JavaScript kernels.
 */
export function wasmKernelFn(plan: WasmKernelPlan, inputs: readonly TensorType[], outputs: readonly TensorType[]): WasmKernelFn {
  const rt = getWasmRuntime();
  if (!rt) throw new Error("wasmKernelFn: no WebAssembly runtime");
  const kernels = phasesOf(plan);
  const phases = plan.phases;
  const nIn = inputs.length;
  const nOut = outputs.length;
  const sizes = [...inputs, ...outputs].map(paddedBytes);
  const byteLengths = [...inputs, ...outputs].map((t) => sizeOf(t.shape) * dtypeInfo(t.dtype).itemsize);
  const words = nIn + nOut + (plan.scratchBytes > 0 ? 1 : 0);
  const argsBytes = pad16(4 * words);
  // Staging layout: args, scratch, then one block per operand that needs copying (worst case all).
  const stagingNeed = argsBytes + pad16(plan.scratchBytes) + sizes.reduce((a, b) => a + b, 0);
  const ptrs = new Int32Array(nIn + nOut);
  const copyOut: boolean[] = new Array<boolean>(nOut).fill(false);
  // A phase that may be skipped needs scratch that survives between runs: this kernel's own.
  const reusable = plan.scratchBytes > 0 && phases.some((p) => p.reuseWhileSame !== undefined && p.reuseWhileSame < nIn);
  const ownScratch = reusable ? rt.alloc(pad16(plan.scratchBytes)) : 0;
  const lastInput: (WeakRef<TypedArray> | undefined)[] = phases.map(() => undefined);

  const fn: WasmKernelFn = (env, slots) => {
    const base = staging(rt, stagingNeed);
    let next = base + argsBytes;
    const scratch = reusable ? ownScratch : next;
    next += pad16(plan.scratchBytes);
    for (let k = 0; k < nIn + nOut; k++) {
      const a = env[slots[k]!]!;
      if (inWasmMemory(rt, a)) {
        ptrs[k] = a.byteOffset;
        if (k >= nIn) copyOut[k - nIn] = false;
        continue;
      }
      ptrs[k] = next;
      if (k < nIn) {
        if (a.byteLength > 0) rt.u8().set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), next);
      } else {
        copyOut[k - nIn] = true;
      }
      next += sizes[k]!;
    }
    const words32 = rt.i32();
    const at = base >> 2;
    for (let k = 0; k < nIn + nOut; k++) words32[at + k] = ptrs[k]!;
    if (plan.scratchBytes > 0) words32[at + nIn + nOut] = scratch;
    for (let p = 0; p < phases.length; p++) {
      const phase = phases[p]!;
      const k = phase.reuseWhileSame;
      if (reusable && k !== undefined && k < nIn) {
        const a = env[slots[k]!]!;
        if (mutableArrays.has(a)) lastInput[p] = undefined;
        else if (lastInput[p]?.deref() === a) continue;
        else lastInput[p] = new WeakRef(a);
      }
      parallelFor(kernels[p]!, base, phase.items, phase.grain);
    }
    for (let o = 0; o < nOut; o++) {
      if (!copyOut[o]) continue;
      const a = env[slots[nIn + o]!]!;
      const len = byteLengths[nIn + o]!;
      if (len > 0) new Uint8Array(a.buffer, a.byteOffset, len).set(rt.u8().subarray(ptrs[nIn + o]!, ptrs[nIn + o]! + len));
    }
  };
  if (ownScratch !== 0) freeWith(fn, ownScratch);
  return fn;
}

/**
 * Arrays whose contents change between runs although the object stays the same (an executable's
 * slots): a phase reading one is never skipped. Every other array a kernel sees is a tensor's
 * immutable data, a constant, or a fresh result.
 */
const mutableArrays = new WeakSet<TypedArray>();

export function markMutable(a: TypedArray): void {
  mutableArrays.add(a);
}
