// summarize imported as summ and called in traced scope.
import { fn, type Tensor } from "symtensor";
import { summarize as summ } from "./h.js";

export const f = fn((x: Tensor) => {
  const s = summ(x);
  return x.mul(s.length);
});
