/**
 * Shape and indexing ops: one registry entry each. Attributes arrive normalized from the public
 * functions (axes non-negative, shapes resolved, slices in the form of Python's slice.indices),
 * but every rule re-validates them because IR text is parsed from files too.
 */
import type { DType } from "../dtype.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { type AttrValue, type Attrs, defineOp } from "../registry.js";
import { describe, sizeOf } from "../shape.js";
import { formatType, type TensorType } from "../types.js";
import { SHAPE_VJP } from "./shape-vjp.js";

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

function checkArity(op: string, inputs: readonly TensorType[], n: number): void {
  if (inputs.length !== n) throw new ValueError(`${op}: expected ${n} operand${n === 1 ? "" : "s"}, got ${inputs.length}`);
}

/** An attribute that must be a list of integers, optionally of a given length and lower bound. */
function intList(op: string, attrs: Attrs, name: string, length?: number, min?: number): number[] {
  const v = attrs[name];
  if (!Array.isArray(v) || !v.every(isInt)) {
    throw new ValueError(`${op}: attribute "${name}" must be a list of integers, got ${describe(v)}`);
  }
  if (length !== undefined && v.length !== length) {
    throw new ValueError(`${op}: attribute "${name}" must have ${length} entries (one per axis), got ${describe(v)}`);
  }
  if (min !== undefined) {
    for (const [i, x] of (v as number[]).entries()) {
      if (x < min) throw new ValueError(`${op}: attribute "${name}"[${i}] must be >= ${min}, got ${x}`);
    }
  }
  return [...(v as number[])];
}

/** An integer attribute in [lo, hi). */
function intAttr(op: string, attrs: Attrs, name: string, lo: number, hi: number): number {
  const v = attrs[name];
  if (!isInt(v) || v < lo || v >= hi) {
    throw new ValueError(`${op}: attribute "${name}" must be an integer in ${lo}..${hi - 1}, got ${describe(v)}`);
  }
  return v;
}

/** A list of distinct axes of a rank-`rank` tensor, each in 0..rank-1. */
function axisList(op: string, attrs: Attrs, name: string, rank: number): number[] {
  const axes = intList(op, attrs, name);
  for (const a of axes) {
    if (a < 0 || a >= rank) throw new ValueError(`${op}: axis ${a} in attribute "${name}" is out of range for rank ${rank} (normalized axes are 0..${rank - 1})`);
  }
  if (new Set(axes).size !== axes.length) throw new ValueError(`${op}: attribute "${name}" repeats an axis: ${describe(axes)}`);
  return axes;
}

function checkSameDType(op: string, t: TensorType, expected: DType, what: string): void {
  if (t.dtype !== expected) throw new DTypeError(`${op}: ${what} is ${formatType(t)}, expected dtype ${expected}`);
}

/** Number of elements of range(begin, end, stride): the slice length along one axis. */
export function sliceCount(begin: number, end: number, stride: number): number {
  return stride > 0 ? Math.max(0, Math.ceil((end - begin) / stride)) : Math.max(0, Math.ceil((begin - end) / -stride));
}

defineOp({
  name: "reshape",
  vjp: SHAPE_VJP.reshape,
  kind: "shape",
  arity: 1,
  doc: "same elements in row-major order, new shape (attribute shape, fully resolved)",
  attributes: { shape: { type: "int[]", doc: "the new shape, fully resolved (no -1); same element count as the operand" } },
  infer(inputs, attrs) {
    checkArity("reshape", inputs, 1);
    const x = inputs[0]!;
    const shape = intList("reshape", attrs, "shape", undefined, 0);
    if (sizeOf(shape) !== sizeOf(x.shape)) {
      throw new ShapeError(`reshape: cannot reshape ${formatType(x)} (size ${sizeOf(x.shape)}) into [${shape.join(",")}] (size ${sizeOf(shape)})`);
    }
    return [{ dtype: x.dtype, shape }];
  },
});

defineOp({
  name: "transpose",
  vjp: SHAPE_VJP.transpose,
  kind: "shape",
  arity: 1,
  doc: "permutes axes: output axis i is input axis perm[i]",
  attributes: { perm: { type: "int[]", doc: "a permutation of 0..rank-1: output axis i is input axis perm[i]" } },
  infer(inputs, attrs) {
    checkArity("transpose", inputs, 1);
    const x = inputs[0]!;
    const perm = intList("transpose", attrs, "perm", x.shape.length);
    const seen = new Set<number>();
    for (const p of perm) {
      if (p < 0 || p >= x.shape.length || seen.has(p)) {
        throw new ValueError(`transpose: perm ${describe(perm)} is not a permutation of the axes of ${formatType(x)}`);
      }
      seen.add(p);
    }
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }];
  },
});

