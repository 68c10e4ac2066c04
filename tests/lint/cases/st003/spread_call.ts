// ST003: spreading a tensor into call arguments.
import { fn, stack, type Tensor } from "symtensor";

function collect(...rows: Tensor[]): Tensor[] {
  return rows;
}

export const f = fn((x: Tensor) => {
  const rows = collect(...x); // expect: ST003
  return stack(rows);
});
