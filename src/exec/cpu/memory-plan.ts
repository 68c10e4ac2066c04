/**
 * Memory planning for compiled CPU graphs: liveness over the step list, then buffer sharing.
 *
 * Policy (shared slots): every intermediate that a step writes into a buffer the executor provides
 * ("planned") gets a slot: one ArrayBuffer, created once per executable, that values whose
 * lifetimes do not overlap take turns to use through typed views of their own dtype. A slot is as
 * large as the largest value it ever holds; a value takes the smallest free slot that fits, else
 * grows the largest free one, else opens a new slot. Slots are reused across runs.
 *
 * - A value is live from the step that writes it to its last reader. Where a library kernel may
 *   hand back one of its operands' buffers (reshape and debugPrint do: same storage class and
 *   element count is the static test), the operand's buffer stays live as long as that result.
 * - A step may write an output into the slot of an operand it reads for the last time when the
 *   kernel says that is safe (elementwise: same element size, read and written at one flat index).
 * - Graph results are never in slots: their steps write fresh buffers every run, which the caller
 *   owns. Parameters and constants are read, never written.
 * - Library kernels allocate their own results; the plan does not hide them but counts each as a
 *   fresh buffer live from its step to its last use (an upper bound: reshape allocates nothing).
 */
import { dtypeInfo, type TypedArray } from "../../ir/dtype.js";
import { sizeOf } from "../../ir/shape.js";
import type { TensorType } from "../../ir/types.js";

export interface PlanOutput {
  readonly name: string;
  readonly type: TensorType;
  /**
   * "planned": the step writes into a buffer the executor provides.
   * "kernel": the step's kernel allocates the buffer (or hands back an operand's).
   */
  readonly storage: "planned" | "kernel";
  /** planned: operands whose buffer this output may overwrite when this step reads them last. */
  readonly inPlace?: readonly string[];
  /** kernel: operands whose buffer the kernel may return as this output. */
  readonly mayAlias?: readonly string[];
}

export interface PlanStep {
  /** Names of the values the step reads. */
  readonly reads: readonly string[];
  readonly writes: readonly PlanOutput[];
  /** Private bytes the step's kernel holds for the executable's lifetime (accumulator rows). */
  readonly scratchBytes?: number;
}

export interface PlanInput {
  readonly params: readonly { readonly name: string; readonly type: TensorType }[];
  readonly constants: readonly { readonly name: string; readonly type: TensorType }[];
  readonly steps: readonly PlanStep[];
  readonly results: readonly string[];
}

export interface PlanOptions {
  /** Share slots between values whose lifetimes do not overlap (default true). */
  readonly reuse?: boolean;
  /** Let elementwise steps write over an operand they read last (default true). */
  readonly inPlace?: boolean;
}

/**
 * Where a value lives: a caller's parameter buffer, a constant, a shared slot, a fresh buffer per
 * run (graph results written by compiled steps), a library kernel's own allocation, or nowhere
 * (an empty tensor, one zero-length array made at compile time).
 */
export type Placement =
  | { readonly kind: "param" }
  | { readonly kind: "constant" }
  | { readonly kind: "slot"; readonly slot: number }
  | { readonly kind: "output" }
  | { readonly kind: "kernel" }
  | { readonly kind: "empty" };

export interface PlannedValue {
  readonly name: string;
  readonly type: TensorType;
  readonly bytes: number;
  /** The step that writes it (-1 for parameters and constants). */
  readonly def: number;
  /** The last step its buffer must survive (steps.length when it is returned). */
  readonly end: number;
  readonly placement: Placement;
  /** Took over the slot of this operand, which its step read for the last time. */
  readonly inPlaceOf?: string;
}

export interface MemoryPlan {
  /** Most bytes held at once during a run: slots, kernel scratch, and the fresh buffers live at the worst step. */
  readonly peakBytes: number;
  /** Distinct buffers a run uses for intermediates and results: slots + fresh results + library allocations. */
  readonly buffers: number;
  /** Byte size of each shared slot. */
  readonly slotBytes: readonly number[];
  /** Kernel scratch held by the executable. */
  readonly scratchBytes: number;
  /** Outputs written over an operand's slot. */
  readonly inPlace: number;
  readonly values: readonly PlannedValue[];
}

