// ST005 in a function reached from traced code.
import { fn, type Tensor } from "symtensor";

function pick(a: Tensor, b: Tensor): Tensor {
  return a.greater(b) ? a : b; // expect: ST005
}

export const f = fn((x: Tensor, y: Tensor) => pick(x, y));
