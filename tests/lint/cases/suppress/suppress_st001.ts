// The comment suppresses ST001 on the next line only.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  // symtensor-disable-next-line ST001 -- shape probe during a one-off debugging session
  const a = x.numpy();
  const b = x.item(); // expect: ST001
  return [a, b];
});
