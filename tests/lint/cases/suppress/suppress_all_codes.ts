// A comment without codes suppresses every code on the next line.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  // symtensor-disable-next-line
  console.log(x.item(), Number(x));
  console.log(x.tolist()); // expect: ST001, ST006
  return x;
});
