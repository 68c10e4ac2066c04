/**
 * Reductions and scans: one registry entry each. Every op accepts every dtype; the output dtype
 * is part of the op's rule (not a cast the public function inserts), so the IR says exactly what a
 * reduction of integers produces.
 *
 * Attributes, normalized by the public functions and re-validated here because IR text is parsed
 * from files too:
 *   reductions  { axes: number[] (sorted, distinct, 0..rank-1), keepDims: boolean }
 *   argmax/min  { axis: number (0..rank-1) | null (over the flattened input), keepDims: boolean }
 *   scans       { axis: number (0..rank-1) | null (flatten first), exclusive: boolean, reverse: boolean }
 * Missing boolean attributes read as false, so hand-written IR may leave them out.
 */
import type { DType } from "../dtype.js";
import { DTypeError, ValueError } from "../errors.js";
import { type AttrSchema, type Attrs, defineOp, type VjpRule } from "../registry.js";
import { REDUCTION_VJP } from "./reduction-vjp.js";
import { describe, sizeOf } from "../shape.js";
import { formatType, type TensorType } from "../types.js";

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

/** How a reduction's output dtype follows from its input dtype. */
type OutRule = "accumulate" | "mean" | "same" | "bool" | "float" | "index";

function outDType(rule: OutRule, d: DType): DType {
  switch (rule) {
    case "accumulate": // sums and products: small integers widen, int32 wraps, floats keep
      return d === "float32" || d === "float64" ? d : "int32";
    case "mean":
    case "float":
      return d === "float64" ? "float64" : "float32";
    case "same":
      return d;
    case "bool":
      return "bool";
    case "index":
      return "int32";
  }
}

function checkOperand(op: string, inputs: readonly TensorType[]): TensorType {
  if (inputs.length !== 1) throw new ValueError(`${op}: expected 1 operand, got ${inputs.length}`);
  const x = inputs[0]!;
  if (!["bool", "uint8", "int32", "float32", "float64"].includes(x.dtype)) {
    throw new DTypeError(`${op}: operand has unknown dtype ${describe(x.dtype)} (shape [${x.shape.join(",")}])`);
  }
  return x;
}

/** A boolean attribute; absent means false. */
function flagAttr(op: string, attrs: Attrs, name: string): boolean {
  const v = attrs[name];
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new ValueError(`${op}: attribute "${name}" must be a boolean, got ${describe(v)}`);
  return v;
}

/** The `axes` attribute of a reduction: distinct, increasing axes of a rank-`rank` operand. */
function axesAttr(op: string, attrs: Attrs, rank: number): number[] {
  const v = attrs["axes"];
  if (!Array.isArray(v) || !v.every(isInt)) {
    throw new ValueError(`${op}: attribute "axes" must be a list of integers, got ${describe(v)}`);
  }
  const axes = v as readonly number[];
  for (const [i, a] of axes.entries()) {
    if (a < 0 || a >= rank) {
      throw new ValueError(`${op}: axis ${a} in attribute "axes" is out of range for rank ${rank} (normalized axes are 0..${rank - 1})`);
    }
    if (i > 0 && a <= axes[i - 1]!) {
      throw new ValueError(`${op}: attribute "axes" must be increasing with no repeats, got ${describe(axes)}`);
    }
  }
  return [...axes];
}

/** The `axis` attribute of argmax and scans: an axis in 0..rank-1, or null for the flattened input. */
function axisOrNullAttr(op: string, attrs: Attrs, rank: number): number | null {
  const v = attrs["axis"];
  if (v === null) return null;
  if (!isInt(v) || v < 0 || v >= rank) {
    const valid = rank === 0 ? "a rank-0 operand only allows null" : `normalized axes are 0..${rank - 1}`;
    throw new ValueError(`${op}: attribute "axis" must be null or an integer axis, got ${describe(v)} (${valid})`);
  }
  return v;
}

/** The op's VJP rule as a definition field (absent when the op has none). */
function vjpOf(name: string): { vjp?: VjpRule } {
  const rule = REDUCTION_VJP[name];
  return rule ? { vjp: rule } : {};
}

const KEEP_DIMS = { type: "bool", doc: "keep each reduced axis as a size-1 axis (default false)", optional: true } as const;

const REDUCTION_ATTRS: AttrSchema = {
  axes: { type: "int[]", doc: "the reduced axes: increasing, distinct, in 0..rank-1 ([] reduces nothing)" },
  keepDims: KEEP_DIMS,
};

const ARG_ATTRS: AttrSchema = {
  axis: { type: "int | null", doc: "the axis searched, in 0..rank-1; null searches the flattened input" },
  keepDims: KEEP_DIMS,
};

