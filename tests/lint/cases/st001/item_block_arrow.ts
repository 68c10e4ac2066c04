// ST001: .item() of a value computed inside traced scope.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const total = x.reduceSum().item(); // expect: ST001
  return x.mul(total as number);
});
