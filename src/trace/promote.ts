/**
 * Operand conversion and dtype promotion for the public API (docs/dtypes.md).
 *
 * Tensors, NDArrays and TypedArrays are strongly typed. JS numbers, booleans and nested arrays of
 * them are weakly typed: they take the dtype of the strong operands when their values fit its kind
 * (so `x.mul(2)` keeps x's dtype), as Python scalars do in JAX.
 */
import { type DType, dtypeInfo, fitsDType, isFloat, promoteTypes, type TypedArray } from "../ir/dtype.js";
import { DTypeError } from "../ir/errors.js";
import type { NDArray } from "../interop/ndarray.js";
import { getStrictDtypes } from "./config.js";
import { type NestedArray, readNested, tensor } from "./create.js";
import { bind1 } from "./dispatch.js";
import { Tensor } from "./tensor.js";

/** Anything accepted where a tensor is. */
export type TensorLike = Tensor | NestedArray | NDArray | TypedArray;

function isWeak(x: TensorLike): x is NestedArray {
  return typeof x === "number" || typeof x === "boolean" || Array.isArray(x);
}

export function toTensor(x: TensorLike, where: string, dtype?: DType): Tensor {
  if (x instanceof Tensor) return dtype && x.dtype !== dtype ? cast(x, dtype) : x;
  // JS values become CPU tensors whatever the default device: an op uploads a CPU scalar next to
  // GPU operands, while a GPU scalar next to CPU operands would be a device mismatch.
  return dtype ? tensor(x, { dtype, device: "cpu" }) : tensor(x, { device: "cpu" });
}

export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return bind1("cast", [x], { dtype });
}

/** The dtype weak JS values take next to strong operands of dtype `strong` (or alone). */
function weakResult(op: string, strong: DType | undefined, weak: readonly NestedArray[]): DType {
  let allBool = true;
  let allInt = true;
  let min = Infinity;
  let max = -Infinity;
  for (const w of weak) {
    const { values, allBool: b } = readNested(w, op);
    if (!b) allBool = false;
    for (const v of values) {
      if (!Number.isInteger(v)) allInt = false;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (strong === undefined) return allBool ? "bool" : "float32";
  if (isFloat(strong) || allBool) return strong;
  if (!allInt) {
    if (getStrictDtypes()) {
      throw new DTypeError(`${op}: a non-integer JS number would promote ${strong} to float32, which strict dtypes forbids; cast explicitly with cast(x, "float32")`, "ST403");
    }
    return "float32";
  }
  const target = strong === "bool" ? "int32" : strong;
  if (min !== Infinity && (!fitsDType(min, target) || !fitsDType(max, target))) {
    throw new DTypeError(`${op}: JS value ${fitsDType(min, target) ? max : min} is out of range for ${target} (the dtype of the tensor operand); cast the tensor to a wider dtype first`);
  }
  return target;
}

/**
 * Converts operands to tensors of one dtype: the lattice join of the strong operands, then the
 * weak ones. Returns the converted operands and that dtype.
 */
export function promoteOperands(op: string, xs: readonly TensorLike[]): { tensors: Tensor[]; dtype: DType } {
  let strong: DType | undefined;
  const strongTypes = new Set<DType>();
  const weak: NestedArray[] = [];
  for (const x of xs) {
    if (isWeak(x)) weak.push(x);
    else {
      const d = x instanceof Tensor ? x.dtype : toTensor(x, op).dtype;
      strongTypes.add(d);
      strong = strong === undefined ? d : promoteTypes(strong, d);
    }
  }
  if (strongTypes.size > 1 && getStrictDtypes()) {
    const list = [...strongTypes].map((d) => dtypeInfo(d).name).join(" and ");
    throw new DTypeError(`${op}: operands have dtypes ${list}; strict dtypes forbids implicit promotion, so cast one of them explicitly (cast(x, "${strong}"))`, "ST403");
  }
  const dtype = weak.length ? weakResult(op, strong, weak) : strong!;
  return { tensors: xs.map((x) => toTensor(x, op, dtype)), dtype };
}
