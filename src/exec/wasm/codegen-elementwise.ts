/**
 * WebAssembly SIMD kernels for "elementwise" KernelSpecs (fused elementwise bodies and single
 * elementwise ops), specialized to their static shapes. The JavaScript generator in
 * src/exec/cpu/codegen-fused.ts is the reference: non-transcendental float32 ops give the same bits
 * (NaN payloads aside), see codegen-body.ts.
 *
 * Two loop shapes, chosen after collapsing the iteration space (codegen-loops.ts):
 *  - flat: every operand is either laid out like the output or a single element (splatted once).
 *    Items are elements; a chunk is a multiple of 4 elements, so whole vectors never straddle two
 *    chunks, and the last vector may run into the buffers' padding, which the ABI allows.
 *  - nest: broadcasting remains (bias rows, columns, general). Items are rows of the innermost
 *    collapsed dim; each row recomputes its operands' offsets from the row index, loads operands
 *    that are constant along the row once (splat), vectorizes along the row (stride 1: whole
 *    vectors; other strides: lanes gathered) and finishes with a lane-wise tail that writes only
 *    inside the row.
 */
import { sizeOf, stridesOf } from "../../ir/shape.js";
import type { TensorType } from "../../ir/types.js";
import type { KernelSpec } from "../cpu/codegen-fused.js";
import { specKey } from "../cpu/codegen-fused.js";
import { collapse } from "../cpu/codegen-loops.js";
import { type WasmKernelPlan, kernelMemory } from "./abi.js";
import {
  BodyEmitter,
  divmod,
  elemBytes,
  lanesOf,
  loadLane,
  loadSplat,
  narrowForStore,
  needed,
  nodeSupported,
  storeLane,
  toRegister,
  widenLoaded,
} from "./codegen-body.js";
import { type FunctionBuilder, ModuleBuilder } from "./emit.js";

/** Elements per chunk of a flat kernel (a multiple of 16, so byte outputs stay whole vectors too). */
export const FLAT_GRAIN = 16384;
/** Bump when generated code changes, so plan keys never collide across versions. */
const VERSION = 1;

/** The broadcast of the output shapes, or undefined if they do not broadcast. */
function outputSpace(outputs: readonly TensorType[]): number[] | undefined {
  let space: number[] = [];
  for (const t of outputs) {
    const rank = Math.max(space.length, t.shape.length);
    const next: number[] = [];
    for (let i = 0; i < rank; i++) {
      const a = space[space.length - rank + i] ?? 1;
      const b = t.shape[t.shape.length - rank + i] ?? 1;
      if (a !== b && a !== 1 && b !== 1) return undefined;
      next.push(a === 1 ? b : a);
    }
    space = next;
  }
  return space;
}

/** Strides (in elements) of `shape` broadcast within `space`; undefined if it does not broadcast there. */
export function stridesWithin(shape: readonly number[], space: readonly number[]): number[] | undefined {
  const off = space.length - shape.length;
  if (off < 0 || !shape.every((d, i) => d === 1 || d === space[off + i])) return undefined;
  const own = stridesOf(shape);
  return space.map((_, d) => {
    const i = d - off;
    return i < 0 || shape[i] === 1 ? 0 : own[i]!;
  });
}

/** One array the kernel touches: an input it reads or an output it writes. */
interface Arr {
  /** Index into the args block (inputs first, then outputs). */
  readonly slot: number;
  readonly dtype: TensorType["dtype"];
  /** Per collapsed dim, in elements. */
  readonly strides: readonly number[];
  /** For inputs: the input index; for outputs: undefined. */
  readonly input?: number;
  readonly output?: number;
}

