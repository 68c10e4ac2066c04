// Suppressing one of two codes on a line keeps the other.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  // symtensor-disable-next-line ST006 -- logging at trace time is intended
  console.log(x.item()); // expect: ST001
  return x;
});
