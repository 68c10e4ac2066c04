// ST001 in callees in the same file: a function declaration and a const arrow, two levels deep.
import { fn, type Tensor } from "symtensor";

function inner(t: Tensor): number {
  return t.item() as number; // expect: ST001
}

const middle = (t: Tensor): number => {
  const host = t.numpy(); // expect: ST001
  return host.size + inner(t);
};

export const outer = fn((x: Tensor) => x.mul(middle(x.reduceSum())));
