/** Public linalg and nn functions: matmul, dot, conv2d, pools, and the composite softmax family. */
import { toFloatDType } from "../../ir/dtype.js";
import { ShapeError, ValueError } from "../../ir/errors.js";
import type { AttrValue } from "../../ir/registry.js";
import { broadcastShapes, describe, normalizeAxes, normalizeAxis } from "../../ir/shape.js";
import { formatType } from "../../ir/types.js";
import { bind1 } from "../dispatch.js";
import { cast, promoteOperands, type TensorLike } from "../promote.js";
import type { Tensor } from "../tensor.js";
import { add, div, exp, log, mul, sqrt, sub } from "./elementwise.js";
import { reduceMax, reduceMean, reduceSum } from "./reduction.js";

/** A spatial pair given as one number for both axes or as [height, width]. */
export type SpatialPair = number | readonly [number, number];
/** "valid" (no padding), "same" (TensorFlow's rule) or explicit [[top, bottom], [left, right]]. */
export type Conv2dPadding = "valid" | "same" | readonly [readonly [number, number], readonly [number, number]];

export interface Conv2dOptions {
  strides?: SpatialPair;
  padding?: Conv2dPadding;
  dilations?: SpatialPair;
}

export interface Pool2dOptions {
  windowShape: SpatialPair;
  /** Defaults to windowShape (non-overlapping windows). */
  strides?: SpatialPair;
  padding?: "valid" | "same";
}

/** Matrix product with NumPy matmul semantics: batch axes broadcast, 1-D operands are vectors. */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  const { tensors } = promoteOperands("matmul", [a, b]);
  return bind1("matmul", tensors);
}

/**
 * NumPy dot: scalars multiply, 1-D . 1-D is the inner product, otherwise sums over a's last axis
 * and b's second-to-last axis (result shape a.shape[:-1] + b.shape[:-2] + b.shape[-1:]).
 */
export function dot(a: TensorLike, b: TensorLike): Tensor {
  const { tensors } = promoteOperands("dot", [a, b]);
  const [x, y] = tensors as [Tensor, Tensor];
  if (x.rank === 0 || y.rank === 0) return mul(x, y);
  return bind1("dot", [x, y]);
}

function pairOption(op: string, name: string, v: unknown): [number, number] {
  const ok = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 1;
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  throw new ValueError(`${op}: ${name} must be a positive integer or a pair [height, width] of positive integers, got ${describe(v)}`);
}

/** Copies padding into attribute data; its values are validated by the op's rule. */
function paddingAttr(op: string, p: unknown): AttrValue {
  if (typeof p === "string") return p;
  if (Array.isArray(p) && p.every((row) => Array.isArray(row))) return p.map((row: unknown[]) => [...row] as AttrValue);
  throw new ValueError(`${op}: padding must be "valid", "same" or [[top, bottom], [left, right]], got ${describe(p)}`);
}

/**
 * 2-D convolution (cross-correlation, as tf.nn.conv2d): x is NHWC [batch, h, w, inC] (or HWC),
 * filter is HWIO [fh, fw, inC, outC].
 */
export function conv2d(x: TensorLike, filter: TensorLike, options: Conv2dOptions = {}): Tensor {
  const op = "conv2d";
  const { tensors } = promoteOperands(op, [x, filter]);
  return bind1(op, tensors, {
    strides: pairOption(op, "strides", options.strides ?? 1),
    dilations: pairOption(op, "dilations", options.dilations ?? 1),
    padding: paddingAttr(op, options.padding ?? "valid"),
  });
}

function pool(op: "maxPool2d" | "avgPool2d", t: Tensor, options: Pool2dOptions | undefined): Tensor {
  if (options === undefined || typeof options !== "object") {
    throw new ValueError(`${op}: options { windowShape } are required, got ${describe(options)}`);
  }
  const windowShape = pairOption(op, "windowShape", options.windowShape);
  return bind1(op, [t], {
    windowShape,
    strides: options.strides === undefined ? windowShape : pairOption(op, "strides", options.strides),
    padding: paddingAttr(op, options.padding ?? "valid"),
  });
}

