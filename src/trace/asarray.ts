/** `asarray`: host data or a tensor as a new NDArray, the analogue of NumPy's `np.array(x)`. */
import { allocate, type DType, dtypeOfTypedArray, isFloat, parseDType, type TypedArray } from "../ir/dtype.js";
import { DTypeError, ValueError } from "../ir/errors.js";
import { describe } from "../ir/shape.js";
import { castArray, convertScalar, NDArray } from "../interop/ndarray.js";
import { type NestedArray, readNested } from "./create.js";
import { Tensor } from "./tensor.js";

/**
 * A new NDArray (always a copy) holding `x`, converted to `dtype` if given. JS numbers default to
 * float32 and booleans to bool, as in `tensor()`; typed data keeps its dtype.
 */
export function asarray(x: Tensor | NDArray | TypedArray | NestedArray, dtype?: DType): NDArray {
  const where = "asarray";
  const to = dtype === undefined ? undefined : parseDType(dtype, where);
  if (x instanceof Tensor) return convertCopy(x.numpy(), to, true);
  if (x instanceof NDArray) return convertCopy(x, to, false);
  if (ArrayBuffer.isView(x)) {
    const own = dtypeOfTypedArray(x);
    if (own === undefined) {
      throw new DTypeError(`${where}: ${describe(x)} has no symtensor dtype; pass a Float32Array, Float64Array, Int32Array or Uint8Array`);
    }
    return new NDArray(castArray(x, own, to ?? own), [x.length], to ?? own);
  }
  if (typeof x === "number" || typeof x === "boolean" || Array.isArray(x)) {
    const { values, shape, allBool } = readNested(x, where);
    const d = to ?? (allBool ? "bool" : "float32");
    return new NDArray(fromJsValues(values, d, where), shape, d);
  }
  throw new ValueError(`${where}: cannot make an NDArray from ${describe(x)}; pass a Tensor, an NDArray, a TypedArray, numbers, booleans or nested arrays of them`, "ST405");
}

/** `fresh` marks an NDArray nobody else holds (from tensor.numpy()), which may be returned as is. */
function convertCopy(a: NDArray, to: DType | undefined, fresh: boolean): NDArray {
  if (to === undefined || to === a.dtype) return fresh ? a : a.copy();
  return a.astype(to);
}

/**
 * JS numbers into `dtype`. As in `tensor()` (and NumPy 2 for Python ints), an integer dtype
 * refuses values it cannot hold instead of wrapping them; fractions truncate toward zero.
 */
function fromJsValues(values: readonly number[], dtype: DType, where: string): TypedArray {
  const out = allocate(dtype, values.length);
  if (isFloat(dtype) || dtype === "bool") {
    for (let i = 0; i < values.length; i++) out[i] = convertScalar(values[i]!, dtype);
    return out;
  }
  const lo = dtype === "uint8" ? 0 : -2147483648;
  const hi = dtype === "uint8" ? 255 : 2147483647;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new ValueError(`${where}: cannot convert ${describe(v)} to ${dtype}`);
    const t = Math.trunc(v);
    if (t < lo || t > hi) throw new ValueError(`${where}: value ${v} is out of range for ${dtype} (${lo}..${hi})`);
    out[i] = t;
  }
  return out;
}
