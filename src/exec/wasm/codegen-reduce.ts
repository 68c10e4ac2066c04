/**
 * WebAssembly SIMD kernels for "reduce" KernelSpecs: an elementwise body computed per element of
 * the reduction's input space, feeding one reduction (sum, mean, max, min; any and all as single
 * ops; prod declines), with optional extra yields of the space's shape stored by the same loop
 * (softmax's exp(x - max)). The JavaScript generator (codegen-fused.ts genReduce) is the reference.
 *
 * Two loop shapes, after collapsing the space with reduced/kept tags (codegen-loops.ts collapse):
 *  - row: the innermost collapsed dim is reduced (softmax's rows, layerNorm's moments). Items are
 *    output elements; each walks its reduced positions in the JS order, the innermost run
 *    vectorized and unrolled twice into two accumulators (two dependency chains), tail lanes
 *    masked to the reduction's identity.
 *  - column: the innermost collapsed dim is kept (sums over an outer axis). Items are groups of up
 *    to 16 adjacent outputs; each lane accumulates one output over the reduced positions in the
 *    JS order, so even float sums are bit-identical to the JS kernel there.
 *
 * Accuracy: float sums accumulate in float64 lanes, as the JS kernel does, but in row mode the
 * lanes hold interleaved partial sums, added in a fixed order at the end (the two accumulators
 * lane-wise, then lanes 0+2 and 1+3, then those two), so a float32 sum or mean can differ from the
 * JS kernel's sequential float64 sum by the rounding of the float64 partials: the float32 results
 * are identical or 1 ulp apart (tests enforce 1 ulp). max and min are exact, including which zero
 * (+0/-0) or NaN wins: each lane remembers the position where it first reached its value, and
 * lanes merge by (value, first position), as the sequential loop keeps the first of equal values.
 * Integer sums wrap (order-free), integer means sum exactly in float64 (below 2^53), any/all fold
 * masks: all exact. The result never depends on the chunking: one call computes a whole item.
 */
import type { DType } from "../../ir/dtype.js";
import { sizeOf, stridesOf } from "../../ir/shape.js";
import type { KernelSpec } from "../cpu/codegen-fused.js";
import { specKey } from "../cpu/codegen-fused.js";
import { collapse } from "../cpu/codegen-loops.js";
import { kernelMemory, type WasmKernelPlan } from "./abi.js";
import { BodyEmitter, divmod, elemBytes, isInput, lanesOf, loadLane, loadSplat, narrowForStore, needed, nodeSupported, refDType, refShape, storeLane, toRegister, vmathFnOf, widenLoaded } from "./codegen-body.js";
import { emitGuarded, stridesWithin } from "./codegen-elementwise.js";
import { type FunctionBuilder, ModuleBuilder } from "./emit.js";

const VERSION = 1;
/** Elements of the space per chunk, roughly (items are rows or column groups). */
const WORK_PER_CHUNK = 16384;
/** Vectors per column-mode item (16 outputs: a 64-byte line of float32 per reduced position). */
const COLUMN_VECTORS = 4;

type RedOp = "reduceSum" | "reduceMean" | "reduceMax" | "reduceMin" | "reduceAny" | "reduceAll";

interface Arr {
  readonly slot: number;
  readonly dtype: DType;
  readonly strides: readonly number[];
  readonly input?: number;
  /** For an extra yield: its index among the outputs. */
  readonly extra?: number;
}

const ARGS = 0;
const BEGIN = 1;
const END = 2;