defineOp({
  name: "broadcastTo",
  vjp: SHAPE_VJP.broadcastTo,
  kind: "shape",
  arity: 1,
  doc: "repeats size-1 and missing leading axes to reach attribute shape (NumPy broadcasting)",
  attributes: { shape: { type: "int[]", doc: "the target shape, of rank >= the operand's, that the operand broadcasts to" } },
  infer(inputs, attrs) {
    checkArity("broadcastTo", inputs, 1);
    const x = inputs[0]!;
    const shape = intList("broadcastTo", attrs, "shape", undefined, 0);
    const off = shape.length - x.shape.length;
    if (off < 0) {
      throw new ShapeError(`broadcastTo: cannot broadcast ${formatType(x)} to the lower-rank shape [${shape.join(",")}]`);
    }
    for (let i = 0; i < x.shape.length; i++) {
      const d = x.shape[i]!;
      const t = shape[off + i]!;
      if (d !== t && d !== 1) {
        throw new ShapeError(`broadcastTo: cannot broadcast ${formatType(x)} to [${shape.join(",")}] (input axis ${i} has size ${d}, target has ${t})`);
      }
    }
    return [{ dtype: x.dtype, shape }];
  },
});

defineOp({
  name: "slice",
  vjp: SHAPE_VJP.slice,
  kind: "shape",
  arity: 1,
  doc: "strided window: along axis i, indices begin[i], begin[i]+strides[i], ... stopping before end[i] (as Python's slice.indices)",
  attributes: {
    begin: { type: "int[]", doc: "first index per axis, in -1..size (as slice.indices gives it)" },
    end: { type: "int[]", doc: "stop index per axis (exclusive), in -1..size" },
    strides: { type: "int[]", doc: "step per axis, nonzero; negative steps walk backwards" },
  },
  infer(inputs, attrs) {
    checkArity("slice", inputs, 1);
    const x = inputs[0]!;
    const rank = x.shape.length;
    const begin = intList("slice", attrs, "begin", rank);
    const end = intList("slice", attrs, "end", rank);
    const strides = intList("slice", attrs, "strides", rank);
    const shape = x.shape.map((n, i) => {
      const b = begin[i]!;
      const e = end[i]!;
      const s = strides[i]!;
      if (s === 0) throw new ValueError(`slice: strides[${i}] must not be zero`);
      if (b < -1 || b > n || e < -1 || e > n) {
        throw new ValueError(`slice: axis ${i} of ${formatType(x)}: begin ${b} and end ${e} must lie in -1..${n}`);
      }
      const count = sliceCount(b, e, s);
      const last = b + (count - 1) * s;
      if (count > 0 && (b < 0 || b >= n || last < 0 || last >= n)) {
        throw new ValueError(`slice: axis ${i} of ${formatType(x)}: range(${b}, ${e}, ${s}) reads outside 0..${n - 1}`);
      }
      return count;
    });
    return [{ dtype: x.dtype, shape }];
  },
});

defineOp({
  name: "flip",
  vjp: SHAPE_VJP.flip,
  kind: "shape",
  arity: 1,
  doc: "reverses the order of elements along each axis in attribute axes",
  attributes: { axes: { type: "int[]", doc: "distinct axes in 0..rank-1 to reverse" } },
  infer(inputs, attrs) {
    checkArity("flip", inputs, 1);
    const x = inputs[0]!;
    axisList("flip", attrs, "axes", x.shape.length);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
});

defineOp({
  name: "concat",
  vjp: SHAPE_VJP.concat,
  kind: "shape",
  arity: "variadic",
  doc: "joins operands of one dtype along attribute axis; other dimensions must match",
  attributes: { axis: { type: "int", doc: "the axis joined along, in 0..rank-1" } },
  infer(inputs, attrs) {
    if (inputs.length === 0) throw new ValueError("concat: needs at least one operand");
    const first = inputs[0]!;
    const rank = first.shape.length;
    if (rank === 0) throw new ShapeError(`concat: operand 0 is ${formatType(first)}; 0-d tensors cannot be concatenated`);
    const axis = intAttr("concat", attrs, "axis", 0, rank);
    let total = 0;
    for (const [i, t] of inputs.entries()) {
      checkSameDType("concat", t, first.dtype, `operand ${i}`);
      if (t.shape.length !== rank) {
        throw new ShapeError(`concat: operand ${i} is ${formatType(t)} but operand 0 is ${formatType(first)} (rank ${t.shape.length} != ${rank})`);
      }
      for (let d = 0; d < rank; d++) {
        if (d !== axis && t.shape[d] !== first.shape[d]) {
          throw new ShapeError(`concat: operand ${i} is ${formatType(t)} but operand 0 is ${formatType(first)}: dimension ${d} differs (${t.shape[d]} != ${first.shape[d]}); only axis ${axis} may differ`);
        }
      }
      total += t.shape[axis]!;
    }
    const shape = [...first.shape];
    shape[axis] = total;
    return [{ dtype: first.dtype, shape }];
  },
});

defineOp({
  name: "split",
  vjp: SHAPE_VJP.split,
  kind: "shape",
  arity: 1,
  doc: "cuts the operand along attribute axis into consecutive pieces of attribute sizes (one result each)",
  attributes: {
    axis: { type: "int", doc: "the axis cut, in 0..rank-1" },
    sizes: { type: "int[]", doc: "non-negative piece lengths summing to the axis length; one result per piece" },
  },
  infer(inputs, attrs) {
    checkArity("split", inputs, 1);
    const x = inputs[0]!;
    const rank = x.shape.length;
    if (rank === 0) throw new ShapeError(`split: cannot split the 0-d tensor ${formatType(x)}`);
    const axis = intAttr("split", attrs, "axis", 0, rank);
    const sizes = intList("split", attrs, "sizes", undefined, 0);
    if (sizes.length === 0) throw new ValueError("split: attribute \"sizes\" must name at least one piece");
    const n = x.shape[axis]!;
    const sum = sizes.reduce((a, b) => a + b, 0);
    if (sum !== n) {
      throw new ValueError(`split: sizes ${describe(sizes)} sum to ${sum}, but axis ${axis} of ${formatType(x)} has size ${n}`);
    }
    return sizes.map((s) => {
      const shape = [...x.shape];
      shape[axis] = s;
      return { dtype: x.dtype, shape };
    });
  },
});

defineOp({
  name: "gather",
  vjp: SHAPE_VJP.gather,
  kind: "index",
  arity: 2,
  doc: "np.take(x, indices, axis): the index operand (int32, any shape) replaces axis; negative indices count from the end",
  attributes: { axis: { type: "int", doc: "the axis indexed, in 0..rank-1" } },
  infer(inputs, attrs) {
    checkArity("gather", inputs, 2);
    const [x, idx] = inputs as [TensorType, TensorType];
    if (idx.dtype !== "int32") throw new DTypeError(`gather: indices are ${formatType(idx)}, but gather needs int32 indices`);
    const rank = x.shape.length;
    if (rank === 0) throw new ShapeError(`gather: cannot index the 0-d tensor ${formatType(x)}`);
    const axis = intAttr("gather", attrs, "axis", 0, rank);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)] }];
  },
});

