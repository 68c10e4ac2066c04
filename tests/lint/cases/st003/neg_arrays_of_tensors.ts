// No diagnostics: iterating arrays of tensors (unstack, parameters, shapes) is fine while tracing.
import { fn, stack, unstack, type Tensor } from "symtensor";

export const f = fn((x: Tensor, extra: Tensor[]) => {
  const out: Tensor[] = [];
  for (const r of unstack(x)) out.push(r.exp());
  for (const e of extra) out.push(e);
  const all = [...out, ...extra];
  const dims = Array.from(x.shape);
  for (const d of x.shape) dims.push(d);
  return stack(all.slice(0, dims.length));
});
