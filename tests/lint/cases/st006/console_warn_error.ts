// ST006: other console methods.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  console.warn("slow path"); // expect: ST006
  console.error(`x is ${x}`); // expect: ST006
  return x.abs();
});