const SCAN_ATTRS: AttrSchema = {
  axis: { type: "int | null", doc: "the axis scanned, in 0..rank-1; null scans the flattened input (1-D result)" },
  exclusive: { type: "bool", doc: "element i excludes x[i] (starts from the identity) (default false)", optional: true },
  reverse: { type: "bool", doc: "accumulate from the end of the axis (default false)", optional: true },
};

function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (!axes.includes(d)) out.push(shape[d]!);
    else if (keepDims) out.push(1);
  }
  return out;
}

/** max/min/argmax/argmin have no identity, so an empty reduced extent has no answer (as in NumPy). */
function checkNonEmpty(op: string, x: TensorType, axes: readonly number[]): void {
  for (const a of axes) {
    if (x.shape[a] === 0) {
      throw new ValueError(`${op}: cannot reduce ${formatType(x)} over axis ${a}, which has length 0: ${op} of an empty set has no identity`);
    }
  }
}

function reduction(name: string, doc: string, rule: OutRule, needsElements = false): void {
  defineOp({
    name,
    kind: "reduction",
    arity: 1,
    doc,
    attributes: REDUCTION_ATTRS,
    infer(inputs, attrs) {
      const x = checkOperand(name, inputs);
      const axes = axesAttr(name, attrs, x.shape.length);
      const keepDims = flagAttr(name, attrs, "keepDims");
      if (needsElements) checkNonEmpty(name, x, axes);
      return [{ dtype: outDType(rule, x.dtype), shape: reducedShape(x.shape, axes, keepDims) }];
    },
    ...vjpOf(name),
  });
}

reduction("reduceSum", "sum over attribute axes; bool/uint8/int32 give int32 (wrapping), floats keep their dtype; empty sum is 0", "accumulate");
reduction("reduceProd", "product over axes; bool/uint8/int32 give int32 (wrapping), floats keep their dtype; empty product is 1", "accumulate");
reduction("reduceMean", "arithmetic mean over axes; bool/integers give float32, floats keep their dtype; empty mean is NaN", "mean");
reduction("reduceMax", "maximum over axes, same dtype; NaN propagates; an empty reduced axis is an error", "same", true);
reduction("reduceMin", "minimum over axes, same dtype; NaN propagates; an empty reduced axis is an error", "same", true);
reduction("reduceAny", "whether any element is truthy (nonzero or NaN), as bool; empty is false", "bool");
reduction("reduceAll", "whether every element is truthy (nonzero or NaN), as bool; empty is true", "bool");
reduction("logSumExp", "log(sum(exp(x))) computed stably; bool/integers give float32; empty is -inf", "float");

function argReduction(name: string, doc: string): void {
  defineOp({
    name,
    kind: "reduction",
    arity: 1,
    doc,
    attributes: ARG_ATTRS,
    infer(inputs, attrs) {
      const x = checkOperand(name, inputs);
      const rank = x.shape.length;
      const axis = axisOrNullAttr(name, attrs, rank);
      const keepDims = flagAttr(name, attrs, "keepDims");
      if (axis === null) {
        if (sizeOf(x.shape) === 0) {
          throw new ValueError(`${name}: cannot take ${name} of ${formatType(x)}, which has no elements`);
        }
        return [{ dtype: "int32", shape: keepDims ? x.shape.map(() => 1) : [] }];
      }
      checkNonEmpty(name, x, [axis]);
      return [{ dtype: "int32", shape: reducedShape(x.shape, [axis], keepDims) }];
    },
    ...vjpOf(name),
  });
}

argReduction("argmax", "int32 index of the first maximum along attribute axis (null: of the flattened input); NaN counts as the maximum");
argReduction("argmin", "int32 index of the first minimum along attribute axis (null: of the flattened input); NaN counts as the minimum");

function scan(name: string, doc: string): void {
  defineOp({
    name,
    kind: "scan",
    arity: 1,
    doc,
    attributes: SCAN_ATTRS,
    infer(inputs, attrs) {
      const x = checkOperand(name, inputs);
      const axis = axisOrNullAttr(name, attrs, x.shape.length);
      flagAttr(name, attrs, "exclusive");
      flagAttr(name, attrs, "reverse");
      const shape = axis === null ? [sizeOf(x.shape)] : [...x.shape];
      return [{ dtype: outDType("accumulate", x.dtype), shape }];
    },
    ...vjpOf(name),
  });
}

scan("cumsum", "running sum along attribute axis (null: of the flattened input); bool/uint8/int32 give int32 (wrapping); exclusive and reverse flags as in tfjs");
scan("cumprod", "running product along attribute axis (null: of the flattened input); bool/uint8/int32 give int32 (wrapping); exclusive and reverse flags as in tfjs");
