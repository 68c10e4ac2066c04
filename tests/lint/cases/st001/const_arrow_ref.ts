// ST001: a const holding an arrow function, passed to fn by name.
import { fn, type Tensor } from "symtensor";

const scale = (x: Tensor): Tensor => {
  const arr = x.numpy(); // expect: ST001
  return x.mul(arr.size);
};

export const traced = fn(scale);
