// No diagnostics: a function that converts tensors but is never traced (nor called from traced code).
import { fn, type Tensor } from "symtensor";

export function report(t: Tensor): string {
  return JSON.stringify(t.tolist()) + String(t.numpy().size);
}

export const f = fn((x: Tensor) => x.exp());
