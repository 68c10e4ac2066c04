/** `debugPrint(label, t)`: prints t's value whenever it is computed, also inside compiled graphs. */
import { setDebugSink } from "../exec/cpu/kernels/debug.js";
import { formatNDArray } from "../interop/format.js";
import { NDArray } from "../interop/ndarray.js";
import { ValueError } from "../ir/errors.js";
import { bind1 } from "./dispatch.js";
import { type TensorLike, toTensor } from "./promote.js";
import type { Tensor } from "./tensor.js";

export type DebugPrinter = (label: string, value: NDArray) => void;

let printer: DebugPrinter = (label, value) => console.log(`${label}: ${formatNDArray(value, "array")}`);

setDebugSink((label, data, type) => printer(label, new NDArray(data.slice(), type.shape, type.dtype)));

/** Replaces where debugPrint output goes (default: console.log); returns the previous printer. */
export function setDebugPrinter(p: DebugPrinter | undefined): DebugPrinter {
  const prev = printer;
  printer = p ?? ((label, value) => console.log(`${label}: ${formatNDArray(value, "array")}`));
  return prev;
}

/**
 * Prints `label: value` when `t` is computed: immediately in eager code, and on every run of a
 * compiled graph (unlike console.log, which runs once, while tracing). Returns `t`, so it can be
 * used inline: `h = debugPrint("h", relu(x))`.
 */
export function debugPrint(label: string, t: TensorLike): Tensor {
  if (typeof label !== "string") throw new ValueError(`debugPrint: the label must be a string, got ${typeof label}`);
  return bind1("debugPrint", [toTensor(t, "debugPrint")], { label });
}
