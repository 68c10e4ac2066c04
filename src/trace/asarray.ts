/** `asarray`: host data or a tensor as a new NDArray, the analogue of NumPy's `np.array(x)`. */
import type { DType } from "../ir/dtype.js";
import { NDArray } from "../interop/ndarray.js";
import { type TensorData, toHostArray } from "./create.js";

/**
 * A new NDArray (always a copy) holding `x`, converted to `dtype` if given, with the same rules as
 * `tensor()`: JS numbers default to float32 and booleans to bool; typed data keeps its dtype.
 */
export function asarray(x: TensorData, dtype?: DType): NDArray {
  const host = toHostArray(x, dtype, "asarray");
  return new NDArray(host.data, host.shape, host.dtype);
}
