/** NumPy-style text for arrays (repr). */
import type { NDArray } from "./ndarray.js";

export function formatNDArray(a: NDArray, prefix: string): string {
  const items = Array.from(a.data, (v) => (a.dtype === "bool" ? (v ? "True" : "False") : String(v)));
  let pos = 0;
  const build = (axis: number): string => {
    if (axis === a.shape.length) return items[pos++]!;
    const parts: string[] = [];
    for (let i = 0; i < a.shape[axis]!; i++) parts.push(build(axis + 1));
    return `[${parts.join(", ")}]`;
  };
  return `${prefix}(${build(0)}, dtype=${a.dtype})`;
}
