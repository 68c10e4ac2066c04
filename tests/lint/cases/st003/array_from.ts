// ST003: Array.from(t).
import { fn, stack, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const rows = Array.from(x); // expect: ST003
  return stack(rows);
});
