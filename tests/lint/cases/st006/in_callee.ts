// ST006 in functions reached from traced code: a log and an outer counter.
import { fn, type Tensor } from "symtensor";

let helperCalls = 0;

function logShape(t: Tensor): void {
  console.log(t.shape); // expect: ST006
}

function countCall(): number {
  helperCalls++; // expect: ST006
  return helperCalls;
}

export const f = fn((x: Tensor) => {
  logShape(x);
  return x.mul(countCall());
});
