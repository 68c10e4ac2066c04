// ST005: !t and !!t test truthiness.
import { fn, tensor, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const none = !x; // expect: ST005
  return x.mul(none ? 0 : 1);
});

const t = tensor([0]);
export const isSet = !!t; // expect: ST005
