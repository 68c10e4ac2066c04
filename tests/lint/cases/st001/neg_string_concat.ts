// No diagnostics: + with a string operand is concatenation (it describes the tensor).
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor, name: string) => {
  const a = "x = " + x;
  const b = x + "!";
  const c = name + x;
  return [a, b, c];
});
