// ST002: parseFloat / parseInt of a tensor.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const a = parseFloat(x as unknown as string); // expect: ST002
  const b = parseInt(x as unknown as string, 10); // expect: ST002
  return x.mul(a + b);
});
