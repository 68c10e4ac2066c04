// ST102: fn(...) inside a while loop.
import { fn, type Tensor } from "symtensor";

let i = 0;
export const made: unknown[] = [];
while (i < 2) {
  made.push(fn((x: Tensor) => x.add(1))); // expect: ST102
  i++;
}