function isPairList(v: AttrValue | undefined, rank: number): v is readonly (readonly [number, number])[] {
  return Array.isArray(v) && v.length === rank && v.every((p: AttrValue) => Array.isArray(p) && p.length === 2 && p.every(isInt));
}

defineOp({
  name: "pad",
  vjp: SHAPE_VJP.pad,
  kind: "shape",
  arity: 2,
  doc: "constant padding: attribute paddings [[before, after], ...] per axis; operand 1 is the 0-d fill value",
  attributes: { paddings: { type: "int[][]", doc: "one non-negative pair [before, after] per axis" } },
  infer(inputs, attrs) {
    checkArity("pad", inputs, 2);
    const [x, value] = inputs as [TensorType, TensorType];
    checkSameDType("pad", value, x.dtype, "the fill value (operand 1)");
    if (value.shape.length !== 0) throw new ShapeError(`pad: the fill value (operand 1) must be 0-d, got ${formatType(value)}`);
    const p = attrs["paddings"];
    if (!isPairList(p, x.shape.length)) {
      throw new ValueError(`pad: attribute "paddings" must be ${x.shape.length} pairs [before, after] of integers (one per axis of ${formatType(x)}), got ${describe(p)}`);
    }
    const shape = x.shape.map((d, i) => {
      const [lo, hi] = p[i]!;
      if (lo < 0 || hi < 0) throw new ValueError(`pad: paddings for axis ${i} must be non-negative, got [${lo}, ${hi}]`);
      return d + lo + hi;
    });
    return [{ dtype: x.dtype, shape }];
  },
});

defineOp({
  name: "oneHot",
  vjp: SHAPE_VJP.oneHot,
  kind: "index",
  arity: 3,
  doc: "tf.one_hot: a new axis (attribute axis) of attribute depth holding operand 1 where it equals the index, else operand 2",
  attributes: {
    depth: { type: "int", doc: "length of the new axis, >= 0" },
    axis: { type: "int", doc: "position of the new axis in the result, in 0..rank of the indices" },
  },
  infer(inputs, attrs) {
    checkArity("oneHot", inputs, 3);
    const [idx, on, off] = inputs as [TensorType, TensorType, TensorType];
    if (idx.dtype !== "int32") throw new DTypeError(`oneHot: indices are ${formatType(idx)}, but oneHot needs int32 indices`);
    if (on.shape.length !== 0 || off.shape.length !== 0) {
      throw new ShapeError(`oneHot: onValue and offValue must be 0-d, got ${formatType(on)} and ${formatType(off)}`);
    }
    checkSameDType("oneHot", off, on.dtype, "offValue (operand 2)");
    const depth = attrs["depth"];
    if (!isInt(depth) || depth < 0) throw new ValueError(`oneHot: depth must be a non-negative integer, got ${describe(depth)}`);
    const axis = intAttr("oneHot", attrs, "axis", 0, idx.shape.length + 1);
    const shape = [...idx.shape];
    shape.splice(axis, 0, depth);
    return [{ dtype: on.dtype, shape }];
  },
});
