// ST006: ++ / -- on an outer counter.
import { fn, type Tensor } from "symtensor";

let traces = 0;
let budget = 10;

export const f = fn((x: Tensor) => {
  traces++; // expect: ST006
  --budget; // expect: ST006
  return x.mul(traces + budget);
});
