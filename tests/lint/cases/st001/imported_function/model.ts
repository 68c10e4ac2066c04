// ST001 in a function that another file passes to fn.
import type { Tensor } from "symtensor";

export function predict(x: Tensor): Tensor {
  const host = x.numpy(); // expect: ST001
  return x.mul(host.size);
}