export function wasmReducePlan(spec: KernelSpec, opts: { shared: boolean }): WasmKernelPlan | undefined {
  if (spec.kind !== "reduce" || spec.nodes.length === 0 || spec.yields.length !== spec.outputs.length || spec.yields.length === 0) return undefined;
  const last = spec.nodes.length - 1;
  const red = spec.nodes[last]!;
  const op = red.op.name as RedOp;
  if (!["reduceSum", "reduceMean", "reduceMax", "reduceMin", "reduceAny", "reduceAll"].includes(op)) return undefined;
  const finalYield = spec.yields[spec.yields.length - 1]!;
  if (isInput(finalYield) || finalYield.node !== last) return undefined;
  const src = red.operands[0]!;
  const srcType = refDType(spec, src);
  const outType = spec.outputs[spec.outputs.length - 1]!;
  // any/all of every dtype (bool out); sum/mean/max/min of float32; sums (wrapping int32), means
  // (float32) and int32 max/min of the integer dtypes. uint8/bool max/min keep the JS kernel.
  const want: Partial<Record<RedOp, DType>> =
    srcType === "float32"
      ? { reduceSum: "float32", reduceMean: "float32", reduceMax: "float32", reduceMin: "float32" }
      : { reduceSum: "int32", reduceMean: "float32", ...(srcType === "int32" ? { reduceMax: "int32", reduceMin: "int32" } : {}) };
  want.reduceAny = "bool";
  want.reduceAll = "bool";
  const ok = lanesOf(srcType) !== undefined && want[op] === outType.dtype;
  if (!ok) return undefined;
  const space = refShape(spec, src);
  const axes = red.attrs["axes"] as readonly number[];
  const isReduced = space.map((_, d) => axes.includes(d));
  const count = sizeOf(axes.map((a) => space[a]!));
  const extras = spec.yields.slice(0, -1);
  if (extras.some((r) => isInput(r) || r.node === last || refShape(spec, r).length !== space.length || refShape(spec, r).some((d, i) => d !== space[i]))) return undefined;
  const { nodes: allNodes, inputs } = needed(spec, [src, ...extras]);
  const nodes = allNodes.filter((j) => j !== last);
  if (!nodes.every((j) => nodeSupported(spec, spec.nodes[j]!))) return undefined;
  if (![...inputs.map((k) => spec.inputs[k]!.dtype), ...extras.map((r) => refDType(spec, r))].every((d) => lanesOf(d) !== undefined)) return undefined;
  const inStrides = inputs.map((k) => stridesWithin(spec.inputs[k]!.shape, space));
  if (inStrides.some((s) => s === undefined)) return undefined;

  const key = `wasm-reduce:v${VERSION}:${opts.shared ? "shared" : "plain"}:${specKey(spec)}`;
  const mb = new ModuleBuilder({ memory: kernelMemory(opts.shared) });
  const outSize = sizeOf(outType.shape);
  if (outSize === 0) {
    mb.func("run", ["i32", "i32", "i32"], [], () => {});
    return { key, bytes: mb.bytes(), phases: [{ entry: "run", items: 0, grain: 1 }], scratchBytes: 0 };
  }
  // An empty reduced extent: the JS kernel fills the identity (or throws for max/min).
  if (count === 0) return undefined;

  const keptShape = space.filter((_, d) => !isReduced[d]);
  const keptStrides = stridesOf(keptShape);
  let kd = 0;
  const outStrides = space.map((_, d) => (isReduced[d] ? 0 : keptStrides[kd++]!));
  const spaceStrides = stridesOf(space);
  const c = collapse(space, [...(inStrides as number[][]), ...extras.map(() => spaceStrides), outStrides], isReduced);
  const arrays: Arr[] = [
    ...inputs.map((k, a) => ({ slot: k, dtype: spec.inputs[k]!.dtype, strides: c.strides[a]!, input: k })),
    ...extras.map((r, e) => ({ slot: spec.inputs.length + e, dtype: refDType(spec, r), strides: c.strides[inputs.length + e]!, extra: e })),
  ];
  const out = { slot: spec.inputs.length + spec.outputs.length - 1, dtype: outType.dtype, strides: c.strides[c.strides.length - 1]! };
  const rank = c.dims.length;
  const ctx: Ctx = { spec, nodes, arrays, out, dims: c.dims, tags: c.tags, op, srcType, count, src };
  if (rank === 0 || c.tags[rank - 1]) {
    // Row mode (rank 0: a single element reduced to itself, a row of length 1).
    if (!emitGuarded(() => mb.func("run", ["i32", "i32", "i32"], [], (f) => emitRows(f, ctx)))) return undefined;
    const rowLen = count;
    return { key, bytes: mb.bytes(), phases: [{ entry: "run", items: outSize, grain: Math.max(1, Math.floor(WORK_PER_CHUNK / rowLen)) }], scratchBytes: 0 };
  }
  const K = c.dims[rank - 1]!;
  const groupCols = 4 * Math.min(COLUMN_VECTORS, Math.ceil(K / 4));
  const groups = Math.ceil(K / groupCols);
  if (!emitGuarded(() => mb.func("run", ["i32", "i32", "i32"], [], (f) => emitColumns(f, ctx, groupCols)))) return undefined;
  const items = (outSize / K) * groups;
  return { key, bytes: mb.bytes(), phases: [{ entry: "run", items, grain: Math.max(1, Math.floor(WORK_PER_CHUNK / (count * groupCols))) }], scratchBytes: 0 };
}

interface Ctx {
  readonly spec: KernelSpec;
  readonly nodes: readonly number[];
  readonly arrays: readonly Arr[];
  readonly out: { readonly slot: number; readonly dtype: DType; readonly strides: readonly number[] };
  readonly dims: readonly number[];
  readonly tags: readonly boolean[];
  readonly op: RedOp;
  readonly srcType: DType;
  readonly count: number;
  readonly src: KernelSpec["yields"][number];
}

// ---- shared pieces ----------------------------------------------------------------------------------

