/**
 * Public shape and indexing functions. Each converts its arguments, validates and normalizes the
 * options (axes non-negative, shapes resolved, slices as Python's slice.indices gives them), then
 * binds one registry op. expandDims, squeeze, stack, unstack and tile are written in terms of
 * reshape, concat, split and broadcastTo, which need no kernels of their own.
 */
import { type DType, parseDType } from "../../ir/dtype.js";
import { DTypeError, IndexError, ShapeError, ValueError } from "../../ir/errors.js";
import { sliceCount } from "../../ir/ops/shape.js";
import { checkShape, describe, normalizeAxes, normalizeAxis, normalizePerm } from "../../ir/shape.js";
import { formatType, sameShape } from "../../ir/types.js";
import { resolveReshape } from "../../interop/ndarray.js";
import { full, type NestedArray, readNested, tensor } from "../create.js";
import { bind, bind1 } from "../dispatch.js";
import { cast, promoteOperands, type TensorLike, toTensor } from "../promote.js";
import { Tensor } from "../tensor.js";

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

function checkList(v: unknown, what: string, where: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new ValueError(`${where}: ${what} must be an array, got ${describe(v)}`);
  return v;
}

function checkTensorList(xs: unknown, where: string): readonly TensorLike[] {
  const list = checkList(xs, "the operands", where);
  if (list.length === 0) throw new ValueError(`${where}: needs at least one tensor`);
  return list as readonly TensorLike[];
}

/** Indices for gather/oneHot: int32 tensors (uint8 widened) or integer-valued JS numbers/arrays. */
function toIndexTensor(v: TensorLike, where: string): Tensor {
  if (typeof v === "number" || typeof v === "boolean" || Array.isArray(v)) {
    const { values, allBool } = readNested(v as NestedArray, where);
    if (allBool || !values.every(Number.isInteger)) {
      const bad = allBool ? "booleans" : describe(values.find((x) => !Number.isInteger(x)));
      throw new DTypeError(`${where}: indices must be integers, got ${bad}`);
    }
    return tensor(v as NestedArray, { dtype: "int32" });
  }
  const t = toTensor(v, where);
  if (t.dtype === "int32") return t;
  if (t.dtype === "uint8") return cast(t, "int32");
  throw new DTypeError(`${where}: indices are ${formatType(t.type)}, but indices must be int32 (or uint8); cast them with cast(indices, "int32")`);
}

/** Same elements in row-major order with a new shape; one dimension may be -1 (inferred). */
export function reshape(x: TensorLike, shape: number | readonly number[]): Tensor {
  const t = toTensor(x, "reshape");
  const dims = typeof shape === "number" ? [shape] : checkList(shape, "shape", "reshape");
  const resolved = resolveReshape(t.shape, dims as readonly number[], "reshape");
  return bind1("reshape", [t], { shape: resolved });
}

/** Permutes the axes: output axis i is input axis perm[i]. Without perm, reverses the axes. */
export function transpose(x: TensorLike, perm?: readonly number[]): Tensor {
  const t = toTensor(x, "transpose");
  const p = perm === undefined ? t.shape.map((_, i) => t.rank - 1 - i) : normalizePerm(perm, t.rank, "transpose");
  return bind1("transpose", [t], { perm: p });
}

/** Inserts size-1 axes at the given positions of the result (negative counts from its end). */
export function expandDims(x: TensorLike, axis: number | readonly number[]): Tensor {
  const t = toTensor(x, "expandDims");
  const list = typeof axis === "number" ? [axis] : checkList(axis, "axis", "expandDims");
  const outRank = t.rank + list.length;
  const axes = new Set(normalizeAxes(list, outRank, "expandDims"));
  const shape: number[] = [];
  let j = 0;
  for (let i = 0; i < outRank; i++) shape.push(axes.has(i) ? 1 : t.shape[j++]!);
  return bind1("reshape", [t], { shape });
}

