// No diagnostics: a local function named fn is not symtensor's fn.
import { type Tensor } from "symtensor";

function fn<F>(f: F): F {
  return f;
}

export const f = fn((x: Tensor) => x.numpy());
