// ST005: a tensor as the condition of a conditional expression, traced and eager.
import { fn, tensor, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => (x.reduceSum() ? x : x.neg())); // expect: ST005

const flag = tensor(true);
export const chosen = flag ? "yes" : "no"; // expect: ST005
