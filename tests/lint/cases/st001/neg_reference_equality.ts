// No diagnostics: == and === compare references; they do not convert the tensor.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor, y: Tensor) => {
  const same = x === y;
  const loose = x == y;
  const differ = x !== y;
  return same || loose || differ ? x : y;
});