/**
 * The part every reduce loop nest starts with: the body's input levels, each array's base address,
 * the output's, loop-invariant (level 0) inputs splatted and the body values that depend only on
 * them computed once. Returns the arrays that move inside the nest.
 */
function prologue(
  f: FunctionBuilder,
  spec: KernelSpec,
  arrays: readonly Arr[],
  out: { readonly slot: number },
  nodes: readonly number[],
  levelOf: (a: Arr) => number,
): { body: BodyEmitter; base: Map<Arr, number>; outBase: number; moving: Arr[] } {
  const body = new BodyEmitter(f, spec);
  for (const a of arrays) if (a.input !== undefined) body.setInputLevel(a.input, levelOf(a));
  const base = new Map<Arr, number>();
  for (const a of arrays) {
    const b = f.local("i32");
    argPtr(f, a.slot);
    f.localSet(b);
    base.set(a, b);
  }
  const outBase = f.local("i32");
  argPtr(f, out.slot);
  f.localSet(outBase);
  for (const a of arrays) if (a.input !== undefined && levelOf(a) === 0) loadSplat(f, a.dtype, () => f.localGet(base.get(a)!), body.local({ input: a.input }));
  body.compute(nodes, 0);
  return { body, base, outBase, moving: arrays.filter((a) => levelOf(a) > 0) };
}

function argPtr(f: FunctionBuilder, slot: number): void {
  f.localGet(ARGS);
  f.i32.load(4 * slot);
}


/** Pushes base + sum over `dimsOf` of idx * stride * esize (bytes). */
function address(f: FunctionBuilder, base: () => void, a: { dtype: DType; strides: readonly number[] }, dimsOf: readonly number[], idx: readonly number[]): void {
  base();
  dimsOf.forEach((d, k) => {
    const s = a.strides[d]! * elemBytes(a.dtype);
    if (s === 0) return;
    f.localGet(idx[k]!);
    if (s !== 1) {
      f.i32.const(s);
      f.i32.mul();
    }
    f.i32.add();
  });
}

/** Loads `lanes` elements (stride `step` bytes) at the address in local `p` + offset into `into`, register form. */
function loadRun(f: FunctionBuilder, d: DType, p: number, offset: number, stride: number, lanes: number, into: number): void {
  const eb = elemBytes(d);
  if (lanes === 4 && stride === 1) {
    f.localGet(p);
    if (eb === 4) f.v128.load(offset);
    else {
      f.v128.load32Zero(offset);
      widenLoaded(f, d);
    }
    f.localSet(into);
    return;
  }
  f.v128.const(new Uint8Array(16));
  f.localSet(into);
  for (let l = 0; l < lanes; l++) loadLane(f, d, () => f.localGet(p), offset + l * stride * eb, l, into);
  if (d === "bool") {
    f.localGet(into);
    toRegister(f, d);
    f.localSet(into);
  }
}

/** Stores `lanes` elements of the register-form local `v` at local `p` + offset, contiguous. */
function storeRun(f: FunctionBuilder, d: DType, p: number, offset: number, lanes: number, v: number): void {
  if (lanes === 4) {
    f.localGet(p);
    f.localGet(v);
    if (elemBytes(d) === 4) f.v128.store(offset);
    else {
      narrowForStore(f, d);
      f.v128.store32Lane(0, offset);
    }
    return;
  }
  for (let l = 0; l < lanes; l++) storeLane(f, d, () => f.localGet(p), offset + l * elemBytes(d), l, v);
}

const HIGH_TO_LOW = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
const LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** Lane mask: lanes below `n` all ones. */
function laneMask(f: FunctionBuilder, n: number): void {
  f.i32x4.const(n > 0 ? -1 : 0, n > 1 ? -1 : 0, n > 2 ? -1 : 0, n > 3 ? -1 : 0);
}

const isMax = (op: RedOp): boolean => op === "reduceMax";
const isMinMax = (op: RedOp): boolean => op === "reduceMax" || op === "reduceMin";

/**
 * How a reduction accumulates, by op and source dtype:
 *  fsum    float32 sums and means, and means of integers: float64 lanes, as the JS kernel's float64
 *          accumulator (exact for integers, whose float64 sums cannot round here)
 *  isum    integer sums: wrapping int32 lanes (order-free, exact)
 *  fminmax float32 max/min: value, first position (row mode) and a NaN flag per lane
 *  iminmax int32 max/min: integer lanes
 *  any/all truthiness masks (`v !== 0`, NaN true) or-ed / and-ed
 */
type Mode = "fsum" | "isum" | "fminmax" | "iminmax" | "any" | "all";

function modeOf(op: RedOp, d: DType): Mode {
  if (op === "reduceAny") return "any";
  if (op === "reduceAll") return "all";
  if (isMinMax(op)) return d === "float32" ? "fminmax" : "iminmax";
  return d === "float32" || op === "reduceMean" ? "fsum" : "isum";
}

