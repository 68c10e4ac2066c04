// Several comma-separated codes in one comment.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  // symtensor-disable-next-line ST001, ST006 -- trace-time report, on purpose
  console.log(x.item());
  return x;
});
