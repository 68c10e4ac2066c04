// No diagnostics: conversions in plain eager code, outside any loop and any traced function.
import { tensor } from "symtensor";

const t = tensor([1, 2, 3]);
export const host = t.numpy();
export const first = t.reduceSum().item();
export const rows = t.tolist();

export function describe(): string {
  return JSON.stringify(t.tolist());
}