/** The identity a lane not holding data takes, as a splat (for any/all: the truthiness mask). */
function identity(f: FunctionBuilder, op: RedOp, mode: Mode): void {
  switch (mode) {
    case "fminmax": {
      const v = isMax(op) ? -Infinity : Infinity;
      return f.f32x4.const(v, v, v, v);
    }
    case "iminmax": {
      const v = isMax(op) ? -2147483648 : 2147483647;
      return f.i32x4.const(v, v, v, v);
    }
    case "all":
      return f.i32x4.const(-1, -1, -1, -1);
    default:
      return f.i32x4.const(0, 0, 0, 0);
  }
}

/**
 * One vector accumulator. `lanes`: how many lanes of the value are real (the others are replaced
 * by the identity first). fsum keeps two f64x2 partials (a: lanes 0,1; b: lanes 2,3); fminmax keeps
 * the value in `a` and, in row mode, in `b` the position where each lane first reached it, plus
 * `nan`: whether a lane saw a NaN (the JS loop then ends with a NaN, whatever follows); the other
 * modes keep one vector in `a`.
 */
class VecAcc {
  private readonly a: number;
  private readonly b: number;
  private readonly nan: number;
  private readonly m: number;
  private readonly tmp: number;
  private readonly f: FunctionBuilder;
  readonly mode: Mode;

  constructor(
    f: FunctionBuilder,
    private readonly op: RedOp,
    /** The dtype of the values folded in. */
    private readonly d: DType,
    /** Row mode: a local i32x4 holding the positions of the lanes being folded in (undefined in column mode). */
    private readonly pos: number | undefined,
  ) {
    this.f = f;
    this.mode = modeOf(op, d);
    this.a = f.local("v128");
    this.b = f.local("v128");
    this.nan = f.local("v128");
    this.m = f.local("v128");
    this.tmp = f.local("v128");
  }

  init(): void {
    const f = this.f;
    if (this.mode === "fsum") {
      f.f64x2.const(0, 0);
      f.localSet(this.a);
      f.f64x2.const(0, 0);
      f.localSet(this.b);
      return;
    }
    identity(f, this.op, this.mode);
    f.localSet(this.a);
    if (this.mode === "fminmax") {
      f.i32x4.const(0, 0, 0, 0);
      f.localSet(this.b);
      f.i32x4.const(0, 0, 0, 0);
      f.localSet(this.nan);
    }
  }

  /** Pushes the low two lanes of the local `v` as float64 (exact: float32 or integer values). */
  private low64(v: number, high: boolean): void {
    const f = this.f;
    f.localGet(v);
    if (high) {
      f.localGet(v);
      f.i8x16.shuffle(HIGH_TO_LOW);
    }
    if (this.d === "float32") f.f64x2.promoteLowF32x4();
    else {
      if (this.d === "bool") f.i32x4.neg(); // mask -> 0/1
      f.f64x2.convertLowI32x4S();
    }
  }

  /** Folds the register-form local `value` in. */
  update(value: number, lanes: number): void {
    const f = this.f;
    let v = value;
    if (this.mode === "any" || this.mode === "all") {
      // Fold the truthiness mask; tail lanes take the identity mask.
      v = this.tmp;
      f.localGet(value);
      if (this.d !== "bool") {
        f.i32x4.const(0, 0, 0, 0); // +0.0 and integer 0 share their bits
        if (this.d === "float32") f.f32x4.ne();
        else f.i32x4.ne();
      }
      if (lanes < 4) {
        identity(f, this.op, this.mode);
        laneMask(f, lanes);
        f.v128.bitselect();
      }
      f.localSet(v);
      f.localGet(this.a);
      f.localGet(v);
      if (this.mode === "any") f.v128.or();
      else f.v128.and();
      f.localSet(this.a);
      return;
    }
    if (lanes < 4) {
      // Into a temporary: the value's own local may be loop-invariant and read again later.
      v = this.tmp;
      f.localGet(value);
      identity(f, this.op, this.mode);
      laneMask(f, lanes);
      f.v128.bitselect();
      f.localSet(v);
    }
    switch (this.mode) {
      case "fsum":
        for (const [acc, high] of [[this.a, false], [this.b, true]] as const) {
          f.localGet(acc);
          this.low64(v, high);
          f.f64x2.add();
          f.localSet(acc);
        }
        return;
      case "isum":
        f.localGet(this.a);
        f.localGet(v);
        // A bool lane is a mask (-1 when true): subtracting it counts.
        if (this.d === "bool") f.i32x4.sub();
        else f.i32x4.add();
        f.localSet(this.a);
        return;
      case "iminmax":
        f.localGet(this.a);
        f.localGet(v);
        if (isMax(this.op)) f.i32x4.maxS();
        else f.i32x4.minS();
        f.localSet(this.a);
        return;
      default:
        break;
    }
    // fminmax: the JS loop's `if (v > acc || v !== v) acc = v`, with the NaN part kept aside (off
    // the loop-carried chain): a lane that saw a NaN ends as NaN.
    if (this.pos === undefined) {
      // Without positions: pmax(a, v) = a < v ? v : a (pmin: v < a ? v : a), the same choice as
      // the compare and select, in one instruction (f32x4.max/min cost several on x64).
      f.localGet(this.a);
      f.localGet(v);
      if (isMax(this.op)) f.f32x4.pmax();
      else f.f32x4.pmin();
      f.localSet(this.a);
      f.localGet(this.nan);
      f.localGet(v);
      f.localGet(v);
      f.f32x4.ne();
      f.v128.or();
      f.localSet(this.nan);
      return;
    }
    f.localGet(v);
    f.localGet(this.a);
    if (isMax(this.op)) f.f32x4.gt();
    else f.f32x4.lt();
    f.localSet(this.m);
    f.localGet(v);
    f.localGet(this.a);
    f.localGet(this.m);
    f.v128.bitselect();
    f.localSet(this.a);
    f.localGet(this.nan);
    f.localGet(v);
    f.localGet(v);
    f.f32x4.ne();
    f.v128.or();
    f.localSet(this.nan);
    if (this.pos === undefined) return;
    f.localGet(this.pos);
    f.localGet(this.b);
    f.localGet(this.m);
    f.v128.bitselect();
    f.localSet(this.b);
  }

