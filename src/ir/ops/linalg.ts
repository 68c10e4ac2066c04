/**
 * Linear algebra and nn ops: matmul, dot, conv2d, maxPool2d, avgPool2d. One registry entry each.
 *
 * The geometry helpers (`matmulPlan`, `dotPlan`, `windowGeometry`) are exported so the kernels
 * read shapes, strides and padding from the same rule that validated them, instead of re-deriving.
 */
import { type DType, isFloat } from "../dtype.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { type AttrSchema, type AttrValue, type Attrs, defineOp } from "../registry.js";
import { describe, sizeOf } from "../shape.js";
import { formatType, type TensorType } from "../types.js";
// linalg-vjp imports this module's geometry helpers back; the entries read their rules through a
// getter so the cycle is safe whichever module is loaded first.
import { LINALG_VJP } from "./linalg-vjp.js";

// ---- shared checks ------------------------------------------------------------------------------

function sameDType(op: string, a: TensorType, b: TensorType, names: [string, string]): DType {
  if (a.dtype !== b.dtype) {
    throw new DTypeError(`${op}: operands must have one dtype after promotion, got ${names[0]} ${formatType(a)} and ${names[1]} ${formatType(b)}`);
  }
  return a.dtype;
}

function rejectBool(op: string, t: TensorType, name: string): void {
  if (t.dtype === "bool") {
    throw new DTypeError(`${op}: ${name} is ${formatType(t)}, but ${op} accepts uint8, int32, float32 or float64; cast bool inputs first (cast(x, "float32"))`);
  }
}

// ---- matmul -------------------------------------------------------------------------------------

/** How a (batched) matmul walks its operands; 1-D operands appear as 1 x k and k x 1 matrices. */
export interface MatmulPlan {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Broadcast batch shape of the output. */
  readonly batch: readonly number[];
  /** Element strides of a's and b's matrices along each batch dim (0 where broadcast). */
  readonly aBatchStrides: readonly number[];
  readonly bBatchStrides: readonly number[];
  readonly outShape: readonly number[];
}

/** Element strides of the leading `rank` batch dims of a matrix stack, aligned right to `rank`. */
function batchStrides(batch: readonly number[], rank: number, matSize: number): number[] {
  const out = new Array<number>(rank).fill(0);
  let acc = matSize;
  for (let i = batch.length - 1; i >= 0; i--) {
    const j = rank - batch.length + i;
    out[j] = batch[i] === 1 ? 0 : acc;
    acc *= batch[i]!;
  }
  return out;
}

export function matmulPlan(a: TensorType, b: TensorType): MatmulPlan {
  for (const [t, name] of [[a, "a"], [b, "b"]] as const) {
    if (t.shape.length === 0) {
      throw new ValueError(`matmul: operand ${name} is 0-d (${formatType(t)}); matmul needs at least 1 dimension, use mul for scalars`);
    }
  }
  const aMat = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape.slice(-2);
  const bMat = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape.slice(-2);
  const [m, ka] = aMat as [number, number];
  const [kb, n] = bMat as [number, number];
  if (ka !== kb) {
    throw new ShapeError(`matmul: inner dimensions differ: a is ${formatType(a)}, b is ${formatType(b)} (${ka} != ${kb})`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const batch = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = aBatch[aBatch.length - rank + i] ?? 1;
    const db = bBatch[bBatch.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `matmul: batch dimensions [${aBatch.join(",")}] of a (${formatType(a)}) and [${bBatch.join(",")}] of b (${formatType(b)}) cannot be broadcast together (${da} vs ${db})`,
      );
    }
    batch[i] = da === 1 ? db : da;
  }
  const outShape = [...batch];
  if (a.shape.length > 1) outShape.push(m);
  if (b.shape.length > 1) outShape.push(n);
  return {
    m,
    n,
    k: ka,
    batch,
    aBatchStrides: batchStrides(aBatch, rank, m * ka),
    bBatchStrides: batchStrides(bBatch, rank, ka * n),
    outShape,
  };
}

defineOp({
  name: "matmul",
  get vjp() { return LINALG_VJP.matmul; },
  kind: "matmul",
  arity: 2,
  doc: "NumPy matmul: matrix product over the last two axes, batch axes broadcast, 1-D operands promoted to matrices (integers wrap; bool is or-of-ands)",
  attributes: {},
  infer(inputs) {
    const [a, b] = inputs as [TensorType, TensorType];
    const dtype = sameDType("matmul", a, b, ["a", "b"]);
    return [{ dtype, shape: matmulPlan(a, b).outShape }];
  },
});

// ---- dot ----------------------------------------------------------------------------------------

/**
 * NumPy dot for operands of rank >= 1: a is read as p x k, b as q stacked k x n matrices, and the
 * output [p, q, n] is laid out as a.shape[:-1] + b.shape[:-2] + b.shape[-1:].
 */
export interface DotPlan {
  readonly p: number;
  readonly q: number;
  readonly k: number;
  readonly n: number;
  readonly outShape: readonly number[];
}

