// No diagnostics: shape, dtype, rank and size are static while tracing.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const n = x.shape[0]! * 2;
  const big = x.size > 100;
  const kind = x.dtype === "float32" ? 1 : 2;
  return x.reshape([n / 2, -1]).mul(big ? kind : Math.max(x.rank, 1));
});
