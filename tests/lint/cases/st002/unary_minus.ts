// ST002: unary - on a tensor (the cast only makes it type-check; the linter looks through `as`).
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const n = -(x as unknown as number); // expect: ST002
  return x.mul(n);
});
