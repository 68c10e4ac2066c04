// ST003 in a function reached from traced code.
import { fn, stack, type Tensor } from "symtensor";

function rowsOf(t: Tensor): Tensor[] {
  return [...t]; // expect: ST003
}

export const f = fn((x: Tensor) => stack(rowsOf(x)));
