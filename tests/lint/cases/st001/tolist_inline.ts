// ST001: .tolist() in an inline arrow.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const rows = x.tolist(); // expect: ST001
  return rows;
});