/** Removes size-1 axes: all of them, or the named ones (ValueError if a named axis is not 1). */
export function squeeze(x: TensorLike, axis?: number | readonly number[]): Tensor {
  const t = toTensor(x, "squeeze");
  let drop: Set<number>;
  if (axis === undefined) drop = new Set(t.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
  else {
    drop = new Set(normalizeAxes(axis, t.rank, "squeeze"));
    for (const a of drop) {
      if (t.shape[a] !== 1) {
        throw new ValueError(`squeeze: cannot squeeze axis ${a} of ${formatType(t.type)}: its size is ${t.shape[a]}, not 1`);
      }
    }
  }
  return bind1("reshape", [t], { shape: t.shape.filter((_, i) => !drop.has(i)) });
}

/** Broadcasts x to `shape` by NumPy's rules (ShapeError if it cannot). */
export function broadcastTo(x: TensorLike, shape: readonly number[]): Tensor {
  const t = toTensor(x, "broadcastTo");
  return bind1("broadcastTo", [t], { shape: checkShape(shape, "broadcastTo") });
}

/** Joins tensors along an existing axis; dtypes are promoted, other dimensions must match. */
export function concat(xs: readonly TensorLike[], axis = 0): Tensor {
  const { tensors } = promoteOperands("concat", checkTensorList(xs, "concat"));
  for (const [i, t] of tensors.entries()) {
    if (t.rank === 0) throw new ShapeError(`concat: operand ${i} is ${formatType(t.type)}; 0-d tensors cannot be concatenated (use stack)`);
  }
  const a = normalizeAxis(axis, tensors[0]!.rank, "concat");
  return bind1("concat", tensors, { axis: a });
}

/** Joins tensors of one shape along a new axis; dtypes are promoted. */
export function stack(xs: readonly TensorLike[], axis = 0): Tensor {
  const { tensors } = promoteOperands("stack", checkTensorList(xs, "stack"));
  const first = tensors[0]!;
  for (const [i, t] of tensors.entries()) {
    if (!sameShape(t.shape, first.shape)) {
      throw new ShapeError(`stack: operand ${i} is ${formatType(t.type)} but operand 0 is ${formatType(first.type)}; stacked tensors must have one shape`);
    }
  }
  const a = normalizeAxis(axis, first.rank + 1, "stack");
  const shape = [...first.shape];
  shape.splice(a, 0, 1);
  return bind1("concat", tensors.map((t) => bind1("reshape", [t], { shape })), { axis: a });
}

/**
 * Splits along `axis` into `numOrSizes` equal pieces (the number must divide the axis), or into
 * pieces of the listed sizes (they must sum to the axis; one may be -1), like tf.split.
 */
export function split(x: TensorLike, numOrSizes: number | readonly number[], axis = 0): Tensor[] {
  const t = toTensor(x, "split");
  if (t.rank === 0) throw new ShapeError(`split: cannot split the 0-d tensor ${formatType(t.type)}`);
  const a = normalizeAxis(axis, t.rank, "split");
  const n = t.shape[a]!;
  let sizes: number[];
  if (typeof numOrSizes === "number") {
    if (!isInt(numOrSizes) || numOrSizes <= 0) throw new ValueError(`split: the number of pieces must be a positive integer, got ${describe(numOrSizes)}`);
    if (n % numOrSizes !== 0) {
      throw new ValueError(`split: axis ${a} of ${formatType(t.type)} has size ${n}, which ${numOrSizes} pieces do not divide evenly`);
    }
    sizes = new Array<number>(numOrSizes).fill(n / numOrSizes);
  } else {
    sizes = resolveSplitSizes(checkList(numOrSizes, "sizes", "split"), n, a, t);
  }
  return bind("split", [t], { axis: a, sizes });
}

function resolveSplitSizes(list: readonly unknown[], n: number, axis: number, t: Tensor): number[] {
  if (list.length === 0) throw new ValueError("split: the list of sizes must not be empty");
  let infer = -1;
  let known = 0;
  for (const [i, s] of list.entries()) {
    if (s === -1 && infer < 0) infer = i;
    else if (s === -1) throw new ValueError(`split: only one size may be -1, got ${describe(list)}`);
    else if (!isInt(s) || s < 0) throw new ValueError(`split: sizes[${i}] must be a non-negative integer or -1, got ${describe(s)}`);
    else known += s;
  }
  const sizes = [...(list as number[])];
  if (infer >= 0) {
    if (known > n) throw new ValueError(`split: sizes ${describe(list)} exceed axis ${axis} of ${formatType(t.type)} (size ${n})`);
    sizes[infer] = n - known;
  } else if (known !== n) {
    throw new ValueError(`split: sizes ${describe(list)} sum to ${known}, but axis ${axis} of ${formatType(t.type)} has size ${n}`);
  }
  return sizes;
}

/** Splits along `axis` into its slices, each without that axis. */
export function unstack(x: TensorLike, axis = 0): Tensor[] {
  const t = toTensor(x, "unstack");
  if (t.rank === 0) throw new ShapeError(`unstack: cannot unstack the 0-d tensor ${formatType(t.type)}`);
  const a = normalizeAxis(axis, t.rank, "unstack");
  const n = t.shape[a]!;
  if (n === 0) return [];
  const shape = t.shape.filter((_, i) => i !== a);
  const pieces = bind("split", [t], { axis: a, sizes: new Array<number>(n).fill(1) });
  return pieces.map((p) => bind1("reshape", [p], { shape }));
}

/**
 * One entry of a NumPy basic index: an integer (selects and drops the axis), null (the whole
 * axis), a Python-style slice, "..." (as many whole axes as needed) or "newaxis" (a new size-1 axis).
 */
export type SliceSpec =
  | number
  | null
  | "..."
  | "newaxis"
  | { readonly start?: number | null | undefined; readonly stop?: number | null | undefined; readonly step?: number | null | undefined };

/**
 * tf.slice form `slice(x, begin, size)` (size -1 = to the end, begin may be negative), or NumPy
 * basic indexing `slice(x, spec)`: `slice(x, [0, { step: -1 }, "newaxis"])` is `x[0, ::-1, None]`.
 */
export function slice(x: TensorLike, begin: readonly number[], size: readonly number[]): Tensor;
export function slice(x: TensorLike, spec: readonly SliceSpec[]): Tensor;
export function slice(x: TensorLike, beginOrSpec: readonly SliceSpec[], size?: readonly number[]): Tensor {
  const t = toTensor(x, "slice");
  return size === undefined ? sliceBySpec(t, checkList(beginOrSpec, "the index spec", "slice") as SliceSpec[]) : sliceBySize(t, beginOrSpec, size);
}

function sliceBySize(t: Tensor, beginArg: unknown, sizeArg: unknown): Tensor {
  const begin = checkList(beginArg, "begin", "slice");
  const size = checkList(sizeArg, "size", "slice");
  if (begin.length !== t.rank || size.length !== t.rank) {
    throw new ValueError(`slice: begin and size need ${t.rank} entries each for ${formatType(t.type)}, got ${describe(begin)} and ${describe(size)}`);
  }
  const b: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < t.rank; i++) {
    const n = t.shape[i]!;
    const bi = begin[i];
    const si = size[i];
    if (!isInt(bi)) throw new ValueError(`slice: begin[${i}] must be an integer, got ${describe(bi)}`);
    if (!isInt(si) || si < -1) throw new ValueError(`slice: size[${i}] must be a non-negative integer or -1, got ${describe(si)}`);
    const start = bi < 0 ? bi + n : bi;
    if (start < 0 || start > n) throw new IndexError(`slice: begin[${i}] = ${bi} is out of bounds for axis ${i} with size ${n}`);
    const stop = si === -1 ? n : start + si;
    if (stop > n) throw new IndexError(`slice: begin[${i}] + size[${i}] = ${start} + ${si} exceeds axis ${i} with size ${n}`);
    b.push(start);
    e.push(stop);
  }
  return bind1("slice", [t], { begin: b, end: e, strides: b.map(() => 1) });
}

