// ST006: performance.now() while tracing.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const start = performance.now(); // expect: ST006
  return x.mul(start > 0 ? 1 : 2);
});
