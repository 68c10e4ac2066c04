// ST005: do-while condition.
import { type Tensor } from "symtensor";

export function spin(t: Tensor): number {
  let n = 0;
  do {
    n++;
  } while (t && n < 3); // expect: ST005
  return n;
}
