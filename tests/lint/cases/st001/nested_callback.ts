// ST001: a callback nested inside a traced function is traced scope too.
import { fn, type Tensor } from "symtensor";

export const f = fn((xs: Tensor[]) => {
  const values = xs.map((t) => t.item()); // expect: ST001
  return values.length;
});
