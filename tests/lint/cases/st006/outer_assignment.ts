// ST006: assigning a module-level variable from traced code (here it also leaks a tracer).
import { fn, type Tensor } from "symtensor";

export let lastInput: Tensor | undefined;
let calls = 0;

export const f = fn((x: Tensor) => {
  lastInput = x; // expect: ST006
  calls += 1; // expect: ST006
  return x.mul(calls);
});