  /** Row mode: folds `other` (same op, positions from the same counter) into this one, lane by lane. */
  absorb(other: VecAcc): void {
    const f = this.f;
    const lanewise = (op: () => void): void => {
      f.localGet(this.a);
      f.localGet(other.a);
      op();
      f.localSet(this.a);
    };
    switch (this.mode) {
      case "fsum":
        for (const [x, y] of [[this.a, other.a], [this.b, other.b]] as const) {
          f.localGet(x);
          f.localGet(y);
          f.f64x2.add();
          f.localSet(x);
        }
        return;
      case "isum":
        return lanewise(f.i32x4.add);
      case "iminmax":
        return lanewise(isMax(this.op) ? f.i32x4.maxS : f.i32x4.minS);
      case "any":
        return lanewise(f.v128.or);
      case "all":
        return lanewise(f.v128.and);
      default:
        break;
    }
    // fminmax: other wins a lane when better, or equal and reached earlier.
    f.localGet(other.a);
    f.localGet(this.a);
    if (isMax(this.op)) f.f32x4.gt();
    else f.f32x4.lt();
    f.localGet(other.a);
    f.localGet(this.a);
    f.f32x4.eq();
    f.localGet(other.b);
    f.localGet(this.b);
    f.i32x4.ltS();
    f.v128.and();
    f.v128.or();
    f.localSet(this.m);
    f.localGet(other.a);
    f.localGet(this.a);
    f.localGet(this.m);
    f.v128.bitselect();
    f.localSet(this.a);
    f.localGet(other.b);
    f.localGet(this.b);
    f.localGet(this.m);
    f.v128.bitselect();
    f.localSet(this.b);
    f.localGet(this.nan);
    f.localGet(other.nan);
    f.v128.or();
    f.localSet(this.nan);
  }

