// ST102: fn(...) inside a loop body at module level.
import { fn, type Tensor } from "symtensor";

export const scalers: Array<(x: Tensor) => Tensor> = [];
for (const k of [1, 2, 3]) {
  scalers.push(fn((x: Tensor) => x.mul(k))); // expect: ST102
}
