/**
 * Elementwise ops: one registry entry each, with a dtype rule and a scalar code template per
 * dtype. Operands of a binary op have one dtype (the public API inserts explicit casts first, as
 * jax.numpy does over lax), so the IR is explicit about every conversion.
 */
import { type DType, isDType, isFloat } from "../dtype.js";
import { DTypeError, ValueError } from "../errors.js";
import { type Attrs, defineOp, type ScalarContext } from "../registry.js";
import { broadcastShapes } from "../shape.js";
import { formatType, type TensorType } from "../types.js";
import { ELEMENTWISE_VJP } from "./elementwise-vjp.js";

/** The op's VJP rule as a definition field (absent when the op has none). */
const vjpOf = (name: string) => (ELEMENTWISE_VJP[name] ? { vjp: ELEMENTWISE_VJP[name] } : {});

/** Which operand dtypes an op accepts. */
type Accepts = "float" | "numeric" | "nonbool-numeric" | "any";

const ACCEPT_TEXT: Record<Accepts, string> = {
  float: "float32 or float64 (integer inputs are cast to float32 by the public function)",
  numeric: "bool, uint8, int32, float32 or float64",
  "nonbool-numeric": "uint8, int32, float32 or float64",
  any: "any dtype",
};

function accepts(a: Accepts, d: DType): boolean {
  switch (a) {
    case "float":
      return isFloat(d);
    case "nonbool-numeric":
      return d !== "bool";
    default:
      return true;
  }
}

function checkDTypes(op: string, types: readonly TensorType[], a: Accepts): void {
  for (const [i, t] of types.entries()) {
    if (!accepts(a, t.dtype)) {
      throw new DTypeError(`${op}: operand ${i} is ${formatType(t)}, but ${op} accepts ${ACCEPT_TEXT[a]}`);
    }
  }
}

type Template = (args: readonly string[], ctx: ScalarContext, attrs: Attrs) => string;

/** A template chosen by the operand dtype kind: float, int32, uint8 and bool variants. */
function byKind(t: { float?: Template; int32?: Template; uint8?: Template; bool?: Template }): Template {
  return (args, ctx, attrs) => {
    const d = ctx.inputs[0]!;
    const f = isFloat(d) ? t.float : d === "int32" ? t.int32 : d === "uint8" ? t.uint8 : t.bool;
    if (!f) throw new DTypeError(`no scalar template for ${d}`);
    return f(args, ctx, attrs);
  };
}

function unary(name: string, doc: string, a: Accepts, out: "same" | "bool", scalar: Template): void {
  defineOp({
    name,
    kind: "elementwise",
    arity: 1,
    doc,
    attributes: {},
    infer(inputs) {
      const x = inputs[0]!;
      checkDTypes(name, inputs, a);
      return [{ dtype: out === "bool" ? "bool" : x.dtype, shape: x.shape }];
    },
    scalar,
    ...vjpOf(name),
  });
}

function binary(name: string, doc: string, a: Accepts, out: "same" | "bool", scalar: Template): void {
  defineOp({
    name,
    kind: "elementwise",
    arity: 2,
    doc,
    attributes: {},
    infer(inputs) {
      const [x, y] = inputs as [TensorType, TensorType];
      checkDTypes(name, inputs, a);
      if (x.dtype !== y.dtype) {
        throw new DTypeError(`${name}: operands must have one dtype after promotion, got ${formatType(x)} and ${formatType(y)}`);
      }
      return [{ dtype: out === "bool" ? "bool" : x.dtype, shape: broadcastShapes(x.shape, y.shape, name) }];
    },
    scalar,
    ...vjpOf(name),
  });
}

const f1 = (fn: (x: string) => string): Template => (args) => fn(args[0]!);
const f2 = (fn: (x: string, y: string) => string): Template => (args) => fn(args[0]!, args[1]!);
const same = f1((x) => x);

// ---- unary -------------------------------------------------------------------------------------
unary("neg", "-x (wraps for integers)", "nonbool-numeric", "same",
  byKind({ float: f1((x) => `(-${x})`), int32: f1((x) => `((-${x}) | 0)`), uint8: f1((x) => `((-${x}) & 255)`) }));
unary("abs", "|x|", "numeric", "same",
  byKind({ float: f1((x) => `Math.abs(${x})`), int32: f1((x) => `(Math.abs(${x}) | 0)`), uint8: same, bool: same }));
unary("sign", "-1, 0 or 1 by the sign of x (NaN stays NaN)", "nonbool-numeric", "same",
  byKind({ float: f1((x) => `M.sign(${x})`), int32: f1((x) => `M.sign(${x})`), uint8: f1((x) => `(${x} > 0 ? 1 : 0)`) }));
unary("square", "x*x", "nonbool-numeric", "same",
  byKind({ float: f1((x) => `(${x} * ${x})`), int32: f1((x) => `Math.imul(${x}, ${x})`), uint8: f1((x) => `(Math.imul(${x}, ${x}) & 255)`) }));
