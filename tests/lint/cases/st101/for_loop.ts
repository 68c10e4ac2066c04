// ST101: a host conversion in the body of a classic for loop in eager code.
import { tensor } from "symtensor";

const ts = [tensor([1]), tensor([2])];
export const values: number[] = [];
for (let i = 0; i < ts.length; i++) {
  values.push(ts[i]!.item() as number); // expect: ST101
}
