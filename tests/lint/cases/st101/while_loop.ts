// ST101: in while and do-while loops.
import { type Tensor } from "symtensor";

export function poll(t: Tensor): number {
  let i = 0;
  let last = 0;
  while (i < 3) {
    last = t.item() as number; // expect: ST101
    i++;
  }
  do {
    last += t.numpy().size; // expect: ST101
    i--;
  } while (i > 0);
  return last;
}
