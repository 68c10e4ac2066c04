// ST005: the condition of a for statement.
import { type Tensor } from "symtensor";

export function count(t: Tensor): number {
  let n = 0;
  for (; t; ) { // expect: ST005
    n++;
    break;
  }
  return n;
}
