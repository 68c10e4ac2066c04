// ST003: for-of over a tensor in traced scope.
import { fn, stack, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const rows: Tensor[] = [];
  for (const row of x) { // expect: ST003
    rows.push(row.exp());
  }
  return stack(rows);
});
