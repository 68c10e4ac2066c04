// ST101: in a for-of loop inside an eager function.
import { type Tensor } from "symtensor";

export function sumAll(ts: Tensor[]): number {
  let total = 0;
  for (const t of ts) {
    total += t.numpy().size; // expect: ST101
  }
  return total;
}
