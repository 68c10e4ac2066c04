// ST001: a tensor bound by destructuring a traced function's parameter.
import { fn, type Tensor } from "symtensor";

export const f = fn(({ w, b }: { w: Tensor; b: Tensor }) => {
  const host = w.numpy(); // expect: ST001
  return b.mul(host.size);
});