export function wasmElementwisePlan(spec: KernelSpec, opts: { shared: boolean }): WasmKernelPlan | undefined {
  if (spec.kind !== "elementwise" || spec.outputs.length === 0 || spec.yields.length !== spec.outputs.length) return undefined;
  const space = outputSpace(spec.outputs);
  if (space === undefined || !spec.outputs.every((t) => t.shape.length === space.length && t.shape.every((d, i) => d === space[i]))) return undefined;
  const { nodes, inputs } = needed(spec, spec.yields);
  if (!nodes.every((j) => nodeSupported(spec, spec.nodes[j]!))) return undefined;
  if (![...inputs.map((k) => spec.inputs[k]!.dtype), ...spec.outputs.map((t) => t.dtype)].every((d) => lanesOf(d) !== undefined)) return undefined;
  const inStrides = inputs.map((k) => stridesWithin(spec.inputs[k]!.shape, space));
  if (inStrides.some((s) => s === undefined)) return undefined;

  const key = `wasm-elementwise:v${VERSION}:${opts.shared ? "shared" : "plain"}:${specKey(spec)}`;
  const mb = new ModuleBuilder({ memory: kernelMemory(opts.shared) });
  const size = sizeOf(space);
  if (size === 0) {
    mb.func("run", ["i32", "i32", "i32"], [], () => {});
    return { key, bytes: mb.bytes(), phases: [{ entry: "run", items: 0, grain: 1 }], scratchBytes: 0 };
  }
  const outStrides = stridesOf(space);
  const c = collapse(space, [...(inStrides as number[][]), ...spec.outputs.map(() => outStrides)]);
  const arrays: Arr[] = [
    ...inputs.map((k, a) => ({ slot: k, dtype: spec.inputs[k]!.dtype, strides: c.strides[a]!, input: k })),
    ...spec.outputs.map((t, o) => ({ slot: spec.inputs.length + o, dtype: t.dtype, strides: c.strides[inputs.length + o]!, output: o })),
  ];
  const rank = c.dims.length;
  const rowLen = rank <= 1 ? size : c.dims[rank - 1]!;
  const emitted = emitGuarded(() => mb.func("run", ["i32", "i32", "i32"], [], (f) => (rank <= 1 ? emitFlat(f, spec, nodes, arrays) : emitNest(f, spec, nodes, arrays, c.dims))));
  if (!emitted) return undefined;
  const phase = rank <= 1 ? { entry: "run", items: size, grain: FLAT_GRAIN } : { entry: "run", items: size / rowLen, grain: Math.max(1, Math.floor(FLAT_GRAIN / rowLen)) };
  return { key, bytes: mb.bytes(), phases: [phase], scratchBytes: 0 };
}

/**
 * Runs an emission step; false when a math routine it calls is not available (vmath.ts reports a
 * function it does not implement by throwing), so the caller declines and the JS kernel runs.
 */
export function emitGuarded(emit: () => void): boolean {
  try {
    emit();
    return true;
  } catch (err) {
    if (err instanceof Error && err.message.startsWith("emitVMath:")) return false;
    throw err;
  }
}

const ARGS = 0;
const BEGIN = 1;
const END = 2;

/** Pushes the address in slot `slot` of the args block. */
function argPtr(f: FunctionBuilder, slot: number): void {
  f.localGet(ARGS);
  f.i32.load(4 * slot);
}

/** Loads four consecutive elements at the address pushed by `addr` into `into`, in register form. */
function loadVector(f: FunctionBuilder, d: Arr["dtype"], addr: () => void, into: number): void {
  addr();
  if (elemBytes(d) === 4) f.v128.load();
  else {
    f.v128.load32Zero();
    widenLoaded(f, d);
  }
  f.localSet(into);
}

/** Stores the register-form local `v` as four consecutive elements at the address pushed by `addr`. */
function storeVector(f: FunctionBuilder, d: Arr["dtype"], addr: () => void, v: number): void {
  addr();
  f.localGet(v);
  if (elemBytes(d) === 4) f.v128.store();
  else {
    narrowForStore(f, d);
    f.v128.store32Lane(0);
  }
}

function emitFlat(f: FunctionBuilder, spec: KernelSpec, nodes: readonly number[], arrays: readonly Arr[]): void {
  const body = new BodyEmitter(f, spec);
  // A single-element operand (all strides 0) is splatted once; everything else streams.
  const isSplat = (a: Arr): boolean => a.input !== undefined && a.strides.length === 1 && a.strides[0] === 0;
  for (const a of arrays) if (a.input !== undefined) body.setInputLevel(a.input, isSplat(a) ? 0 : 2);
  const streams = arrays.filter((a) => !isSplat(a));
  const ptr = new Map<Arr, number>();
  for (const a of arrays) {
    if (isSplat(a)) loadSplat(f, a.dtype, () => argPtr(f, a.slot), body.local({ input: a.input! }));
  }
  body.compute(nodes, 0);
  for (const a of streams) {
    const p = f.local("i32");
    ptr.set(a, p);
    argPtr(f, a.slot);
    f.localGet(BEGIN);
    if (elemBytes(a.dtype) === 4) {
      f.i32.const(2);
      f.i32.shl();
    }
    f.i32.add();
    f.localSet(p);
  }
  const i = f.local("i32");
  f.forRange(i, { local: BEGIN }, { local: END }, 4, () => {
    for (const a of streams) if (a.input !== undefined) loadVector(f, a.dtype, () => f.localGet(ptr.get(a)!), body.local({ input: a.input }));
    body.compute(nodes, 2);
    for (const a of streams) {
      if (a.output === undefined) continue;
      storeVector(f, a.dtype, () => f.localGet(ptr.get(a)!), body.local(spec.yields[a.output]!));
    }
    for (const a of streams) {
      const p = ptr.get(a)!;
      f.localGet(p);
      f.i32.const(4 * elemBytes(a.dtype));
      f.i32.add();
      f.localSet(p);
    }
  });
}