export function dotPlan(a: TensorType, b: TensorType): DotPlan {
  for (const [t, name] of [[a, "a"], [b, "b"]] as const) {
    if (t.shape.length === 0) {
      throw new ValueError(`dot: operand ${name} is 0-d (${formatType(t)}); the dot op needs at least 1 dimension (the public dot() multiplies scalars)`);
    }
  }
  const ka = a.shape[a.shape.length - 1]!;
  const kAxis = b.shape.length === 1 ? 0 : b.shape.length - 2;
  const kb = b.shape[kAxis]!;
  if (ka !== kb) {
    throw new ShapeError(`dot: inner dimensions differ: a is ${formatType(a)}, b is ${formatType(b)} (${ka} != ${kb})`);
  }
  const n = b.shape.length === 1 ? 1 : b.shape[b.shape.length - 1]!;
  const outShape = [...a.shape.slice(0, -1), ...b.shape.slice(0, kAxis), ...b.shape.slice(kAxis + 1)];
  return { p: sizeOf(a.shape.slice(0, -1)), q: sizeOf(b.shape.slice(0, kAxis)), k: ka, n, outShape };
}

defineOp({
  name: "dot",
  get vjp() { return LINALG_VJP.dot; },
  kind: "matmul",
  arity: 2,
  doc: "NumPy dot for operands of rank >= 1: sums over a's last axis and b's second-to-last (or only) axis",
  attributes: {},
  infer(inputs) {
    const [a, b] = inputs as [TensorType, TensorType];
    const dtype = sameDType("dot", a, b, ["a", "b"]);
    return [{ dtype, shape: dotPlan(a, b).outShape }];
  },
});

// ---- windows: conv2d and pools -------------------------------------------------------------------

/** Geometry of a 2-D sliding window over NHWC (or HWC) input, with explicit padding resolved. */
export interface WindowGeometry {
  readonly batch: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly dh: number;
  readonly dw: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly oh: number;
  readonly ow: number;
}

function pair(op: string, attrs: Attrs, name: string, min: number): [number, number] {
  const v = attrs[name];
  const ok = (x: AttrValue | undefined): x is number => typeof x === "number" && Number.isInteger(x) && x >= min;
  if (!Array.isArray(v) || v.length !== 2 || !ok(v[0]) || !ok(v[1])) {
    throw new ValueError(`${op}: ${name} must be a pair of integers >= ${min}, got ${describe(v)}`);
  }
  return [v[0], v[1]];
}

type Padding = "valid" | "same" | [[number, number], [number, number]];

/** Accepts "valid", "same" or explicit [[top, bottom], [left, right]] of non-negative integers. */
function readPadding(op: string, v: AttrValue | undefined, allowExplicit: boolean): Padding {
  if (v === "valid" || v === "same") return v;
  const nonNeg = (x: AttrValue | undefined): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0;
  const isPair = (p: AttrValue | undefined): p is [number, number] => Array.isArray(p) && p.length === 2 && nonNeg(p[0]) && nonNeg(p[1]);
  if (allowExplicit && Array.isArray(v) && v.length === 2 && isPair(v[0]) && isPair(v[1])) {
    return [[v[0][0], v[0][1]], [v[1][0], v[1][1]]];
  }
  const expected = allowExplicit ? `"valid", "same" or [[top, bottom], [left, right]] of non-negative integers` : `"valid" or "same"`;
  throw new ValueError(`${op}: padding must be ${expected}, got ${describe(v)}`);
}

/** One spatial axis: output size and padding before, by TensorFlow's rules. */
function axisGeometry(op: string, axis: "height" | "width", size: number, k: number, s: number, d: number, pad: "valid" | "same" | [number, number], x: TensorType): [number, number] {
  const eff = (k - 1) * d + 1;
  if (pad === "same") {
    const out = Math.ceil(size / s);
    const total = Math.max((out - 1) * s + eff - size, 0);
    return [out, Math.floor(total / 2)];
  }
  const [before, after] = pad === "valid" ? [0, 0] : pad;
  const padded = size + before + after;
  if (padded < eff) {
    const dil = d > 1 ? ` (dilated to ${eff})` : "";
    throw new ShapeError(`${op}: the window ${axis} ${k}${dil} is larger than the padded input ${axis} ${padded} of x ${formatType(x)}`);
  }
  return [Math.floor((padded - eff) / s) + 1, before];
}

function checkImage(op: string, x: TensorType): [number, number, number, number] {
  if (x.shape.length === 4) return x.shape as unknown as [number, number, number, number];
  if (x.shape.length === 3) return [1, ...(x.shape as unknown as [number, number, number])];
  throw new ShapeError(`${op}: x must be NHWC (rank 4) or HWC (rank 3), got ${formatType(x)}`);
}

function outImageShape(x: TensorType, g: WindowGeometry, channels: number): number[] {
  return x.shape.length === 4 ? [g.batch, g.oh, g.ow, channels] : [g.oh, g.ow, channels];
}