  /** Row mode: pushes the scalar result (f32, i32, or 0/1 for any/all) of merging the lanes in a fixed order. */
  finishScalar(count: number): void {
    const f = this.f;
    switch (this.mode) {
      case "any":
        f.localGet(this.a);
        f.v128.anyTrue();
        return;
      case "all":
        f.localGet(this.a);
        f.i32x4.allTrue();
        return;
      case "isum":
        for (let l = 0; l < 4; l++) {
          f.localGet(this.a);
          f.i32x4.extractLane(l);
          if (l > 0) f.i32.add();
        }
        return;
      case "fsum":
        // (a0 + b0) + (a1 + b1): lanes 0+2 and 1+3, then the two.
        f.localGet(this.a);
        f.localGet(this.b);
        f.f64x2.add();
        f.localTee(this.tmp);
        f.f64x2.extractLane(0);
        f.localGet(this.tmp);
        f.f64x2.extractLane(1);
        f.f64.add();
        if (this.op === "reduceMean") {
          f.f64.const(count);
          f.f64.div();
        }
        f.f32.demoteF64();
        return;
      case "iminmax":
        for (let l = 0; l < 4; l++) {
          f.localGet(this.a);
          f.i32x4.extractLane(l);
          if (l > 0) {
            // select(x, y, x > y) keeps the larger (max) or smaller (min): exact for integers.
            const y = f.local("i32");
            const x = f.local("i32");
            f.localSet(y);
            f.localSet(x);
            f.localGet(x);
            f.localGet(y);
            f.localGet(x);
            f.localGet(y);
            if (isMax(this.op)) f.i32.gtS();
            else f.i32.ltS();
            f.select();
          }
        }
        return;
      default:
        break;
    }
    // fminmax: merge (value, first position) pairs: better, or equal and earlier, wins; then NaN if any lane saw one.
    const best = f.local("f32");
    const bpos = f.local("i32");
    const v = f.local("f32");
    const p = f.local("i32");
    const take = f.local("i32");
    f.localGet(this.a);
    f.f32x4.extractLane(0);
    f.localSet(best);
    f.localGet(this.b);
    f.i32x4.extractLane(0);
    f.localSet(bpos);
    for (let l = 1; l < 4; l++) {
      f.localGet(this.a);
      f.f32x4.extractLane(l);
      f.localSet(v);
      f.localGet(this.b);
      f.i32x4.extractLane(l);
      f.localSet(p);
      f.localGet(v);
      f.localGet(best);
      if (isMax(this.op)) f.f32.gt();
      else f.f32.lt();
      f.localGet(v);
      f.localGet(best);
      f.f32.eq();
      f.localGet(p);
      f.localGet(bpos);
      f.i32.ltS();
      f.i32.and();
      f.i32.or();
      f.localSet(take);
      f.localGet(v);
      f.localGet(best);
      f.localGet(take);
      f.select();
      f.localSet(best);
      f.localGet(p);
      f.localGet(bpos);
      f.localGet(take);
      f.select();
      f.localSet(bpos);
    }
    f.f32.const(NaN);
    f.localGet(best);
    f.localGet(this.nan);
    f.v128.anyTrue();
    f.select();
  }

  /** Column mode: stores the first `lanes` lane results, as `out`, at local `p` + offset. */
  storeLanes(out: DType, p: number, offset: number, lanes: number, count: number): void {
    const f = this.f;
    const r = this.tmp;
    switch (this.mode) {
      case "fsum": {
        const half = (acc: number): void => {
          f.localGet(acc);
          if (this.op === "reduceMean") {
            f.f64x2.const(count, count);
            f.f64x2.div();
          }
          f.f32x4.demoteF64x2Zero();
        };
        half(this.a);
        half(this.b);
        f.i8x16.shuffle(LOW_HALVES);
        break;
      }
      case "fminmax":
        // Lanes that saw a NaN are NaN (the value a NaN-propagating sequential loop ends with).
        f.f32x4.const(NaN, NaN, NaN, NaN);
        f.localGet(this.a);
        f.localGet(this.nan);
        f.v128.bitselect();
        break;
      default:
        f.localGet(this.a); // any/all: a mask, the register form of bool
    }
    f.localSet(r);
    storeRun(f, out, p, offset, lanes, r);
  }
}

// ---- row mode -----------------------------------------------------------------------------------------

