/** Public elementwise functions: operand conversion and promotion, then one `bind` each. */
import { type DType, isFloat, isInteger, parseDType, toFloatDType } from "../../ir/dtype.js";
import { ValueError } from "../../ir/errors.js";
import { describe } from "../../ir/shape.js";
import { bind1 } from "../dispatch.js";
import { cast as castTensor, promoteOperands, type TensorLike, toTensor } from "../promote.js";
import type { Tensor } from "../tensor.js";

const one = (op: string, x: TensorLike): Tensor => promoteOperands(op, [x]).tensors[0]!;

/** Unary ops defined on numbers of any kind; dtype is kept. */
function numericUnary(op: string) {
  return (x: TensorLike): Tensor => bind1(op, [one(op, x)]);
}

/** Unary ops defined on floats: integer and bool inputs are computed in float32 (as jax.numpy does). */
function floatUnary(op: string) {
  return (x: TensorLike): Tensor => {
    const t = one(op, x);
    return bind1(op, [castTensor(t, toFloatDType(t.dtype))]);
  };
}

/** Rounding ops: integers are already whole, so they come back unchanged (as in jax.numpy). */
function roundingUnary(op: string) {
  return (x: TensorLike): Tensor => {
    const t = one(op, x);
    if (!isFloat(t.dtype)) return isInteger(t.dtype) ? t : castTensor(t, "float32");
    return bind1(op, [t]);
  };
}

function binaryOp(op: string, floatOnly = false) {
  return (x: TensorLike, y: TensorLike): Tensor => {
    const { tensors, dtype } = promoteOperands(op, [x, y]);
    const target = floatOnly ? toFloatDType(dtype) : dtype;
    return bind1(op, tensors.map((t) => castTensor(t, target)));
  };
}

export const neg = numericUnary("neg");
export const abs = numericUnary("abs");
export const sign = numericUnary("sign");
export const square = numericUnary("square");
export const relu = numericUnary("relu");
export const exp = floatUnary("exp");
export const expm1 = floatUnary("expm1");
export const log = floatUnary("log");
export const log1p = floatUnary("log1p");
export const sqrt = floatUnary("sqrt");
export const rsqrt = floatUnary("rsqrt");
export const reciprocal = floatUnary("reciprocal");
export const sin = floatUnary("sin");
export const cos = floatUnary("cos");
export const tan = floatUnary("tan");
export const asin = floatUnary("asin");
export const acos = floatUnary("acos");
export const atan = floatUnary("atan");
export const sinh = floatUnary("sinh");
export const cosh = floatUnary("cosh");
export const tanh = floatUnary("tanh");
export const sigmoid = floatUnary("sigmoid");
export const erf = floatUnary("erf");
export const floor = roundingUnary("floor");
export const ceil = roundingUnary("ceil");
/** Round half to even, like NumPy's `round`/`rint`. */
export const round = roundingUnary("round");
export const logicalNot = numericUnary("logicalNot");
export const isNaN = numericUnary("isNaN");
export const isFinite = numericUnary("isFinite");

/** GELU: x * Phi(x). `approximate: "tanh"` uses the tanh form; the default is the exact erf form. */
export function gelu(x: TensorLike, options: { approximate?: "none" | "tanh" | boolean } = {}): Tensor {
  const t = one("gelu", x);
  const a = options.approximate ?? "none";
  if (a !== "none" && a !== "tanh" && typeof a !== "boolean") {
    throw new ValueError(`gelu: approximate must be "none", "tanh" or a boolean, got ${describe(a)}`);
  }
  const approx = a === true || a === "tanh";
  return bind1("gelu", [castTensor(t, toFloatDType(t.dtype))], { approximate: approx });
}

export const add = binaryOp("add");
export const sub = binaryOp("sub");
export const mul = binaryOp("mul");
/** True division: integer operands give float32 (NumPy gives float64). */
export const div = binaryOp("div", true);
export const pow = binaryOp("pow");
export const maximum = binaryOp("maximum");
export const minimum = binaryOp("minimum");
/** Remainder with the sign of the divisor, as NumPy's `mod`. */
export const mod = binaryOp("mod");
export const floorDiv = binaryOp("floorDiv");
export const atan2 = binaryOp("atan2", true);

function compareOp(op: string) {
  return (x: TensorLike, y: TensorLike): Tensor => bind1(op, promoteOperands(op, [x, y]).tensors);
}
export const equal = compareOp("equal");
export const notEqual = compareOp("notEqual");
export const less = compareOp("less");
export const lessEqual = compareOp("lessEqual");
export const greater = compareOp("greater");
export const greaterEqual = compareOp("greaterEqual");
export const logicalAnd = compareOp("logicalAnd");
export const logicalOr = compareOp("logicalOr");
export const logicalXor = compareOp("logicalXor");

/** cond ? x : y elementwise, with broadcasting; a non-bool condition is true where nonzero. */
export function where(cond: TensorLike, x: TensorLike, y: TensorLike): Tensor {
  const c = toTensor(cond, "where");
  const { tensors } = promoteOperands("where", [x, y]);
  return bind1("where", [castTensor(c, "bool"), ...tensors]);
}

/** Limits x to [lo, hi] (either may be omitted); the result keeps x's dtype where lo/hi are JS numbers. */
export function clip(x: TensorLike, lo?: TensorLike | null, hi?: TensorLike | null): Tensor {
  let t = toTensor(x, "clip");
  if (lo !== undefined && lo !== null) t = maximum(t, lo);
  if (hi !== undefined && hi !== null) t = minimum(t, hi);
  return t;
}

/** Explicit conversion. Float to int truncates toward zero like NumPy's astype (saturating; NaN -> 0). */
export function cast(x: TensorLike, dtype: DType): Tensor {
  return castTensor(toTensor(x, "cast"), parseDType(dtype, "cast"));
}
