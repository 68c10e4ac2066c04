// ST001: a named function expression passed to fn.
import { fn, type Tensor } from "symtensor";

export const f = fn(function predict(x: Tensor) {
  const host = x.numpy(); // expect: ST001
  return host.shape;
});