function emitRows(f: FunctionBuilder, ctx: Ctx): void {
  const { spec, nodes, arrays, out, dims, tags, op, srcType, count, src } = ctx;
  const rank = dims.length;
  const L = rank === 0 ? 1 : dims[rank - 1]!;
  const innerDim = rank - 1;
  const kept = dims.map((_, d) => d).filter((d) => !tags[d]);
  const redOuter = dims.map((_, d) => d).filter((d) => tags[d] && d !== innerDim);
  const inner = (a: Arr): number => (rank === 0 ? 1 : a.strides[innerDim]!);
  const levelOf = (a: Arr): number => (a.strides.every((s) => s === 0) && rank > 0 ? 0 : inner(a) === 0 ? 1 : 2);
  const { body, base, outBase, moving } = prologue(f, spec, arrays, out, nodes, levelOf);
  const keptIdx = kept.map(() => f.local("i32"));
  const redIdx = redOuter.map(() => f.local("i32"));
  const t = f.local("i32");
  const rowBase = new Map<Arr, number>();
  const ptr = new Map<Arr, number>();
  for (const a of moving) {
    rowBase.set(a, f.local("i32"));
    ptr.set(a, f.local("i32"));
  }
  // Two accumulators take alternate vectors (two independent dependency chains), merged per item.
  // A body with a transcendental function is long enough to hide the add latency of one chain:
  // both vectors then go into the same accumulator, which frees registers (V8 spills otherwise).
  const heavy = nodes.some((j) => body.level({ node: j }) === 2 && vmathFnOf(spec.nodes[j]!) !== undefined);
  const pos = f.local("v128");
  const acc = new VecAcc(f, op, srcType, pos);
  const acc2 = heavy ? acc : new VecAcc(f, op, srcType, pos);
  // float32 max/min first run without positions (pmax/pmin and a NaN flag); positions decide only
  // between equal values of different bits, +0 and -0, so a row whose result is a zero runs again
  // with them. The exact result either way.
  const fminmax = acc.mode === "fminmax";
  const fast = fminmax ? new VecAcc(f, op, srcType, undefined) : undefined;
  const fast2 = fast && new VecAcc(f, op, srcType, undefined);
  const res = f.local(out.dtype === "float32" ? "f32" : "i32");
  const v = body.local(src);
  const item = f.local("i32");
  const rOuter = redOuter.reduce((n, d) => n * dims[d]!, 1);

  const subRow = (acc: VecAcc, acc2: VecAcc, withPos: boolean): void => {
    for (const a of moving) {
      address(f, () => f.localGet(rowBase.get(a)!), a, redOuter, redIdx);
      f.localSet(ptr.get(a)!);
    }
    for (const a of moving) if (a.input !== undefined && levelOf(a) === 1) loadSplat(f, a.dtype, () => f.localGet(ptr.get(a)!), body.local({ input: a.input }));
    body.compute(nodes, 1);
    const streams = moving.filter((a) => levelOf(a) === 2);
    const step = (lanes: number, into: VecAcc, k = 0): void => {
      for (const a of streams) if (a.input !== undefined) loadRun(f, a.dtype, ptr.get(a)!, 4 * k * inner(a) * elemBytes(a.dtype), inner(a), lanes, body.local({ input: a.input }));
      body.compute(nodes, 2);
      for (const a of streams) if (a.extra !== undefined) storeRun(f, a.dtype, ptr.get(a)!, 4 * k * elemBytes(a.dtype), lanes, body.local(spec.yields[a.extra]!));
      into.update(v, lanes);
      if (!withPos) return;
      f.localGet(pos);
      f.i32x4.const(4, 4, 4, 4);
      f.i32x4.add();
      f.localSet(pos);
    };
    const bump = (vectors: number): void => {
      for (const a of streams) {
        const p = ptr.get(a)!;
        f.localGet(p);
        f.i32.const(4 * vectors * inner(a) * elemBytes(a.dtype));
        f.i32.add();
        f.localSet(p);
      }
    };
    const nvec = Math.floor(L / 4);
    if (nvec >= 2) {
      const j = f.local("i32");
      f.forRange(j, 0, Math.floor(nvec / 2), 1, () => {
        step(4, acc, 0);
        step(4, acc2, 1);
        bump(2);
      });
    }
    if (nvec % 2 === 1) {
      step(4, acc);
      bump(1);
    }
    if (L % 4 > 0) step(L % 4, acc2);
  };

  /** Folds the item's whole row into acc (and acc2) and sets `res` to the result. */
  const row = (acc: VecAcc, acc2: VecAcc, withPos: boolean): void => {
    acc.init();
    if (acc2 !== acc) acc2.init();
    if (withPos) {
      f.i32x4.const(0, 1, 2, 3);
      f.localSet(pos);
    }
    if (rOuter === 1) subRow(acc, acc2, withPos);
    else {
      const r = f.local("i32");
      f.forRange(r, 0, rOuter, 1, () => {
        divmod(f, r, redOuter.map((d) => dims[d]!), redIdx, t);
        subRow(acc, acc2, withPos);
      });
    }
    if (acc2 !== acc) acc.absorb(acc2);
    acc.finishScalar(count);
    f.localSet(res);
  };

  f.forRange(item, { local: BEGIN }, { local: END }, 1, () => {
    divmod(f, item, kept.map((d) => dims[d]!), keptIdx, t);
    for (const a of moving) {
      address(f, () => f.localGet(base.get(a)!), a, kept, keptIdx);
      f.localSet(rowBase.get(a)!);
    }
    if (fast && fast2) {
      row(fast, fast2, false);
      f.localGet(res);
      f.f32.const(0);
      f.f32.eq();
      f.if();
      row(acc, acc2, true);
      f.end();
    } else row(acc, acc2, fminmax);
    // The output is row-major over the kept dims: item i is element i.
    f.localGet(outBase);
    f.localGet(item);
    if (elemBytes(out.dtype) === 4) {
      f.i32.const(2);
      f.i32.shl();
    }
    f.i32.add();
    f.localGet(res);
    if (out.dtype === "float32") f.f32.store();
    else if (out.dtype === "int32") f.i32.store();
    else f.i32.store8();
  });
}

// ---- column mode --------------------------------------------------------------------------------------