/** Max over each window of an NHWC (or HWC) image; "same" padding ignores the padded cells. */
export function maxPool2d(x: TensorLike, options: Pool2dOptions): Tensor {
  return pool("maxPool2d", promoteOperands("maxPool2d", [x]).tensors[0]!, options);
}

/** Mean over each window of an NHWC (or HWC) image, over real cells only; integers give float32. */
export function avgPool2d(x: TensorLike, options: Pool2dOptions): Tensor {
  const t = promoteOperands("avgPool2d", [x]).tensors[0]!;
  return pool("avgPool2d", cast(t, toFloatDType(t.dtype)), options);
}

// ---- composites --------------------------------------------------------------------------------

export interface LayerNormOptions {
  /** The axis or axes normalized over (default -1). */
  axis?: number | readonly number[];
  /** Added to the variance before the square root (default 1e-5). */
  epsilon?: number;
  /** Multiplies the normalized value; must broadcast to x's shape. */
  scale?: TensorLike;
  /** Added after scaling; must broadcast to x's shape. */
  offset?: TensorLike;
}

/** The operand as a float tensor: bool and integer inputs are computed in float32. */
function floatOperand(op: string, x: TensorLike): Tensor {
  const t = promoteOperands(op, [x]).tensors[0]!;
  return cast(t, toFloatDType(t.dtype));
}

/** exp(x) / sum(exp(x)) along `axis`, with the max subtracted first so large inputs do not overflow. */
export function softmax(x: TensorLike, axis = -1): Tensor {
  const t = floatOperand("softmax", x);
  const ax = normalizeAxis(axis, t.rank, "softmax");
  if (t.size === 0) return t;
  const e = exp(sub(t, reduceMax(t, ax, true)));
  return div(e, reduceSum(e, ax, true));
}

/** log(softmax(x)) along `axis`, computed as (x - max) - log(sum(exp(x - max))) for stability. */
export function logSoftmax(x: TensorLike, axis = -1): Tensor {
  const t = floatOperand("logSoftmax", x);
  const ax = normalizeAxis(axis, t.rank, "logSoftmax");
  if (t.size === 0) return t;
  const shifted = sub(t, reduceMax(t, ax, true));
  return sub(shifted, log(reduceSum(exp(shifted), ax, true)));
}

/** Checks that an affine parameter broadcasts to x's shape without growing it. */
function affineParam(name: string, p: TensorLike, x: Tensor): Tensor {
  const t = promoteOperands("layerNorm", [p]).tensors[0]!;
  const shape = broadcastShapes(t.shape, x.shape, `layerNorm: ${name}`);
  if (shape.length !== x.rank || shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(`layerNorm: ${name} ${formatType(t.type)} does not broadcast to x ${formatType(x.type)}`);
  }
  return t;
}

/**
 * (x - mean) / sqrt(var + epsilon) over `axis` (biased variance, as NumPy's var), then
 * `* scale + offset`. bool and integer inputs are computed in float32.
 */
export function layerNorm(x: TensorLike, options: LayerNormOptions = {}): Tensor {
  const op = "layerNorm";
  const t = floatOperand(op, x);
  const axes = normalizeAxes(options.axis ?? -1, t.rank, op);
  if (axes.length === 0) throw new ValueError(`${op}: axis must name at least one axis, got ${describe(options.axis)}`);
  const epsilon = options.epsilon ?? 1e-5;
  if (typeof epsilon !== "number" || !(epsilon >= 0) || !Number.isFinite(epsilon)) {
    throw new ValueError(`${op}: epsilon must be a finite non-negative number, got ${describe(epsilon)}`);
  }
  const scale = options.scale === undefined ? undefined : affineParam("scale", options.scale, t);
  const offset = options.offset === undefined ? undefined : affineParam("offset", options.offset, t);
  let y: Tensor;
  if (t.size === 0) y = t;
  else {
    const d = sub(t, reduceMean(t, axes, true));
    const variance = reduceMean(mul(d, d), axes, true);
    y = div(d, sqrt(add(variance, epsilon)));
  }
  if (scale) y = mul(y, scale);
  if (offset) y = add(y, offset);
  return y;
}
