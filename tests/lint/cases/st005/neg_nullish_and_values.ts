// No diagnostics: ??, explicit undefined checks, conditions on converted values and static fields,
// and a tensor as the right operand of && (its truthiness is not tested).
import { tensor, type Tensor } from "symtensor";

export function choose(t: Tensor | undefined, fallback: Tensor, useIt: boolean): Tensor {
  const a = t ?? fallback;
  if (t !== undefined && t.size > 0) return a;
  const b = useIt && fallback;
  return b === false ? fallback : b;
}

const flag = tensor(true);
if (flag.item()) console.log("set");
export const big = flag.size > 1 ? "big" : "small";
