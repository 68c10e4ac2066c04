// No diagnostics: a different function named fn in a loop and a function body.
import { type Tensor } from "symtensor";

const lib = {
  fn<F>(f: F): F {
    return f;
  },
};

export function wrap() {
  return lib.fn((x: Tensor) => x.exp());
}

for (let i = 0; i < 2; i++) lib.fn(() => i);
