// ST002: bitwise operators with a tensor operand.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const a = (x as unknown as number) | 0; // expect: ST002
  const b = (x as unknown as number) & 1; // expect: ST002
  const c = 1 << (x as unknown as number); // expect: ST002
  return x.mul(a + b + c);
});
