// ST002: the linter looks through parentheses, `as`, `satisfies` and `!` to find the tensor.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor, y?: Tensor) => {
  const a = ((x) as unknown as number) * 2; // expect: ST002
  const b = ((x satisfies Tensor) as unknown as number) * 2; // expect: ST002
  const c = (y! as unknown as number) * 2; // expect: ST002
  return x.mul(a + b + c);
});
