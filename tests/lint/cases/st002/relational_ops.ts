// ST002: relational operators with a tensor operand.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const s = x.reduceSum() as unknown as number;
  const a = (x as unknown as number) < 0; // expect: ST002
  const b = 0 > (x.reduceMax() as unknown as number); // expect: ST002
  const c = (x as unknown as number) <= 1; // expect: ST002
  const d = (x as unknown as number) >= 1; // expect: ST002
  return [a, b, c, d, s];
});
