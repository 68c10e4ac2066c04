// No diagnostics: ?? tests for null/undefined, not truthiness.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor, bias?: Tensor) => {
  const b = bias ?? x;
  return x.add(b);
});
