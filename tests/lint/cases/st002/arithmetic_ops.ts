// ST002: arithmetic operators with a tensor operand (casts only for type-checking; the linter
// looks through `as` and parentheses).
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor, y: Tensor) => {
  const a = (x as unknown as number) * 2; // expect: ST002
  const b = 1 / (x as unknown as number); // expect: ST002
  const c = (x as unknown as number) % 3; // expect: ST002
  const d = (x as unknown as number) - (y as unknown as number); // expect: ST002
  const e = (x as unknown as number) ** 2; // expect: ST002
  const g = (x as unknown as number) + 1; // expect: ST002
  return [a, b, c, d, e, g];
});
