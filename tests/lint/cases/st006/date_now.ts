// ST006: Date.now() and new Date() while tracing.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const t0 = Date.now(); // expect: ST006
  const stamp = new Date(); // expect: ST006
  return x.add(t0 % 2).add(stamp.getSeconds());
});
