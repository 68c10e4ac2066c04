// ST005: if on a tensor in traced scope.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  if (x.greater(0)) { // expect: ST005
    return x;
  }
  return x.neg();
});
