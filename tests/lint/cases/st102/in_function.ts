// ST102: fn(...) inside a function body creates a new traced function per call.
import { fn, type Tensor } from "symtensor";

export function makeStep(lr: number) {
  return fn((x: Tensor) => x.mul(lr)); // expect: ST102
}
