// ST001: fn(step) where step is a function declaration (declared after use is fine).
import { fn, type Tensor } from "symtensor";

export const traced = fn(step);

function step(x: Tensor): Tensor {
  const v = x.item(); // expect: ST001
  return x.add(v as number);
}
