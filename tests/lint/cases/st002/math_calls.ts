// ST002: Math.* functions called with a tensor argument.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const a = Math.max(x as unknown as number, 1); // expect: ST002
  const b = Math.abs(x.reduceSum() as unknown as number); // expect: ST002
  const c = Math.exp(x as unknown as number); // expect: ST002
  return x.mul(a + b + c);
});