function emitColumns(f: FunctionBuilder, ctx: Ctx, groupCols: number): void {
  const { spec, nodes, arrays, out, dims, tags, op, srcType, count, src } = ctx;
  const rank = dims.length;
  const innerDim = rank - 1;
  const K = dims[innerDim]!;
  const groups = Math.ceil(K / groupCols);
  const keptOuter = dims.map((_, d) => d).filter((d) => !tags[d] && d !== innerDim);
  const reduced = dims.map((_, d) => d).filter((d) => tags[d]);
  const inner = (a: Arr): number => a.strides[innerDim]!;
  // Level 0: constant; 1: constant across the group's columns (changes with the reduced position); 2: per vector.
  const levelOf = (a: Arr): number => (a.strides.every((s) => s === 0) ? 0 : inner(a) === 0 ? 1 : 2);
  const { body, base, outBase, moving } = prologue(f, spec, arrays, out, nodes, levelOf);
  const keptIdx = keptOuter.map(() => f.local("i32"));
  const redIdx = reduced.map(() => f.local("i32"));
  const t = f.local("i32");
  const q = f.local("i32");
  const g = f.local("i32");
  const col0 = f.local("i32");
  const colBase = new Map<Arr, number>();
  const ptr = new Map<Arr, number>();
  for (const a of moving) {
    colBase.set(a, f.local("i32"));
    ptr.set(a, f.local("i32"));
  }
  const outPtr = f.local("i32");
  const rTotal = reduced.reduce((n, d) => n * dims[d]!, 1);
  const v = body.local(src);
  const maxVecs = groupCols / 4;
  const accs = Array.from({ length: maxVecs }, () => new VecAcc(f, op, srcType, undefined));

  /** The group's body for `cols` columns (a static count: full groups and the last one differ). */
  const group = (cols: number): void => {
    const vecs = Math.ceil(cols / 4);
    for (let k = 0; k < vecs; k++) accs[k]!.init();
    const r = f.local("i32");
    f.forRange(r, 0, rTotal, 1, () => {
      divmod(f, r, reduced.map((d) => dims[d]!), redIdx, t);
      for (const a of moving) {
        address(f, () => f.localGet(colBase.get(a)!), a, reduced, redIdx);
        f.localSet(ptr.get(a)!);
      }
      for (const a of moving) if (a.input !== undefined && levelOf(a) === 1) loadSplat(f, a.dtype, () => f.localGet(ptr.get(a)!), body.local({ input: a.input }));
      body.compute(nodes, 1);
      for (let k = 0; k < vecs; k++) {
        const lanes = Math.min(4, cols - 4 * k);
        for (const a of moving) {
          if (levelOf(a) !== 2) continue;
          const off = 4 * k * inner(a) * elemBytes(a.dtype);
          if (a.input !== undefined) loadRun(f, a.dtype, ptr.get(a)!, off, inner(a), lanes, body.local({ input: a.input }));
        }
        body.compute(nodes, 2);
        for (const a of moving) if (a.extra !== undefined) storeRun(f, a.dtype, ptr.get(a)!, 4 * k * elemBytes(a.dtype), lanes, body.local(spec.yields[a.extra]!));
        accs[k]!.update(v, lanes);
      }
    });
    for (let k = 0; k < vecs; k++) accs[k]!.storeLanes(out.dtype, outPtr, 4 * k * elemBytes(out.dtype), Math.min(4, cols - 4 * k), count);
  };

  const item = f.local("i32");
  f.forRange(item, { local: BEGIN }, { local: END }, 1, () => {
    // item = q * groups + g: q indexes the kept dims before the innermost, g the column group.
    f.localGet(item);
    f.i32.const(groups);
    f.i32.divU();
    f.localSet(q);
    f.localGet(item);
    f.i32.const(groups);
    f.i32.remU();
    f.localTee(g);
    f.i32.const(groupCols);
    f.i32.mul();
    f.localSet(col0);
    divmod(f, q, keptOuter.map((d) => dims[d]!), keptIdx, t);
    for (const a of moving) {
      address(f, () => f.localGet(base.get(a)!), a, keptOuter, keptIdx);
      f.localGet(col0);
      const s = inner(a) * elemBytes(a.dtype);
      if (s !== 1) {
        f.i32.const(s);
        f.i32.mul();
      }
      f.i32.add();
      f.localSet(colBase.get(a)!);
    }
    // Output element q * K + col0.
    f.localGet(outBase);
    f.localGet(q);
    f.i32.const(K);
    f.i32.mul();
    f.localGet(col0);
    f.i32.add();
    if (elemBytes(out.dtype) === 4) {
      f.i32.const(2);
      f.i32.shl();
    }
    f.i32.add();
    f.localSet(outPtr);
    const lastCols = K - (groups - 1) * groupCols;
    if (lastCols === groupCols) group(groupCols);
    else {
      f.localGet(g);
      f.i32.const(groups - 1);
      f.i32.eq();
      f.if();
      group(lastCols);
      f.else();
      group(groupCols);
      f.end();
    }
  });
}