/** Union-find over value names, for buffers a kernel may hand back as its result. */
class Aliases {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let r = x;
    while (this.parent.has(r)) r = this.parent.get(r)!;
    let y = x;
    while (y !== r) {
      const next = this.parent.get(y)!;
      this.parent.set(y, r);
      y = next;
    }
    return r;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

const bytesOf = (t: TensorType): number => sizeOf(t.shape) * dtypeInfo(t.dtype).itemsize;

export function planMemory(input: PlanInput, options: PlanOptions = {}): MemoryPlan {
  const reuse = options.reuse ?? true;
  const allowInPlace = options.inPlace ?? true;
  const { steps } = input;
  const n = steps.length;

  // Liveness: the last step that reads each value (results outlive every step).
  const lastRead = new Map<string, number>();
  steps.forEach((s, i) => s.reads.forEach((r) => lastRead.set(r, i)));
  for (const r of input.results) lastRead.set(r, n);
  const aliases = new Aliases();
  for (const s of steps) for (const w of s.writes) for (const a of w.mayAlias ?? []) aliases.union(w.name, a);
  // A buffer lives as long as any value that may be it; a returned one belongs to the caller.
  const groupEnd = new Map<string, number>();
  const defs = new Map<string, number>();
  steps.forEach((s, i) => s.writes.forEach((w) => defs.set(w.name, i)));
  const allNames = [...input.params.map((p) => p.name), ...input.constants.map((c) => c.name), ...steps.flatMap((s) => s.writes.map((w) => w.name))];
  for (const name of allNames) {
    const root = aliases.find(name);
    const end = Math.max(lastRead.get(name) ?? defs.get(name) ?? -1, groupEnd.get(root) ?? -1);
    groupEnd.set(root, end);
  }
  const endOf = (name: string): number => groupEnd.get(aliases.find(name))!;

  const values: PlannedValue[] = [];
  const byName = new Map<string, PlannedValue>();
  const add = (v: PlannedValue): void => {
    values.push(v);
    byName.set(v.name, v);
  };
  for (const p of input.params) add({ name: p.name, type: p.type, bytes: bytesOf(p.type), def: -1, end: endOf(p.name), placement: { kind: "param" } });
  for (const c of input.constants) add({ name: c.name, type: c.type, bytes: bytesOf(c.type), def: -1, end: endOf(c.name), placement: { kind: "constant" } });

  const slotBytes: number[] = [];
  const slotFreeAt: number[] = []; // the slot is free for values written at steps > this
  const slotHolder: (string | undefined)[] = [];
  let inPlace = 0;
  let scratchBytes = 0;

  steps.forEach((s, i) => {
    scratchBytes += s.scratchBytes ?? 0;
    const taken = new Set<number>();
    for (const w of s.writes) {
      const bytes = bytesOf(w.type);
      const end = endOf(w.name);
      const base = { name: w.name, type: w.type, bytes, def: i, end };
      if (w.storage === "kernel") {
        add({ ...base, placement: { kind: "kernel" } });
        continue;
      }
      if (end >= n) {
        add({ ...base, placement: { kind: "output" } });
        continue;
      }
      if (bytes === 0) {
        add({ ...base, placement: { kind: "empty" } });
        continue;
      }
      // In place: an operand whose buffer dies with this step, read by nothing else that aliases it.
      let slot = -1;
      let inPlaceOf: string | undefined;
      if (allowInPlace && reuse) {
        for (const u of w.inPlace ?? []) {
          const pu = byName.get(u);
          if (!pu || pu.placement.kind !== "slot" || pu.bytes !== bytes || endOf(u) !== i) continue;
          const k = pu.placement.slot;
          if (taken.has(k) || slotHolder[k] !== u) continue;
          const otherAlias = s.reads.some((r) => r !== u && aliases.find(r) === aliases.find(u));
          if (otherAlias) continue;
          slot = k;
          inPlaceOf = u;
          inPlace++;
          break;
        }
      }
      if (slot < 0 && reuse) {
        let best = -1;
        let largest = -1;
        for (let k = 0; k < slotBytes.length; k++) {
          if (slotFreeAt[k]! >= i || taken.has(k)) continue;
          if (slotBytes[k]! >= bytes && (best < 0 || slotBytes[k]! < slotBytes[best]!)) best = k;
          if (largest < 0 || slotBytes[k]! > slotBytes[largest]!) largest = k;
        }
        slot = best >= 0 ? best : largest;
      }
      if (slot < 0) {
        slot = slotBytes.length;
        slotBytes.push(0);
        slotFreeAt.push(-1);
        slotHolder.push(undefined);
      }
      slotBytes[slot] = Math.max(slotBytes[slot]!, bytes);
      slotFreeAt[slot] = end;
      slotHolder[slot] = w.name;
      taken.add(slot);
      add({ ...base, placement: { kind: "slot", slot }, ...(inPlaceOf !== undefined ? { inPlaceOf } : {}) });
    }
  });

  // Peak: slots and scratch are held throughout; fresh buffers from their step to their end.
  const held = slotBytes.reduce((a, b) => a + b, 0) + scratchBytes;
  // A sweep over steps: each fresh buffer adds its bytes at its step and drops them after its end.
  const delta = new Float64Array(n + 1);
  for (const v of values) {
    if (v.placement.kind !== "output" && v.placement.kind !== "kernel") continue;
    delta[v.def]! += v.bytes;
    delta[Math.min(v.end, n - 1) + 1]! -= v.bytes;
  }
  let transient = 0;
  for (let i = 0, live = 0; i < n; i++) {
    live += delta[i]!;
    transient = Math.max(transient, live);
  }
  const fresh = values.filter((v) => v.placement.kind === "output" || v.placement.kind === "kernel").length;
  return { peakBytes: held + transient, buffers: slotBytes.length + fresh, slotBytes, scratchBytes, inPlace, values };
}

/** Where a slot's bytes live: by default a fresh ArrayBuffer; the WebAssembly path passes blocks of its memory. */
export type SlotAllocator = (bytes: number) => { readonly buffer: ArrayBufferLike; readonly byteOffset: number };

const heapSlot: SlotAllocator = (bytes) => ({ buffer: new ArrayBuffer(bytes), byteOffset: 0 });

/** Creates each slot once and a typed view of it for every value placed there, by name. */
export function slotViews(plan: MemoryPlan, allocateSlot: SlotAllocator = heapSlot): Map<string, TypedArray> {
  const slots = plan.slotBytes.map((b) => allocateSlot(b));
  const views = new Map<string, TypedArray>();
  for (const v of plan.values) {
    if (v.placement.kind !== "slot") continue;
    const Ctor = dtypeInfo(v.type.dtype).array as unknown as new (b: ArrayBufferLike, offset: number, length: number) => TypedArray;
    const slot = slots[v.placement.slot]!;
    views.set(v.name, new Ctor(slot.buffer, slot.byteOffset, sizeOf(v.type.shape)));
  }
  return views;
}
