// ST002: unary + on a tensor.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const n = +x; // expect: ST002
  return x.mul(n);
});
