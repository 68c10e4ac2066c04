// No diagnostics: iterating an eager tensor outside traced code is allowed.
import { tensor, type Tensor } from "symtensor";

const t = tensor([[1, 2], [3, 4]]);
const rows: Tensor[] = [];
for (const r of t) rows.push(r);
export const spread = [...t];
export const copies = Array.from(t);
export { rows };