unary("relu", "max(x, 0); NaN propagates", "nonbool-numeric", "same",
  byKind({ float: f1((x) => `(${x} > 0 || ${x} !== ${x} ? ${x} : 0)`), int32: f1((x) => `(${x} > 0 ? ${x} : 0)`), uint8: same }));

const floatUnary: [string, string, (x: string) => string][] = [
  ["exp", "e^x", (x) => `Math.exp(${x})`],
  ["expm1", "e^x - 1, accurate near 0", (x) => `Math.expm1(${x})`],
  ["log", "natural logarithm", (x) => `Math.log(${x})`],
  ["log1p", "log(1 + x), accurate near 0", (x) => `Math.log1p(${x})`],
  ["sqrt", "square root", (x) => `Math.sqrt(${x})`],
  ["rsqrt", "1 / sqrt(x)", (x) => `(1 / Math.sqrt(${x}))`],
  ["reciprocal", "1 / x", (x) => `(1 / ${x})`],
  ["sin", "sine", (x) => `Math.sin(${x})`],
  ["cos", "cosine", (x) => `Math.cos(${x})`],
  ["tan", "tangent", (x) => `Math.tan(${x})`],
  ["asin", "arcsine", (x) => `Math.asin(${x})`],
  ["acos", "arccosine", (x) => `Math.acos(${x})`],
  ["atan", "arctangent", (x) => `Math.atan(${x})`],
  ["sinh", "hyperbolic sine", (x) => `Math.sinh(${x})`],
  ["cosh", "hyperbolic cosine", (x) => `Math.cosh(${x})`],
  ["tanh", "hyperbolic tangent", (x) => `Math.tanh(${x})`],
  ["sigmoid", "1 / (1 + e^-x), without overflow", (x) => `M.sigmoid(${x})`],
  ["erf", "the error function", (x) => `M.erf(${x})`],
  ["floor", "round toward -inf", (x) => `Math.floor(${x})`],
  ["ceil", "round toward +inf", (x) => `Math.ceil(${x})`],
  ["round", "round half to even (NumPy's rint)", (x) => `M.roundHalfEven(${x})`],
];
for (const [name, doc, fn] of floatUnary) unary(name, doc, "float", "same", f1(fn));

defineOp({
  name: "gelu",
  kind: "elementwise",
  arity: 1,
  doc: "x * Phi(x); attribute approximate: false (erf form) or true (tanh form)",
  attributes: {
    approximate: { type: "bool", doc: "true: the tanh approximation; false: the exact erf form (default false)", optional: true },
  },
  infer(inputs, attrs) {
    checkDTypes("gelu", inputs, "float");
    // The template reads only `=== true`, so anything but a boolean would silently mean the erf form.
    const approximate = attrs["approximate"];
    if (approximate !== undefined && typeof approximate !== "boolean") {
      throw new ValueError(`gelu: attribute "approximate" must be a boolean, got ${JSON.stringify(approximate)}`);
    }
    return [{ dtype: inputs[0]!.dtype, shape: inputs[0]!.shape }];
  },
  scalar: (args, _ctx, attrs) => (attrs["approximate"] === true ? `M.geluTanh(${args[0]})` : `M.geluErf(${args[0]})`),
  ...vjpOf("gelu"),
});

unary("logicalNot", "x == 0, as bool", "any", "bool", f1((x) => `(${x} === 0 ? 1 : 0)`));
unary("isNaN", "x is NaN", "any", "bool", f1((x) => `(${x} !== ${x} ? 1 : 0)`));
unary("isFinite", "x is neither infinite nor NaN", "any", "bool", f1((x) => `(${x} - ${x} === 0 ? 1 : 0)`));

defineOp({
  name: "cast",
  kind: "elementwise",
  arity: 1,
  doc: "convert to attribute dtype: float to int truncates toward zero and saturates (NaN -> 0); int to int wraps",
  attributes: {
    dtype: { type: "dtype", doc: "the target dtype: bool, uint8, int32, float32 or float64" },
  },
  infer(inputs, attrs) {
    const to = attrs["dtype"];
    // isDType, not `in` on an object literal: "toString" or "constructor" are in every object.
    if (!isDType(to)) throw new DTypeError(`cast: unknown target dtype ${JSON.stringify(to ?? null)}`);
    return [{ dtype: to, shape: inputs[0]!.shape }];
  },
  scalar(args, ctx) {
    const x = args[0]!;
    const from = ctx.inputs[0]!;
    const to = ctx.output;
    if (to === "bool") return `(${x} !== 0 ? 1 : 0)`;
    if (isFloat(to) || from === to) return x;
    if (isFloat(from)) return to === "int32" ? `M.toInt32(${x})` : `M.toUint8(${x})`;
    if (to === "uint8") return `(${x} & 255)`;
    return x; // bool/uint8 -> int32 is exact
  },
  ...vjpOf("cast"),
});

