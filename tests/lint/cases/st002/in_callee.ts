// ST002 in a function reached from traced code.
import { fn, type Tensor } from "symtensor";

function toScalar(t: Tensor): number {
  return Number(t); // expect: ST002
}

export const f = fn((x: Tensor) => x.mul(toScalar(x.reduceMean())));
