// ST001: fn with an options object as the second argument.
import { fn, type Tensor } from "symtensor";

export const f = fn(
  (x: Tensor) => x.exp().numpy(), // expect: ST001
  { name: "expToHost" },
);
