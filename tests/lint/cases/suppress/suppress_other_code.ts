// A suppression for a different code does not hide ST001.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  // symtensor-disable-next-line ST006 -- wrong code on purpose
  const a = x.numpy(); // expect: ST001
  return a;
});
