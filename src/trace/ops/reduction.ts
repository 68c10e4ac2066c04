/**
 * Public reductions and scans (NumPy semantics, tfjs-style positional arguments). Each normalizes
 * its axis arguments and hands one op to `bind1`; the op rule decides the output dtype.
 *
 * Dtype rules: sum/prod/cumsum/cumprod of bool, uint8 or int32 give int32 (wrapping on overflow),
 * floats keep their dtype; mean and logSumExp of bool or integers give float32; max/min keep the
 * dtype; any/all give bool; argmax/argmin give int32.
 */
import { ValueError } from "../../ir/errors.js";
import { describe, normalizeAxes, normalizeAxis } from "../../ir/shape.js";
import { bind1 } from "../dispatch.js";
import { type TensorLike, toTensor } from "../promote.js";
import type { Tensor } from "../tensor.js";

/** Options of cumsum/cumprod, as in tfjs. */
export interface ScanOptions {
  /** Each output element excludes its own input (starts from 0 for cumsum, 1 for cumprod). */
  exclusive?: boolean;
  /** Accumulate from the end of the axis towards its start. */
  reverse?: boolean;
}

function checkFlag(op: string, name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new ValueError(`${op}: ${name} must be a boolean, got ${describe(v)}`);
  return v;
}

function reduce(op: string, x: TensorLike, axis: number | readonly number[] | null | undefined, keepDims: boolean): Tensor {
  const t = toTensor(x, op);
  const axes = normalizeAxes(axis, t.rank, op);
  return bind1(op, [t], { axes, keepDims: checkFlag(op, "keepDims", keepDims) });
}

/**
 * A rank-0 input is treated as shape [1] by argmax and the scans, as in NumPy, so axis 0 and -1
 * are accepted there and mean "the flattened input".
 */
function singleAxis(op: string, t: Tensor, axis: number | null | undefined): number | null {
  if (axis === undefined || axis === null) return null;
  if (t.rank === 0) {
    normalizeAxis(axis, 1, op);
    return null;
  }
  return normalizeAxis(axis, t.rank, op);
}

type AxisArg = number | readonly number[] | null;

/** Sum over `axis` (default: all axes). bool/uint8/int32 give int32 (wrapping); floats keep dtype. Empty sum is 0. */
export function reduceSum(x: TensorLike, axis?: AxisArg, keepDims = false): Tensor {
  return reduce("reduceSum", x, axis, keepDims);
}

/** Product over `axis` (default: all axes). bool/uint8/int32 give int32 (wrapping); floats keep dtype. Empty product is 1. */
export function reduceProd(x: TensorLike, axis?: AxisArg, keepDims = false): Tensor {
  return reduce("reduceProd", x, axis, keepDims);
}

/** Arithmetic mean over `axis` (default: all axes). bool/integers give float32 (NumPy: float64); floats keep dtype. Empty mean is NaN. */
export function reduceMean(x: TensorLike, axis?: AxisArg, keepDims = false): Tensor {
  return reduce("reduceMean", x, axis, keepDims);
}

/** Maximum over `axis` (default: all axes), same dtype (bool allowed); NaN propagates. An empty reduced axis throws ValueError. */
export function reduceMax(x: TensorLike, axis?: AxisArg, keepDims = false): Tensor {
  return reduce("reduceMax", x, axis, keepDims);
}

/** Minimum over `axis` (default: all axes), same dtype (bool allowed); NaN propagates. An empty reduced axis throws ValueError. */
export function reduceMin(x: TensorLike, axis?: AxisArg, keepDims = false): Tensor {
  return reduce("reduceMin", x, axis, keepDims);
}

/** Whether any element over `axis` is truthy (nonzero; NaN counts as true), as bool. Empty is false. */
export function reduceAny(x: TensorLike, axis?: AxisArg, keepDims = false): Tensor {
  return reduce("reduceAny", x, axis, keepDims);
}

/** Whether every element over `axis` is truthy (nonzero; NaN counts as true), as bool. Empty is true. */
export function reduceAll(x: TensorLike, axis?: AxisArg, keepDims = false): Tensor {
  return reduce("reduceAll", x, axis, keepDims);
}

/**
 * log(sum(exp(x))) over `axis`, computed stably (the max is subtracted first). bool/integers give
 * float32. All -inf (or empty) gives -inf; any +inf gives inf; any NaN gives NaN.
 */
export function logSumExp(x: TensorLike, axis?: AxisArg, keepDims = false): Tensor {
  return reduce("logSumExp", x, axis, keepDims);
}

function argReduce(op: string, x: TensorLike, axis: number | null | undefined, keepDims: boolean): Tensor {
  const t = toTensor(x, op);
  return bind1(op, [t], { axis: singleAxis(op, t, axis), keepDims: checkFlag(op, "keepDims", keepDims) });
}

/**
 * int32 index of the first maximum along `axis` (default: of the flattened input, as NumPy).
 * A NaN counts as the maximum (the first NaN wins). An empty axis throws ValueError.
 */
export function argmax(x: TensorLike, axis?: number | null, keepDims = false): Tensor {
  return argReduce("argmax", x, axis, keepDims);
}

/**
 * int32 index of the first minimum along `axis` (default: of the flattened input, as NumPy).
 * A NaN counts as the minimum (the first NaN wins). An empty axis throws ValueError.
 */
export function argmin(x: TensorLike, axis?: number | null, keepDims = false): Tensor {
  return argReduce("argmin", x, axis, keepDims);
}

function scanOp(op: string, x: TensorLike, axis: number | null | undefined, options: ScanOptions): Tensor {
  const t = toTensor(x, op);
  if (typeof options !== "object" || options === null) {
    throw new ValueError(`${op}: options must be an object like { exclusive: true }, got ${describe(options)}`);
  }
  return bind1(op, [t], {
    axis: singleAxis(op, t, axis),
    exclusive: checkFlag(op, "exclusive", options.exclusive),
    reverse: checkFlag(op, "reverse", options.reverse),
  });
}

/**
 * Running sum along `axis` (default: over the flattened input, giving a 1-D result, as NumPy).
 * bool/uint8/int32 give int32 (wrapping); floats keep dtype. Options: exclusive, reverse (tfjs).
 */
export function cumsum(x: TensorLike, axis?: number | null, options: ScanOptions = {}): Tensor {
  return scanOp("cumsum", x, axis, options);
}

/**
 * Running product along `axis` (default: over the flattened input, giving a 1-D result, as NumPy).
 * bool/uint8/int32 give int32 (wrapping); floats keep dtype. Options: exclusive, reverse (tfjs).
 */
export function cumprod(x: TensorLike, axis?: number | null, options: ScanOptions = {}): Tensor {
  return scanOp("cumprod", x, axis, options);
}
