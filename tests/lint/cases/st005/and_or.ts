// ST005: && and || use the left operand's truthiness, also when the result is a value.
import { fn, tensor, type Tensor } from "symtensor";

export const f = fn((x: Tensor, y: Tensor) => {
  const a = x && y; // expect: ST005
  const b = x.isNaN() || y; // expect: ST005
  return a.add(b);
});

const t = tensor([1]);
export const either = t || tensor([2]); // expect: ST005
