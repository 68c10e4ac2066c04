// ST001: a parameter typed Tensor | undefined is a tensor expression (non-null assertion and
// optional call included: the linter looks through `!`).
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor, bias?: Tensor) => {
  const b = bias!.numpy(); // expect: ST001
  const c = bias?.item(); // expect: ST001
  return x.add(b.size).add(Number(c));
});