/** Python's slice.indices(n): start and stop clamped into range for the step's direction. */
function sliceIndices(spec: { start?: unknown; stop?: unknown; step?: unknown }, n: number, axis: number): [number, number, number] {
  const field = (name: "start" | "stop" | "step"): number | undefined => {
    const v = spec[name];
    if (v === undefined || v === null) return undefined;
    if (!isInt(v)) throw new ValueError(`slice: ${name} for axis ${axis} must be an integer or null, got ${describe(v)}`);
    return v;
  };
  const step = field("step") ?? 1;
  if (step === 0) throw new ValueError(`slice: step for axis ${axis} must not be zero`);
  const lower = step < 0 ? -1 : 0;
  const upper = step < 0 ? n - 1 : n;
  const clamp = (v: number | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    return v < 0 ? Math.max(v + n, lower) : Math.min(v, upper);
  };
  return [clamp(field("start"), step < 0 ? upper : lower), clamp(field("stop"), step < 0 ? lower : upper), step];
}

function sliceBySpec(t: Tensor, spec: readonly SliceSpec[]): Tensor {
  const ellipses = spec.filter((s) => s === "...").length;
  if (ellipses > 1) throw new IndexError(`slice: an index can have only one "..." (got ${ellipses})`);
  const consumed = spec.filter((s) => s !== "..." && s !== "newaxis").length;
  if (consumed > t.rank) {
    throw new IndexError(`slice: too many indices for ${formatType(t.type)}: it has ${t.rank} axes but ${consumed} were indexed`);
  }
  const expanded: SliceSpec[] = [];
  for (const s of spec) {
    if (s === "...") for (let k = consumed; k < t.rank; k++) expanded.push(null);
    else expanded.push(s);
  }
  if (ellipses === 0) for (let k = consumed; k < t.rank; k++) expanded.push(null);

  const begin: number[] = [];
  const end: number[] = [];
  const strides: number[] = [];
  const finalShape: number[] = [];
  let d = 0;
  for (const s of expanded) {
    if (s === "newaxis") {
      finalShape.push(1);
      continue;
    }
    const n = t.shape[d]!;
    if (typeof s === "number") {
      if (!isInt(s)) throw new ValueError(`slice: index ${describe(s)} for axis ${d} must be an integer`);
      if (s < -n || s >= n) throw new IndexError(`slice: index ${s} is out of bounds for axis ${d} with size ${n}`);
      const k = s < 0 ? s + n : s;
      begin.push(k);
      end.push(k + 1);
      strides.push(1);
    } else if (s === null) {
      begin.push(0);
      end.push(n);
      strides.push(1);
      finalShape.push(n);
    } else if (typeof s === "object" && !Array.isArray(s)) {
      const [b, e, st] = sliceIndices(s, n, d);
      begin.push(b);
      end.push(e);
      strides.push(st);
      finalShape.push(sliceCount(b, e, st));
    } else {
      throw new ValueError(
        `slice: index entry ${describe(s)} for axis ${d} is not supported; use an integer, null, { start, stop, step }, "..." or "newaxis" (gather takes index arrays)`,
      );
    }
    d++;
  }
  const sliced = bind1("slice", [t], { begin, end, strides });
  return sameShape(sliced.shape, finalShape) ? sliced : bind1("reshape", [sliced], { shape: finalShape });
}