/** conv2d geometry from x [N,H,W,C] or [H,W,C], filter [KH,KW,C,O] and attributes. */
export function convGeometry(x: TensorType, filter: TensorType, attrs: Attrs): WindowGeometry & { readonly outC: number } {
  const op = "conv2d";
  const [batch, h, w, c] = checkImage(op, x);
  if (filter.shape.length !== 4) throw new ShapeError(`${op}: filter must be HWIO (rank 4), got ${formatType(filter)}`);
  const [kh, kw, inC, outC] = filter.shape as unknown as [number, number, number, number];
  if (inC !== c) {
    throw new ShapeError(`${op}: input channels differ: x is ${formatType(x)} (${c} channels), filter is ${formatType(filter)} (${inC} input channels)`);
  }
  if (kh < 1 || kw < 1) throw new ShapeError(`${op}: filter height and width must be at least 1, got ${formatType(filter)}`);
  const [sh, sw] = pair(op, attrs, "strides", 1);
  const [dh, dw] = pair(op, attrs, "dilations", 1);
  const pad = readPadding(op, attrs["padding"], true);
  const [oh, padTop] = axisGeometry(op, "height", h, kh, sh, dh, typeof pad === "string" ? pad : pad[0], x);
  const [ow, padLeft] = axisGeometry(op, "width", w, kw, sw, dw, typeof pad === "string" ? pad : pad[1], x);
  return { batch, h, w, c, kh, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow, outC };
}

/** Pool geometry from x [N,H,W,C] or [H,W,C] and attributes windowShape, strides, padding. */
export function poolGeometry(op: string, x: TensorType, attrs: Attrs): WindowGeometry {
  const [batch, h, w, c] = checkImage(op, x);
  const [kh, kw] = pair(op, attrs, "windowShape", 1);
  const [sh, sw] = pair(op, attrs, "strides", 1);
  const pad = readPadding(op, attrs["padding"], false) as "valid" | "same";
  const [oh, padTop] = axisGeometry(op, "height", h, kh, sh, 1, pad, x);
  const [ow, padLeft] = axisGeometry(op, "width", w, kw, sw, 1, pad, x);
  return { batch, h, w, c, kh, kw, sh, sw, dh: 1, dw: 1, padTop, padLeft, oh, ow };
}

const POOL_ATTRS: AttrSchema = {
  windowShape: { type: "int[]", doc: "[wh, ww], each >= 1" },
  strides: { type: "int[]", doc: "[sh, sw], each >= 1" },
  padding: { type: "\"valid\" | \"same\"", doc: "TensorFlow's padding rule; padded cells never enter a window's max or mean" },
};

defineOp({
  name: "conv2d",
  get vjp() { return LINALG_VJP.conv2d; },
  kind: "conv",
  arity: 2,
  doc: "2-D convolution (cross-correlation, as TensorFlow): x NHWC or HWC, filter HWIO; attributes strides [sh, sw], dilations [dh, dw], padding \"valid\" | \"same\" | [[top, bottom], [left, right]]",
  attributes: {
    strides: { type: "int[]", doc: "[sh, sw], each >= 1" },
    dilations: { type: "int[]", doc: "[dh, dw], each >= 1" },
    padding: { type: "\"valid\" | \"same\" | int[][]", doc: "TensorFlow's \"valid\" or \"same\", or explicit [[top, bottom], [left, right]] >= 0" },
  },
  infer(inputs, attrs) {
    const [x, f] = inputs as [TensorType, TensorType];
    const dtype = sameDType("conv2d", x, f, ["x", "filter"]);
    rejectBool("conv2d", x, "x");
    const g = convGeometry(x, f, attrs);
    return [{ dtype, shape: outImageShape(x, g, g.outC) }];
  },
});

defineOp({
  name: "maxPool2d",
  get vjp() { return LINALG_VJP.maxPool2d; },
  kind: "pool",
  arity: 1,
  doc: "2-D max pooling over NHWC or HWC: attributes windowShape [wh, ww], strides [sh, sw], padding \"valid\" | \"same\" (padded cells are ignored); NaN propagates",
  attributes: POOL_ATTRS,
  infer(inputs, attrs) {
    const x = inputs[0]!;
    rejectBool("maxPool2d", x, "x");
    const g = poolGeometry("maxPool2d", x, attrs);
    return [{ dtype: x.dtype, shape: outImageShape(x, g, g.c) }];
  },
});

defineOp({
  name: "avgPool2d",
  get vjp() { return LINALG_VJP.avgPool2d; },
  kind: "pool",
  arity: 1,
  doc: "2-D average pooling over NHWC or HWC (float): attributes windowShape, strides, padding \"valid\" | \"same\"; the mean is over the real (unpadded) cells of each window",
  attributes: POOL_ATTRS,
  infer(inputs, attrs) {
    const x = inputs[0]!;
    if (!isFloat(x.dtype)) {
      throw new DTypeError(`avgPool2d: x is ${formatType(x)}, but avgPool2d accepts float32 or float64 (the public function casts integer inputs to float32)`);
    }
    const g = poolGeometry("avgPool2d", x, attrs);
    return [{ dtype: x.dtype, shape: outImageShape(x, g, g.c) }];
  },
});
