// No diagnostics: string coercion describes a tensor, also while tracing.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const label = `x is ${x}`;
  const again = String(x);
  const text = x.toString();
  return { x, label, again, text };
});
