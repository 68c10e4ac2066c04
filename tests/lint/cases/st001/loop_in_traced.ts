// ST001 (not ST101): a conversion in a loop inside traced scope is an error, not a perf warning.
import { fn, type Tensor } from "symtensor";

export const f = fn((xs: Tensor[]) => {
  let n = 0;
  for (const t of xs) {
    n += t.numpy().size; // expect: ST001
  }
  return n;
});
