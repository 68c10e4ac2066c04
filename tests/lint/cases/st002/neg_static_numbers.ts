// No diagnostics: arithmetic on static numbers (shapes, sizes, JS arguments) while tracing.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor, lr: number) => {
  const half = x.shape[0]! / 2;
  const scaled = lr * 2 - 1;
  const bigger = x.size >= 10 && x.rank < 3;
  const m = Math.max(x.size, 1) + parseFloat("1.5") + Number(lr);
  return x.mul(half + scaled + m + (bigger ? 1 : 0));
});