/** np.take(x, indices, axis): indices (int32, any shape) replace `axis`; negative ones count from the end. */
export function gather(x: TensorLike, indices: TensorLike, axis = 0): Tensor {
  const t = toTensor(x, "gather");
  const idx = toIndexTensor(indices, "gather");
  return bind1("gather", [t, idx], { axis: normalizeAxis(axis, t.rank, "gather") });
}

/** np.pad in constant mode: paddings[i] = [before, after] for axis i, filled with `value`. */
export function pad(x: TensorLike, paddings: readonly (readonly [number, number])[], value: number | boolean = 0): Tensor {
  const t = toTensor(x, "pad");
  const list = checkList(paddings, "paddings", "pad");
  if (list.length !== t.rank) {
    throw new ValueError(`pad: paddings need one [before, after] pair per axis of ${formatType(t.type)} (${t.rank}), got ${describe(list)}`);
  }
  const pairs = list.map((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every(isInt)) {
      throw new ValueError(`pad: paddings[${i}] must be a pair [before, after] of integers, got ${describe(p)}`);
    }
    const [lo, hi] = p as [number, number];
    if (lo < 0 || hi < 0) throw new ValueError(`pad: paddings[${i}] must be non-negative, got ${describe(p)}`);
    return [lo, hi];
  });
  return bind1("pad", [t, full([], value, { dtype: t.dtype })], { paddings: pairs });
}

/** np.tile: repeats x reps[i] times along axis i; a longer reps prepends axes, a shorter one is padded with 1s. */
export function tile(x: TensorLike, reps: number | readonly number[]): Tensor {
  const t = toTensor(x, "tile");
  const r = typeof reps === "number" ? [reps] : checkList(reps, "reps", "tile");
  for (const [i, k] of r.entries()) {
    if (!isInt(k) || k < 0) throw new ValueError(`tile: reps[${i}] must be a non-negative integer, got ${describe(k)}`);
  }
  const rank = Math.max(t.rank, r.length);
  const dims = [...new Array<number>(rank - t.rank).fill(1), ...t.shape];
  const counts = [...new Array<number>(rank - r.length).fill(1), ...(r as number[])];
  // Tiling is broadcasting a [1, d0, 1, d1, ...] view to [r0, d0, r1, d1, ...], then merging pairs.
  const spread = dims.flatMap((d) => [1, d]);
  const target = dims.flatMap((d, i) => [counts[i]!, d]);
  const wide = bind1("broadcastTo", [bind1("reshape", [t], { shape: spread })], { shape: target });
  return bind1("reshape", [wide], { shape: dims.map((d, i) => d * counts[i]!) });
}

/** Reverses the order of elements along the given axes (all axes when omitted), as np.flip. */
export function flip(x: TensorLike, axis?: number | readonly number[]): Tensor {
  const t = toTensor(x, "flip");
  return bind1("flip", [t], { axes: normalizeAxes(axis, t.rank, "flip") });
}

export interface OneHotOptions {
  onValue?: number | boolean;
  offValue?: number | boolean;
  dtype?: DType;
  /** Where the new axis of size depth goes in the result (default -1, last). */
  axis?: number;
}

/** tf.one_hot: a new axis of size depth that is onValue at each index, offValue elsewhere (out-of-range indices give all-off). */
export function oneHot(indices: TensorLike, depth: number, options: OneHotOptions = {}): Tensor {
  const idx = toIndexTensor(indices, "oneHot");
  if (!isInt(depth) || depth < 0) throw new ValueError(`oneHot: depth must be a non-negative integer, got ${describe(depth)}`);
  const dtype = parseDType(options.dtype ?? "float32", "oneHot");
  const axis = normalizeAxis(options.axis ?? -1, idx.rank + 1, "oneHot");
  const on = full([], options.onValue ?? 1, { dtype });
  const off = full([], options.offValue ?? 0, { dtype });
  return bind1("oneHot", [idx, on, off], { depth, axis });
}
