// No diagnostics: the right way: ops instead of JS operators.
import { fn, greater, maximum, where, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const pos = greater(x, 0);
  const clipped = maximum(x, 1);
  return where(pos, x.mul(2), clipped.neg());
});
