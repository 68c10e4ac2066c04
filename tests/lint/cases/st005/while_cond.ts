// ST005: while condition.
import { type Tensor } from "symtensor";

export function drain(t: Tensor): number {
  let n = 0;
  while (t.notEqual(0)) { // expect: ST005
    n++;
    if (n > 10) break;
  }
  return n;
}