function emitNest(f: FunctionBuilder, spec: KernelSpec, nodes: readonly number[], arrays: readonly Arr[], dims: readonly number[]): void {
  const body = new BodyEmitter(f, spec);
  const rank = dims.length;
  const L = dims[rank - 1]!;
  const inner = (a: Arr): number => a.strides[rank - 1]!;
  const levelOf = (a: Arr): number => (a.strides.every((s) => s === 0) ? 0 : inner(a) === 0 ? 1 : 2);
  for (const a of arrays) if (a.input !== undefined) body.setInputLevel(a.input, levelOf(a));

  const base = new Map<Arr, number>();
  for (const a of arrays) {
    const b = f.local("i32");
    base.set(a, b);
    argPtr(f, a.slot);
    f.localSet(b);
  }
  for (const a of arrays) if (a.input !== undefined && levelOf(a) === 0) loadSplat(f, a.dtype, () => f.localGet(base.get(a)!), body.local({ input: a.input }));
  body.compute(nodes, 0);

  const moving = arrays.filter((a) => levelOf(a) > 0);
  const idx = dims.slice(0, rank - 1).map(() => f.local("i32"));
  const t = f.local("i32");
  const ptr = new Map<Arr, number>();
  for (const a of moving) ptr.set(a, f.local("i32"));
  const row = f.local("i32");
  f.forRange(row, { local: BEGIN }, { local: END }, 1, () => {
    // The row's multi-index over the outer dims (static divisors), then each array's row address.
    divmod(f, row, dims.slice(0, rank - 1), idx, t);
    for (const a of moving) {
      f.localGet(base.get(a)!);
      for (let d = 0; d < rank - 1; d++) {
        const s = a.strides[d]! * elemBytes(a.dtype);
        if (s === 0) continue;
        f.localGet(idx[d]!);
        if (s !== 1) {
          f.i32.const(s);
          f.i32.mul();
        }
        f.i32.add();
      }
      f.localSet(ptr.get(a)!);
    }
    for (const a of moving) if (a.input !== undefined && levelOf(a) === 1) loadSplat(f, a.dtype, () => f.localGet(ptr.get(a)!), body.local({ input: a.input }));
    body.compute(nodes, 1);

    const streams = moving.filter((a) => levelOf(a) === 2 || a.output !== undefined);
    const loadStreams = (lanes: number): void => {
      for (const a of streams) {
        if (a.input === undefined) continue;
        const v = body.local({ input: a.input });
        const p = (): void => f.localGet(ptr.get(a)!);
        const step = inner(a) * elemBytes(a.dtype);
        if (lanes === 4 && inner(a) === 1) {
          loadVector(f, a.dtype, p, v);
          continue;
        }
        f.v128.const(new Uint8Array(16));
        f.localSet(v);
        for (let l = 0; l < lanes; l++) loadLane(f, a.dtype, p, l * step, l, v);
        if (a.dtype === "bool") {
          f.localGet(v);
          toRegister(f, a.dtype);
          f.localSet(v);
        }
      }
    };
    const nvec = Math.floor(L / 4);
    if (nvec > 0) {
      const j = f.local("i32");
      f.forRange(j, 0, nvec, 1, () => {
        loadStreams(4);
        body.compute(nodes, 2);
        for (const a of streams) {
          if (a.output === undefined) continue;
          storeVector(f, a.dtype, () => f.localGet(ptr.get(a)!), body.local(spec.yields[a.output]!));
        }
        for (const a of streams) {
          const p = ptr.get(a)!;
          f.localGet(p);
          f.i32.const(4 * inner(a) * elemBytes(a.dtype));
          f.i32.add();
          f.localSet(p);
        }
      });
    }
    const tail = L % 4;
    if (tail > 0) {
      loadStreams(tail);
      body.compute(nodes, 2);
      for (const a of streams) {
        if (a.output === undefined) continue;
        const v = body.local(spec.yields[a.output]!);
        for (let l = 0; l < tail; l++) storeLane(f, a.dtype, () => f.localGet(ptr.get(a)!), l * elemBytes(a.dtype), l, v);
      }
    }
  });
}
