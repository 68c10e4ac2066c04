// ST002: Number(t) in traced scope.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const n = Number(x.reduceSum()); // expect: ST002
  return x.mul(n);
});