// ---- binary ------------------------------------------------------------------------------------
binary("add", "x + y (wraps for integers; logical or for bool)", "numeric", "same",
  byKind({ float: f2((x, y) => `(${x} + ${y})`), int32: f2((x, y) => `((${x} + ${y}) | 0)`), uint8: f2((x, y) => `((${x} + ${y}) & 255)`), bool: f2((x, y) => `(${x} | ${y})`) }));
binary("sub", "x - y (wraps for integers)", "nonbool-numeric", "same",
  byKind({ float: f2((x, y) => `(${x} - ${y})`), int32: f2((x, y) => `((${x} - ${y}) | 0)`), uint8: f2((x, y) => `((${x} - ${y}) & 255)`) }));
binary("mul", "x * y (wraps for integers; logical and for bool)", "numeric", "same",
  byKind({ float: f2((x, y) => `(${x} * ${y})`), int32: f2((x, y) => `Math.imul(${x}, ${y})`), uint8: f2((x, y) => `(Math.imul(${x}, ${y}) & 255)`), bool: f2((x, y) => `(${x} & ${y})`) }));
binary("div", "true division x / y", "float", "same", f2((x, y) => `(${x} / ${y})`));
binary("pow", "x ** y (C pow semantics for floats; integer powers wrap)", "nonbool-numeric", "same",
  byKind({ float: f2((x, y) => `M.pow(${x}, ${y})`), int32: f2((x, y) => `M.ipow(${x}, ${y})`), uint8: f2((x, y) => `(M.ipow(${x}, ${y}) & 255)`) }));
const pick = (op: ">" | "<"): Template =>
  byKind({
    float: f2((x, y) => (op === ">" ? `Math.max(${x}, ${y})` : `Math.min(${x}, ${y})`)),
    int32: f2((x, y) => `(${x} ${op} ${y} ? ${x} : ${y})`),
    uint8: f2((x, y) => `(${x} ${op} ${y} ? ${x} : ${y})`),
    bool: f2((x, y) => `(${x} ${op} ${y} ? ${x} : ${y})`),
  });
binary("maximum", "elementwise max; NaN propagates", "numeric", "same", pick(">"));
binary("minimum", "elementwise min; NaN propagates", "numeric", "same", pick("<"));
binary("mod", "remainder with the sign of the divisor (NumPy's mod); integer x % 0 is 0", "nonbool-numeric", "same",
  byKind({ float: f2((x, y) => `M.fmodPy(${x}, ${y})`), int32: f2((x, y) => `M.imod(${x}, ${y})`), uint8: f2((x, y) => `M.imod(${x}, ${y})`) }));
binary("floorDiv", "floor(x / y) (NumPy's floor_divide); integer x // 0 is 0", "nonbool-numeric", "same",
  byKind({ float: f2((x, y) => `M.floorDivPy(${x}, ${y})`), int32: f2((x, y) => `(M.idiv(${x}, ${y}) | 0)`), uint8: f2((x, y) => `M.idiv(${x}, ${y})`) }));
binary("atan2", "angle of (y=x, x=y) as Math.atan2(x, y)", "float", "same", f2((x, y) => `Math.atan2(${x}, ${y})`));

const compare: [string, string][] = [
  ["equal", "==="], ["notEqual", "!=="], ["less", "<"], ["lessEqual", "<="], ["greater", ">"], ["greaterEqual", ">="],
];
for (const [name, op] of compare) binary(name, `x ${op} y as bool`, "any", "bool", f2((x, y) => `(${x} ${op} ${y} ? 1 : 0)`));

const logical: [string, string][] = [["logicalAnd", "&&"], ["logicalOr", "||"], ["logicalXor", "!=="]];
for (const [name, op] of logical) {
  binary(name, `truthiness ${op} as bool (nonzero and NaN are true)`, "any", "bool", f2((x, y) => `((${x} !== 0) ${op} (${y} !== 0) ? 1 : 0)`));
}

defineOp({
  name: "where",
  kind: "elementwise",
  arity: 3,
  doc: "cond ? x : y with three-way broadcasting; cond is bool",
  attributes: {},
  infer(inputs) {
    const [c, x, y] = inputs as [TensorType, TensorType, TensorType];
    if (c.dtype !== "bool") throw new DTypeError(`where: condition must be bool, got ${formatType(c)}`);
    if (x.dtype !== y.dtype) {
      throw new DTypeError(`where: branches must have one dtype after promotion, got ${formatType(x)} and ${formatType(y)}`);
    }
    const shape = broadcastShapes(broadcastShapes(c.shape, x.shape, "where"), y.shape, "where");
    return [{ dtype: x.dtype, shape }];
  },
  scalar: (args) => `(${args[0]} ? ${args[1]} : ${args[2]})`,
  ...vjpOf("where"),
});

